"""The scale model: what beat's periodic machinery costs with 100,000 calendars.

    .venv/bin/python -m bench.scale [--calendars 100000] [--merchants 30000] [--runs 15]

PostgreSQL (database ``bench``) is seeded with COPY, first a tenth of the model, measured,
then the rest, measured again (the same code at two table sizes). The model:

- merchants: 30,000; connections: 36,000 (every merchant one, a fifth of them a second
  provider): Google 60%, Microsoft 30%, CalDAV 10% (Workspace and Microsoft 365 dominate
  small businesses; iCloud, Fastmail, Nextcloud are the CalDAV share); 95% active, 3% error,
  2% reauth required;
- calendars: 100,000 selected (60,000 Google, 30,000 Microsoft, 10,000 CalDAV) plus one
  unselected per connection (listed, never synced);
- channels: one active per selected push calendar (Google: opened over the last 6 days,
  a fifth of them in the same hour two days ago, as after a deploy or an outage; Microsoft:
  over the last 2 days), with a stopped predecessor for a third of them;
- sync history: 10 runs per selected calendar over the last day (1,000,000 rows at 100k);
- ``next_poll_at`` as runs leave it: CalDAV at its next 5-minute slot, push calendars at
  their safety net, as of the previous minute's tick.

Measured at each size, each selection in a transaction rolled back (so every repetition
sees the same state), medians of ``--runs``: the minute tick's selections
(``calendars_due``: CalDAV polls and the safety net; ``watch_channels_due_for_renewal``;
target < 50 ms, growing with what is due), the same with a tenth of the due rows (a 6-second
window), the CalDAV-only filter (``calendars_due_for_poll``, joined, for tools and tests), the hourly repair and daily
horizon-roll selections (they read the table), the previous poll selection (a Max over the
sync runs per calendar, filtered in Python), and EXPLAIN ANALYZE of each. Then the spread:
CalDAV poll slots per 10 s and per minute of the interval, the safety net after a mass sync,
and seven simulated days of renewals, minute by minute, with the rule (``renew_at``, a
minute tick) and with the previous one (a day before expiry, an hourly tick).
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import random
import statistics
import time
from collections import Counter

from bench import harness

PROVIDERS = (("google", 0.6), ("microsoft", 0.3), ("caldav", 0.1))
STATUS_WEIGHTS = (("active", 0.95), ("error", 0.03), ("reauth_required", 0.02))
RUNS_PER_CALENDAR = 10
GOOGLE_LIFETIME = dt.timedelta(days=7)
GRAPH_LIFETIME = dt.timedelta(minutes=4230)  # Graph's maximum for calendar event subscriptions


class _Rollback(Exception):
    pass


def _copy(table: str, columns: list[str], rows) -> None:
    from django.db import connection

    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _weighted(rng: random.Random, weights) -> str:
    names, probabilities = zip(*weights, strict=True)
    return rng.choices(names, probabilities)[0]


def seed(*, merchants: int, calendars: int, first_merchant: int, now: dt.datetime, rng: random.Random) -> dict:
    """Add ``merchants`` merchants and their ``calendars`` selected calendars (the model above)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from integrations.models import CalendarConnection
    from integrations.selectors import channel_renew_at, next_poll_at
    from integrations.services.channels import RENEW_BEFORE
    from merchants.models import Merchant

    began = time.perf_counter()
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"m{first_merchant + i}", email=f"m{first_merchant + i}@example.com", password="!")
         for i in range(merchants)],
        batch_size=5000,
    )  # fmt: skip
    shops = Merchant.objects.bulk_create(
        [Merchant(user=u, name=f"Shop {u.username}", slug=f"shop-{u.username}", time_zone="Europe/Berlin")
         for u in users],
        batch_size=5000,
    )  # fmt: skip
    # Connections: one per merchant, a fifth of them a second provider.
    plan = []
    for i, shop in enumerate(shops):
        first = _weighted(rng, PROVIDERS)
        plan.append((shop, first))
        if i % 5 == 0:
            plan.append((shop, next(p for p, _ in PROVIDERS if p != first)))
    connections = CalendarConnection.objects.bulk_create(
        [CalendarConnection(merchant=shop, provider=provider, status=_weighted(rng, STATUS_WEIGHTS),
                            account_email=f"{shop.user.username}@{provider}.example", connected_at=now)
         for shop, provider in plan],
        batch_size=5000,
    )  # fmt: skip
    by_provider: dict[str, list] = {p: [c for c in connections if c.provider == p] for p, _ in PROVIDERS}
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM integrations_externalcalendar")
        next_id = cursor.fetchone()[0] + 1
        cursor.execute("SELECT coalesce(max(id), 0) FROM integrations_watchchannel")
        next_channel = cursor.fetchone()[0] + 1

    calendar_rows, channel_rows, run_rows = [], [], []
    counts = Counter()
    tick = now - dt.timedelta(minutes=1)  # the previous tick took what was due then
    bunch = now - dt.timedelta(days=2)  # a fifth of the Google channels opened in this hour
    window_end = now + dt.timedelta(days=365)
    for provider, share in PROVIDERS:
        pool = by_provider[provider]
        for k in range(round(calendars * share)):
            conn = pool[k % len(pool)]
            pk, next_id = next_id, next_id + 1
            synced = now - dt.timedelta(seconds=rng.uniform(0, 300 if provider == "caldav" else 3 * 3600))
            planned = next_poll_at(calendar_id=pk, provider=provider, after=tick if provider == "caldav" else synced)
            if planned <= tick:  # overdue at the previous tick: taken then, back a lease later
                planned = next_poll_at(calendar_id=pk, provider=provider, after=tick)
            failing = now - dt.timedelta(hours=2) if conn.status == "error" else None
            calendar_rows.append(
                (pk, conn.pk, f"{provider}-cal-{pk}", "Work", k < len(pool), True, "Europe/Berlin",
                 "cursor", window_end, synced, "" if failing is None else "TransientError", failing, planned, now)
            )  # fmt: skip
            counts[provider] += 1
            for r in range(RUNS_PER_CALENDAR):
                started = now - dt.timedelta(seconds=rng.uniform(0, 86400)) if r else synced
                run_rows.append(
                    (pk, "notification" if provider != "caldav" else "periodic", "incremental", "succeeded",
                     started, started + dt.timedelta(milliseconds=40), 40, 1, 1, 1, 0, "")
                )  # fmt: skip
            if provider == "caldav" or conn.status == "reauth_required":
                continue
            if provider == "google":
                opened = bunch + dt.timedelta(seconds=rng.uniform(0, 3600)) if rng.random() < 0.2 else None
                opened = opened or now - dt.timedelta(seconds=rng.uniform(0, 6 * 86400))
                expires = opened + GOOGLE_LIFETIME
            else:
                opened = now - dt.timedelta(seconds=rng.uniform(0, 2 * 86400))
                expires = opened + GRAPH_LIFETIME
            renew = channel_renew_at(calendar_id=pk, expires_at=expires, renew_before=RENEW_BEFORE, now=opened)
            while renew <= tick:  # renewed since, at its time, by the minute tick (steady state)
                opened = renew
                expires = opened + (GOOGLE_LIFETIME if provider == "google" else GRAPH_LIFETIME)
                renew = channel_renew_at(calendar_id=pk, expires_at=expires, renew_before=RENEW_BEFORE, now=opened)
            channel_rows.append(
                (pk, f"ch-{next_channel}", "x", f"res-{pk}", "", "active", expires, renew, None, opened, None)
            )
            next_channel += 1
            if rng.random() < 1 / 3:
                channel_rows.append(
                    (pk, f"ch-{next_channel}", "x", f"res-{pk}", "", "stopped", opened + dt.timedelta(days=1), None,
                     None, opened - dt.timedelta(days=6), opened)
                )  # fmt: skip
                next_channel += 1
    for conn in connections:  # one listed, unselected calendar per connection
        pk, next_id = next_id, next_id + 1
        calendar_rows.append(
            (pk, conn.pk, f"other-{pk}", "Other", False, False, "", "", None, None, "", None, None, now)
        )
    cal_columns = ["id", "connection_id", "external_id", "summary", '"primary"', "selected", "time_zone",
                   "sync_cursor", "window_end", "last_synced_at", "last_error", "failing_since", "next_poll_at",
                   "created_at"]  # fmt: skip
    _copy("integrations_externalcalendar", cal_columns, calendar_rows)
    _copy(
        "integrations_watchchannel",
        ["calendar_id", "channel_id", "token", "resource_id", "resource_uri", "status", "expires_at", "renew_at",
         "last_message_number", "created_at", "stopped_at"],
        channel_rows,
    )  # fmt: skip
    _copy(
        "integrations_syncrun",
        ["calendar_id", "trigger", "kind", "status", "started_at", "finished_at", "duration_ms", "pages",
         "events_seen", "blocks_upserted", "blocks_deleted", "error"],
        run_rows,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval('integrations_externalcalendar_id_seq', (SELECT max(id) FROM integrations_externalcalendar))"
        )
        cursor.execute(
            "SELECT setval('integrations_watchchannel_id_seq', (SELECT max(id) FROM integrations_watchchannel))"
        )
        cursor.execute("ANALYZE")
    return {
        "seconds": time.perf_counter() - began,
        "merchants": merchants,
        "connections": len(connections),
        "selected_calendars": dict(counts),
        "unselected_calendars": len(connections),
        "channels": len(channel_rows),
        "sync_runs": len(run_rows),
    }


def _rolled_back(fn):
    """Run ``fn`` in a transaction rolled back afterwards; returns (result, milliseconds)."""
    from django.db import transaction

    holder = {}
    try:
        with transaction.atomic():
            began = time.perf_counter()
            holder["result"] = fn()
            holder["ms"] = (time.perf_counter() - began) * 1000
            raise _Rollback
    except _Rollback:
        pass
    return holder["result"], holder["ms"]


def _old_due_for_poll(now: dt.datetime) -> list[int]:
    """The selection before ``next_poll_at``: every CalDAV calendar with a Max over its runs."""
    from django.db.models import Max

    from integrations.models import ExternalCalendar
    from integrations.selectors import poll_interval, polled_next_sync_at
    from integrations.services.sync import SYNCABLE_STATUSES

    interval = poll_interval("caldav")
    calendars = (
        ExternalCalendar.objects.filter(
            selected=True, connection__provider="caldav", connection__status__in=SYNCABLE_STATUSES
        )
        .annotate(last_run_at=Max("sync_runs__started_at"))
        .only("pk", "last_synced_at")
    )
    return [
        c.pk for c in calendars if polled_next_sync_at(calendar=c, interval=interval, last_run_at=c.last_run_at) <= now
    ]


def measure(*, now: dt.datetime, runs: int) -> dict:
    from django.db.models import Q

    from integrations.models import WatchChannel
    from integrations.services import channels, sync
    from integrations.services.channels import RENEW_BEFORE

    narrow = now - dt.timedelta(seconds=54)  # the last 6 seconds' worth of due rows
    selections = {
        "due": lambda: sync.calendars_due(now=now),
        "due_for_renewal": lambda: channels.watch_channels_due_for_renewal(now=now),
        "due_tenth": lambda: sync.calendars_due(now=narrow),
        "due_for_renewal_tenth": lambda: channels.watch_channels_due_for_renewal(now=narrow),
        "due_for_poll_filtered": lambda: sync.calendars_due_for_poll(now=now),
        "hourly_without_channel": channels.calendars_without_channel,
        "daily_horizon_roll": sync.calendars_due_for_horizon_roll,
        "previous_due_for_poll": lambda: _old_due_for_poll(now),
    }
    figures = {}
    for name, fn in selections.items():
        samples, found = [], 0
        for _ in range(runs if not name.startswith(("previous", "daily", "hourly")) else max(3, runs // 5)):
            result, ms = _rolled_back(fn)
            samples.append(ms)
            found = len(result)
        figures[name] = {"due": found, "p50_ms": statistics.median(samples), "max_ms": max(samples)}
        print(f"  {name:30} {found:6} rows  p50 {figures[name]['p50_ms']:7.2f} ms  max {max(samples):7.2f} ms")
    from integrations.models import ExternalCalendar

    # ``calendars_due``: the one read beat's minute tick makes.
    plans = {
        "due": ExternalCalendar.objects.filter(selected=True, next_poll_at__lte=now)
        .order_by("next_poll_at")
        .values_list("pk", flat=True)
        .explain(analyze=True),
        "due_for_renewal": WatchChannel.objects.filter(status=WatchChannel.Status.ACTIVE)
        .filter(Q(renew_at__lte=now) | Q(expires_at__lt=now + RENEW_BEFORE))
        .values_list("pk", flat=True)
        .explain(analyze=True),
    }
    return {"selections": figures, "plans": plans}


def spread(*, now: dt.datetime) -> dict:
    """How evenly the work is spread: stored poll slots, the safety net, simulated renewals."""
    from integrations.models import ExternalCalendar, WatchChannel
    from integrations.selectors import channel_renew_at, safety_net_at
    from integrations.services.channels import RENEW_BEFORE

    def ratio(counter: Counter, buckets: int) -> dict:
        values = [counter.get(b, 0) for b in range(buckets)]
        mean = sum(values) / buckets
        return {
            "buckets": buckets,
            "mean": mean,
            "max": max(values),
            "min": min(values),
            "max_to_mean": max(values) / mean,
        }

    # CalDAV: where the stored next polls fall within the 5-minute interval.
    slots = ExternalCalendar.objects.filter(selected=True, connection__provider="caldav").values_list(
        "next_poll_at", flat=True
    )
    per10 = Counter(int(s.timestamp()) % 300 // 10 for s in slots)
    per_minute = Counter(int(s.timestamp()) % 300 // 60 for s in slots)
    result = {"caldav_polls_per_10s": ratio(per10, 30), "caldav_polls_per_minute": ratio(per_minute, 5)}

    # The safety net after every push calendar synced in the same second (a deploy, an outage).
    pks = list(
        ExternalCalendar.objects.filter(selected=True, connection__provider__in=["google", "microsoft"]).values_list(
            "pk", flat=True
        )
    )
    interval = dt.timedelta(hours=3)
    minutes = Counter(int((safety_net_at(pk, interval, now) - now).total_seconds() // 60) - 90 for pk in pks)
    result["safety_net_after_mass_sync_per_minute"] = ratio(minutes, 90)

    # Renewals: seven days of minute ticks, from the seeded channels.
    channels = list(
        WatchChannel.objects.filter(status="active").values_list(
            "calendar_id", "expires_at", "renew_at", "calendar__connection__provider"
        )
    )
    days = 7
    start = now.replace(second=0, microsecond=0)

    def simulate(rule: str) -> Counter:
        heap = []
        for calendar_id, expires, renew, provider in channels:
            lifetime = GOOGLE_LIFETIME if provider == "google" else GRAPH_LIFETIME
            due = renew if rule == "new" else expires - RENEW_BEFORE
            heap.append((due, calendar_id, lifetime))
        heapq.heapify(heap)
        per_minute = Counter()
        step = dt.timedelta(minutes=1) if rule == "new" else dt.timedelta(hours=1)
        tick = start
        while tick < start + dt.timedelta(days=days):
            while heap and heap[0][0] <= tick:
                _due, calendar_id, lifetime = heapq.heappop(heap)
                # The renewal runs as the tick queues it; the new expiry is a lifetime later.
                moment = tick + dt.timedelta(seconds=1)
                expires = moment + lifetime
                if rule == "new":
                    due = channel_renew_at(
                        calendar_id=calendar_id, expires_at=expires, renew_before=RENEW_BEFORE, now=moment
                    )
                else:
                    due = expires - RENEW_BEFORE
                heapq.heappush(heap, (due, calendar_id, lifetime))
                per_minute[int((tick - start).total_seconds() // 60)] += 1
            tick += step
        return per_minute

    for rule in ("new", "previous"):
        counts = simulate(rule)
        total = days * 24 * 60
        first = Counter({m: c for m, c in counts.items() if m < 1440})
        later = Counter({m - 1440: c for m, c in counts.items() if m >= 1440})
        result[f"renewals_{rule}"] = {
            "total": sum(counts.values()),
            "first_day": ratio(first, 1440),
            "days_2_to_7": ratio(later, total - 1440),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calendars", type=int, default=100_000)
    parser.add_argument("--merchants", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    with harness.bench_database():
        from django.conf import settings
        from django.utils import timezone

        settings.GOOGLE_WEBHOOK_URL = "https://app.example.com/api/v1/merchant/integrations/google/calendar/watch"
        settings.MICROSOFT_WEBHOOK_URL = "https://app.example.com/api/v1/merchant/integrations/microsoft/notifications"
        rng = random.Random(17)
        now = timezone.now().replace(microsecond=0)
        tenth = {"merchants": args.merchants // 10, "calendars": args.calendars // 10}
        sizes = []
        print(f"seeding {tenth['calendars']} calendars of {tenth['merchants']} merchants")
        seeded = seed(first_merchant=0, now=now, rng=rng, **tenth)
        print(f"  {seeded}")
        sizes.append({"calendars": tenth["calendars"], "seed": seeded, **measure(now=now, runs=args.runs)})
        rest = {"merchants": args.merchants - tenth["merchants"], "calendars": args.calendars - tenth["calendars"]}
        print(f"seeding {rest['calendars']} more calendars of {rest['merchants']} more merchants")
        seeded = seed(first_merchant=tenth["merchants"], now=now, rng=rng, **rest)
        print(f"  {seeded}")
        sizes.append({"calendars": args.calendars, "seed": seeded, **measure(now=now, runs=args.runs)})
        spreads = spread(now=now)

    big = sizes[-1]["selections"]
    minute_tick = ("due", "due_for_renewal")
    result = {
        "parameters": vars(args),
        "providers": dict(PROVIDERS),
        "sizes": sizes,
        "spread": spreads,
        "targets": {
            "minute_selections_under_50ms": all(big[n]["p50_ms"] < 50 for n in minute_tick),
            "renewals_no_minute_over_2x_mean": spreads["renewals_new"]["days_2_to_7"]["max_to_mean"] <= 2,
            "caldav_polls_spread": spreads["caldav_polls_per_10s"]["max_to_mean"] <= 2,
        },
    }
    harness.save_result("scale", result)
    for name in ("caldav_polls_per_10s", "safety_net_after_mass_sync_per_minute"):
        s = spreads[name]
        print(f"{name}: mean {s['mean']:.1f}, max {s['max']}, max/mean {s['max_to_mean']:.2f}")
    for rule in ("new", "previous"):
        r = spreads[f"renewals_{rule}"]
        print(
            f"renewals ({rule}): {r['total']} in 7 days; first day max/mean {r['first_day']['max_to_mean']:.2f}, "
            f"days 2-7 max/mean {r['days_2_to_7']['max_to_mean']:.2f}"
        )
    for name, ok in result["targets"].items():
        print(f"{name}: {harness.verdict(ok)}")


if __name__ == "__main__":
    main()
