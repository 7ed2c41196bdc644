"""Print the latest results (``bench/results/*.json``) as Markdown: figures, ratios, targets, machine.

.venv/bin/python -m bench.report
"""

from __future__ import annotations

import json

from bench.harness import RESULTS_DIR


def _load(name: str) -> dict | None:
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _yes(ok: bool) -> str:
    return "met" if ok else "**not met**"


def sync(r: dict) -> list[str]:
    full, inc, mem, t = r["full"], r["incremental"], r["memory"], r["targets"]
    growth = ", ".join(f"{g['pages']} pages: {g['queries']}" for g in r["query_growth"])
    return [
        "### 1-2. Full and incremental sync (`bench.sync`)",
        "",
        "| figure | value | baseline (same run) | ratio | target |",
        "|---|---|---|---|---|",
        f"| full sync, {full['last_run']['events']} listed events, {full['pages']} pages (median of "
        f"{full['rounds']}) | {full['full_sync_median_s']:.2f} s = {full['events_per_second']:.0f} events/s "
        f"| fetch + parse {full['baseline_median_s']:.2f} s | {full['ratio_to_baseline']:.1f}x "
        f"| <= 2x: {_yes(t['full_sync_at_most_2x_baseline'])} |",
        f"| full sync against fetch + parse + PostgreSQL storing the same rows alone (COPY) | "
        f"{full['full_sync_median_s']:.2f} s | {full['baseline_median_s']:.2f} + {full['store_floor_median_s']:.2f} s "
        f"| {full['ratio_to_fetch_plus_store_floor']:.1f}x | |",
        f"| provider layer (Google client + mapping + rules, no DB) | {full['provider_layer_median_s']:.2f} s "
        f"| fetch + parse | {full['provider_layer_median_s'] / full['baseline_median_s']:.1f}x | |",
        f"| queries, full sync | {full['last_run']['queries']} ({growth}); per extra page "
        f"{r['queries_per_extra_page']} | | | grow with pages: {_yes(t['queries_grow_with_pages_not_events'])} |",
        f"| same full sync again, nothing changed | {full['unchanged_full_sync']['seconds']:.2f} s, "
        f"{full['unchanged_full_sync']['queries']} queries, {full['unchanged_full_sync']['upserted']} writes | | | |",
        f"| peak memory | process peak RSS {mem['process_peak_rss_mb']:.0f} MB; tracemalloc peak during the "
        f"sync {mem['tracemalloc_peak_mb']:.0f} MB | | | < 300 MB: {_yes(t['peak_memory_under_300_mb'])} |",
        f"| incremental sync of one moved event ({inc['changes']} changes) | p50 {inc['p50_ms']:.1f} ms, "
        f"p95 {inc['p95_ms']:.1f} ms | raw fetch of the same page {inc['baseline_p50_ms']:.1f} ms "
        f"| {inc['ratio_to_baseline']:.1f}x | |",
        f"| incremental: API calls / queries (max) | {inc['api_calls_max']} / {inc['queries_max']} | | "
        f"| <= 2 / <= 15: {_yes(t['incremental_at_most_2_api_calls'] and t['incremental_at_most_15_queries'])} |",
        *_sync_read_ahead(r),
    ]


def _sync_read_ahead(r: dict) -> list[str]:
    """Issue 17's figures (read-ahead, latency, Microsoft), when the result has them."""
    full, t, lat = r["full"], r["targets"], r.get("latency")
    if lat is None:
        return []
    inc = r["incremental"]
    lines = [
        "",
        "| figure (issue 17) | value | baseline (same run) | ratio | target |",
        "|---|---|---|---|---|",
        f"| Google full sync, no added latency | {full['full_sync_median_s']:.2f} s (without read-ahead "
        f"{full['without_read_ahead_median_s']:.2f} s) | fetch + parse {full['baseline_median_s']:.2f} s "
        f"| {full['ratio_to_baseline']:.1f}x | <= 3x: {_yes(t['full_sync_at_most_3x_baseline'])} |",
        f"| Google full sync, {lat['latency_s'] * 1000:.0f} ms per listing page, {lat['pages']} pages "
        f"| {lat['full_sync_median_s']:.2f} s (without read-ahead {lat['without_read_ahead_s']:.2f} s = "
        f"{lat['without_read_ahead_ratio']:.2f}x) | fetch of the same pages {lat['fetch_median_s']:.2f} s "
        f"| {lat['ratio_to_fetch']:.2f}x | <= 1.2x: {_yes(t['full_sync_with_latency_at_most_1_2x_fetch'])} |",
        f"| Google incremental sync of one moved event | p50 {inc['p50_ms']:.1f} ms | raw fetch "
        f"{inc['baseline_p50_ms']:.1f} ms | {inc['ratio_to_baseline']:.1f}x "
        f"| <= 3x: {_yes(t['incremental_at_most_3x_raw_fetch'])} |",
    ]
    ms = r.get("microsoft")
    if ms:
        mf, ml, mi = ms["full"], ms["latency"], ms["incremental"]
        lines += [
            f"| Microsoft full sync (calendarView/delta, page size {ms['page_size']}, {mf['pages']} pages, "
            f"{mf['listed_items']} items) | {mf['full_sync_median_s']:.2f} s (without read-ahead "
            f"{mf['without_read_ahead_median_s']:.2f} s) | fetch + parse {mf['baseline_median_s']:.2f} s "
            f"| {mf['ratio_to_baseline']:.1f}x | <= 3x: {_yes(t['microsoft_full_sync_at_most_3x_baseline'])} |",
            f"| Microsoft full sync, {ml['latency_s'] * 1000:.0f} ms per listing page "
            f"| {ml['full_sync_median_s']:.2f} s "
            f"(without read-ahead {ml['without_read_ahead_s']:.2f} s = {ml['without_read_ahead_ratio']:.2f}x) "
            f"| fetch of the same pages {ml['fetch_median_s']:.2f} s | {ml['ratio_to_fetch']:.2f}x "
            f"| <= 1.2x: {_yes(t['microsoft_full_sync_with_latency_at_most_1_2x_fetch'])} |",
            f"| Microsoft incremental sync of one moved event | p50 {mi['p50_ms']:.1f} ms (API calls "
            f"{mi['api_calls_max']}, queries {mi['queries_max']}, max) "
            f"| raw fetch of the delta link {mi['baseline_p50_ms']:.1f} ms "
            f"| {mi['ratio_to_baseline']:.1f}x | <= 3x: {_yes(t['microsoft_incremental_at_most_3x_raw_fetch'])} |",
        ]
    return lines


def watch(r: dict) -> list[str]:
    t, b, c = r["targets"], r["burst"], r.get("in_process_ms", {})
    p = r["parameters"]
    lines = [
        "### 3. Watch endpoint under load (`bench.watch`)",
        "",
        f"gunicorn, {p['workers']} sync workers; wrk, 1 thread, {p['connections']} connections, "
        f"{p['seconds']} s per phase, {p['rounds']} rounds alternating.",
        "",
        "| figure | watch endpoint | bare view (same server) | ratio | target |",
        "|---|---|---|---|---|",
        f"| requests/s (median) | {r['watch_rps_median']:.0f} | {r['bare_rps_median']:.0f} | {r['rps_ratio']:.0%} "
        f"| >= 60%: {_yes(t['throughput_at_least_60pct_of_bare'])} |",
        f"| p50 latency | {r['watch_p50_ms']:.1f} ms | {r['bare_p50_ms']:.1f} ms "
        f"| {r['watch_p50_ms'] / r['bare_p50_ms']:.1f}x | |",
        f"| p99 latency (worst phase) | {r['watch_p99_ms']:.1f} ms | {r['bare_p99_ms']:.1f} ms "
        f"| {r['watch_p99_ms'] / r['bare_p99_ms']:.1f}x | < 50 ms: {_yes(t['p99_under_50ms'])} |",
        f"| burst: {b['notifications']} notifications in {b['seconds']:.1f} s | {b['syncs']} syncs | | "
        f"| <= 2: {_yes(t['burst_at_most_2_syncs'])} |",
    ]
    if c:
        lines.append(
            f"| in-process, one request (ms) | notification {c['notification']:.2f} (channel query "
            f"{c['channel_query']:.2f}, one cache operation {c['cache_operation']:.2f}) | {c['bare_view']:.2f} "
            f"| {c['notification'] / c['bare_view']:.0f}x | |"
        )
    low = r.get("low_concurrency")
    if low:
        lw, lb = low["watch"], low["bare"]
        lines.append(
            f"| at {p['low_connections']} connections: requests/s, p50, p99 | {lw['rps']:.0f}, "
            f"{lw['p50_us'] / 1000:.1f} ms, {lw['p99_us'] / 1000:.1f} ms | "
            f"{lb['rps']:.0f}, {lb['p50_us'] / 1000:.1f} ms, "
            f"{lb['p99_us'] / 1000:.1f} ms | {lw['rps'] / lb['rps']:.0%} | |"
        )
    syncs = [f.get("syncs", 0) for f in r["phases"]["watch"]]
    lines.append(f"| syncs caused by each load phase | {syncs} | | | |")
    lines += _watch_extras(r)
    return lines


def _watch_extras(r: dict) -> list[str]:
    """CPU per request, p99 against the bare view's, nothing lost (results from before these lack them)."""
    t, lines = r["targets"], []
    if "watch_cpu_ms_per_request" in r:
        cw, cb = r["watch_cpu_ms_per_request"], r["bare_cpu_ms_per_request"]
        lines.append(f"| gunicorn CPU per request (median) | {cw:.2f} ms | {cb:.2f} ms | {cw / cb:.2f}x | |")
    if "p99_within_1_5x_of_bare" in t:
        lines.append(
            f"| p99 against the bare view's (worst phases) | {r['watch_p99_ms']:.1f} ms | {r['bare_p99_ms']:.1f} ms "
            f"| {r['watch_p99_ms'] / r['bare_p99_ms']:.2f}x | <= 1.5x: {_yes(t['p99_within_1_5x_of_bare'])} |"
        )
    if "nothing_lost" in t:
        lines.append(
            "| nothing lost: each phase's and the burst's last sync began after its last notification "
            f"| {[f.get('covered') for f in r['phases']['watch']]}, burst {r['burst'].get('covered')} | | "
            f"| {_yes(t['nothing_lost'])} |"
        )
    return lines


def watch_microsoft(r: dict) -> list[str]:
    t, b, p = r["targets"], r["burst"], r["parameters"]
    return [
        "### 3b. Graph change notifications under load (`bench.watch_microsoft`)",
        "",
        f"gunicorn, {p['workers']} sync workers; wrk, 1 thread, {p['connections']} connections, "
        f"{p['seconds']} s per phase, {p['rounds']} rounds alternating; one `updated` item per POST.",
        "",
        "| figure | watch endpoint | bare view (same server) | ratio | target |",
        "|---|---|---|---|---|",
        f"| requests/s (median) | {r['watch_rps_median']:.0f} | {r['bare_rps_median']:.0f} | {r['rps_ratio']:.0%} "
        f"| >= 60%: {_yes(t['throughput_at_least_60pct_of_bare'])} |",
        f"| p50 latency | {r['watch_p50_ms']:.1f} ms | {r['bare_p50_ms']:.1f} ms "
        f"| {r['watch_p50_ms'] / r['bare_p50_ms']:.1f}x | |",
        f"| burst: {b['notifications']} notifications in {b['seconds']:.1f} s | {b['syncs']} syncs | | "
        f"| <= 2: {_yes(t['burst_at_most_2_syncs'])} |",
        f"| syncs caused by each load phase | {[f.get('syncs', 0) for f in r['phases']['watch']]} | | | |",
        f"| errors (wrk phases, burst statuses) | {[f['errors'] for f in r['phases']['watch']]}, {b['statuses']} "
        f"| | | none: {_yes(t['no_errors'])} |",
        *_watch_extras(r),
    ]


def freshness(r: dict) -> list[str]:
    return [
        "### 4. Freshness (`bench.freshness`)",
        "",
        "| figure | value | baseline (same run) | ratio | target |",
        "|---|---|---|---|---|",
        f"| change at Google -> blocked time in the API, {len(r['samples_s'])} changes, {r['missed']} missed "
        f"| p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, max {r['max_ms']:.0f} ms "
        f"| tell the emulator + one API request {r['baseline_p50_ms']:.1f} ms | {r['ratio_to_baseline']:.1f}x (p50) "
        f"| p95 < 2 s: {_yes(r['targets']['p95_under_2s'])} |",
        f"| syncs / notifications delivered | {r['syncs']} / {r['notifications_delivered']} "
        f"({r['failed_syncs']} failed) | | | |",
    ]


def availability(r: dict) -> list[str]:
    f = r["figures"]
    p = r["parameters"]
    return [
        "### 5. Availability (`bench.availability`)",
        "",
        f"{p['blocks']} blocked times over {p['days']} days ({r['free_slots']} free 30-minute slots), "
        f"{p['runs']} runs each, interleaved.",
        "",
        "| figure | p50 | p95 | baseline (same run), p50 | ratio | target |",
        "|---|---|---|---|---|---|",
        f"| selector `availability_slots` | {f['selector']['p50_ms']:.1f} ms | {f['selector']['p95_ms']:.1f} ms "
        f"| the busy rows read {f['busy_rows']['p50_ms']:.1f} ms | {r['selector_ratio_to_busy_rows']:.1f}x | |",
        f"| `GET .../availability` over HTTP | {f['http']['p50_ms']:.1f} ms | {f['http']['p95_ms']:.1f} ms "
        f"| bare view {f['bare']['p50_ms']:.1f} ms | {r['http_ratio_to_bare']:.1f}x "
        f"| p95 < 50 ms: {_yes(r['targets']['p95_under_50ms'])} |",
    ]


def live_poll(r: dict) -> list[str]:
    o, c = r["open_pages"], r["capacity"]
    return [
        "### 6. The week view's live poll (`bench.live_poll`)",
        "",
        "| figure | value | baseline (same run) | ratio |",
        "|---|---|---|---|",
        f"| {o['pages']} open pages, one poll a second each | {o['polls_per_second']:.0f} polls/s served, "
        f"web CPU {o['web_cpu_share_of_one_core']:.2f} of a core ({o['web_cpu_ms_per_poll']:.2f} ms/poll) | | |",
        f"| change seen after the bump | p50 {o['change_seen_p50_s']:.2f} s, p99 {o['change_seen_p99_s']:.2f} s "
        f"| target 2 s | |",
        f"| poll answered 304 | {c['poll_304']['rps']:.0f} req/s, {c['poll_304']['web_cpu_ms_per_request']:.2f} ms CPU "
        f"| bare view {c['bare_view']['rps']:.0f} req/s | {c['poll_to_bare_ratio']:.2f}x |",
        f"| re-fetching the week page instead | {c['week_page']['rps']:.0f} req/s, "
        f"{c['week_page']['web_cpu_ms_per_request']:.1f} ms CPU | poll | {c['poll_to_week_page_ratio']:.1f}x dearer |",
    ]


def caldav(r: dict) -> list[str]:
    i, p, h, t = r["initial"], r["poll"], r["horizon_roll"], r["targets"]
    return [
        "### 7. CalDAV against Radicale (`bench.caldav`)",
        "",
        "| figure | value | baseline (same run) | ratio | target |",
        "|---|---|---|---|---|",
        f"| unchanged poll: HTTP requests / queries | {p['requests_max']} ({', '.join(p['requests'])}) / "
        f"{p['queries_max']}; {p['runs_recorded']} sync runs recorded | | | 1 / <= 3: "
        f"{_yes(t['poll_one_request'] and t['poll_at_most_3_queries'])} |",
        f"| unchanged poll: product CPU (`process_time`) | p50 {p['cpu_ms_p50']:.2f} ms, p95 {p['cpu_ms_p95']:.2f} ms "
        f"(wall p50 {p['wall_ms_p50']:.1f} ms) | the same PROPFIND with requests, wall "
        f"{p['raw_propfind_ms_p50']:.1f} ms "
        f"| | < 5 ms: {_yes(t['poll_under_5ms_cpu'])} |",
        f"| initial sync, {i['objects']} objects ({r['parameters']['series']} series; {i['events_listed']} occurrences,"
        f" {i['blocks']} blocks; {i['requests']} requests), median of {r['parameters']['rounds']} "
        f"| {i['median_s']:.2f} s | Radicale serving the same REPORTs to requests {i['baseline_median_s']:.2f} s "
        f"| {i['ratio_to_baseline']:.1f}x | <= 2x: {_yes(t['initial_at_most_2x_baseline'])} |",
        f"| horizon roll (re-expanding the stored objects) | {h['median_s']:.2f} s, {h['requests_max']} requests | | "
        f"| 0 requests: {_yes(t['horizon_roll_no_requests'])} |",
    ]


def scale(r: dict) -> list[str]:
    small, big = r["sizes"][0], r["sizes"][-1]
    sp, t = r["spread"], r["targets"]
    names = [
        ("due", "due: CalDAV polls + safety net (`calendars_due`, minute tick)"),
        ("due_for_renewal", "renewals due (`watch_channels_due_for_renewal`, minute tick)"),
        ("due_tenth", "`calendars_due`, a tenth as many due (6 s window)"),
        ("due_for_poll_filtered", "CalDAV only, joined with connections (`calendars_due_for_poll`, tools)"),
        ("hourly_without_channel", "missing channels (`calendars_without_channel`, hourly)"),
        ("daily_horizon_roll", "horizon roll (`calendars_due_for_horizon_roll`, daily)"),
        ("previous_due_for_poll", "before: Max over sync runs per CalDAV calendar, filtered in Python"),
    ]
    seeds = [size["seed"] for size in r["sizes"]]
    totals = {k: sum(seed["selected_calendars"][k] for seed in seeds) for k in seeds[0]["selected_calendars"]}
    shares = ", ".join(f"{k} {v:,}" for k, v in totals.items())
    runs_total = sum(seed["sync_runs"] for seed in seeds)
    channels_total = sum(seed["channels"] for seed in seeds)
    sizes = f"{small['calendars']:,} calendars: rows, p50 | {big['calendars']:,} calendars: rows, p50"
    net = sp["safety_net_after_mass_sync_per_minute"]
    lines = [
        "### 8. Scale model (`bench.scale`)",
        "",
        f"{big['calendars']:,} selected calendars ({shares}), {channels_total:,} channels, {runs_total:,} sync "
        f"runs (a tenth of each at the first size); medians of {r['parameters']['runs']} runs, each in a "
        "rolled-back transaction.",
        "",
        f"| selection | {sizes} | target |",
        "|---|---|---|---|",
    ]
    for key, label in names:
        a, b = small["selections"][key], big["selections"][key]
        target = "< 50 ms" if key in ("due", "due_for_renewal") else ""
        lines.append(
            f"| {label} | {a['due']:,}, {a['p50_ms']:.1f} ms | {b['due']:,}, {b['p50_ms']:.1f} ms | {target} |"
        )
    lines.append(
        f"| minute-tick selections at {big['calendars']:,} | | | < 50 ms: {_yes(t['minute_selections_under_50ms'])} |"
    )
    rn, rp = sp["renewals_new"], sp["renewals_previous"]
    lines += [
        "",
        "| spread | buckets | mean | max | max / mean | target |",
        "|---|---|---|---|---|---|",
        f"| CalDAV polls over the 5-minute interval, per 10 s | 30 | {sp['caldav_polls_per_10s']['mean']:.1f} | "
        f"{sp['caldav_polls_per_10s']['max']} | {sp['caldav_polls_per_10s']['max_to_mean']:.2f} | "
        f"{_yes(t['caldav_polls_spread'])} |",
        f"| safety net after every push calendar synced at once, per minute | 90 | "
        f"{net['mean']:.1f} | {net['max']} | {net['max_to_mean']:.2f} | |",
        f"| renewals, `renew_at` + minute tick, days 2-7 ({rn['total']:,} in 7 days), per minute | "
        f"{rn['days_2_to_7']['buckets']:,} | {rn['days_2_to_7']['mean']:.1f} | {rn['days_2_to_7']['max']} | "
        f"{rn['days_2_to_7']['max_to_mean']:.2f} | <= 2: {_yes(t['renewals_no_minute_over_2x_mean'])} |",
        f"| the same, first day | 1,440 | {rn['first_day']['mean']:.1f} | {rn['first_day']['max']} | "
        f"{rn['first_day']['max_to_mean']:.2f} | |",
        f"| before: a day ahead of expiry, hourly tick, days 2-7 ({rp['total']:,}) | "
        f"{rp['days_2_to_7']['buckets']:,} | "
        f"{rp['days_2_to_7']['mean']:.1f} | {rp['days_2_to_7']['max']} | {rp['days_2_to_7']['max_to_mean']:.1f} | |",
    ]
    return lines


def booking(r: dict) -> list[str]:
    p = r["parameters"]
    lines = [
        "### 10. Booking with the live check (`bench.booking`)",
        "",
        f"{p['runs']} public bookings on each server per round, interleaved, one at a time over HTTP; Google "
        "connected; the deadline `BOOKING_LIVE_CHECK_SECONDS` is 2 s.",
        "",
        "| freeBusy answers after | with the live check p50 / p95 | without (baseline, same run) p50 / p95 "
        "| cost p50 / p95 | ratio (p50) |",
        "|---|---|---|---|---|",
    ]
    for latency, round_ in r["rounds"].items():
        f = round_["figures"]
        lines.append(
            f"| {latency} ms | {f['with_live_check']['p50_ms']:.1f} / {f['with_live_check']['p95_ms']:.1f} ms "
            f"| {f['without']['p50_ms']:.1f} / {f['without']['p95_ms']:.1f} ms "
            f"| +{round_['live_check_cost_p50_ms']:.1f} / +{round_['live_check_cost_p95_ms']:.1f} ms "
            f"| {round_['ratio_p50']:.2f}x |"
        )
    return lines


def machine(results: list[dict]) -> list[str]:
    m = results[0]["machine"]
    loads = ", ".join(f"{r['benchmark']} {' '.join(r['machine']['loadavg_at_start'])}" for r in results)
    return [
        "### Machine",
        "",
        f"- CPU: {m['cpu']}, `nproc` {m['nproc']}; memory (`free -h`): `{m['memory']}`",
        f"- {m['os']}; Python {m['python']}, Django {m.get('django')}, gunicorn {m.get('gunicorn')}, "
        f"Celery {m.get('celery')}; PostgreSQL {m.get('postgresql')}, Redis {m.get('redis')}; {m['wrk']}",
        f"- load average (1, 5, 15 min) at the end of each benchmark: {loads}",
        f"- finished: {max(r['finished_at'] for r in results)}",
    ]


def main() -> None:
    sections = {
        "sync": sync,
        "watch": watch,
        "watch_microsoft": watch_microsoft,
        "freshness": freshness,
        "availability": availability,
        "live_poll": live_poll,
        "caldav": caldav,
        "scale": scale,
        "booking": booking,
    }
    results = []
    for name, render in sections.items():
        result = _load(name)
        if result is None:
            continue
        results.append(result)
        print("\n".join(render(result)) + "\n")
    if results:
        print("\n".join(machine(results)))
    else:
        print("No results yet: run bash bench/run")


if __name__ == "__main__":
    main()
