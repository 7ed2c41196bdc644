"""The week view's live poll with 500 open pages: what it costs the web tier (SPEC §9).

    .venv/bin/python -m bench.live_poll [--pages 500] [--seconds 20] [--capacity-seconds 8] [--change-every 4]

gunicorn (``config.wsgi``, 2 sync workers, ``DEBUG=false``) on PostgreSQL and Redis. Every
open week page asks ``GET /app/live/<token>`` once a second with ``If-None-Match``
(``scheduling.live``); the answer is a 304 until the merchant's change counter moves.

- Open pages: ``--pages`` simulated pages (asyncio, one new connection per poll as the sync
  workers close them), each polling once a second for ``--seconds``, all for one merchant;
  every ``--change-every`` seconds a "sync" bumps the counter (``scheduling.services.merchant_changed``).
  Figures: polls/s served, latency p50/p99, the gunicorn processes' CPU (user + system,
  from /proc) as a share of one core, and how long after a bump each page saw it.
- Capacity: wrk (1 thread, 50 connections) against the poll (304), against a bare view in
  the same gunicorn (``bench.urls``), and against the week page itself (``GET /app/``
  with a session), which is what a page re-fetching its grid every second would cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import time
from urllib.parse import urlsplit

from bench import harness

WRK_SCRIPT = harness.ROOT / "bench" / "poll.lua"
TICKS = os.sysconf("SC_CLK_TCK")


def wrk(url: str, *, seconds: int, connections: int = 50, env: dict[str, str] | None = None) -> dict:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(WRK_SCRIPT), url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, env={**os.environ, **(env or {})})
    line = next((line for line in out.stdout.splitlines() if line.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{out.stdout}\n{out.stderr}")
    figures = json.loads(line.removeprefix("BENCH_JSON "))
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def _group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every process in the process group (gunicorn master and workers)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 (pgrp), after the ")" of the command name
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


async def _get(host: str, port: int, path: str, etag: str | None) -> tuple[int, str | None]:
    reader, writer = await asyncio.open_connection(host, port)
    headers = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
    if etag:
        headers += f"If-None-Match: {etag}\r\n"
    writer.write((headers + "\r\n").encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    found = next((h.split(":", 1)[1].strip() for h in head[1:] if h.lower().startswith("etag:")), None)
    return status, found


async def open_pages(base: str, path: str, *, pages: int, seconds: float, bump, change_every: float) -> dict:
    url = urlsplit(base)
    host, port = url.hostname, url.port
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    seen_delays: list[float] = []
    bumps: dict[str, float] = {}  # etag -> when the counter moved to it
    stop_at = time.monotonic() + seconds

    async def page(index: int) -> None:
        await asyncio.sleep(index / pages)  # spread over the second, as real pages are
        etag = None
        while time.monotonic() < stop_at:
            started = time.monotonic()
            try:
                status, fresh = await _get(host, port, path, etag)
            except OSError:
                statuses[-1] = statuses.get(-1, 0) + 1
            else:
                latencies.append(time.monotonic() - started)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200 and fresh and fresh != etag:
                    if etag is not None and fresh in bumps:
                        seen_delays.append(time.monotonic() - bumps[fresh])
                    etag = fresh
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))

    async def syncs() -> None:
        await asyncio.sleep(2.0)  # every page holds an ETag first
        while time.monotonic() < stop_at - 1.5:
            version = await asyncio.to_thread(bump)
            bumps[f'"{version}"'] = time.monotonic()
            await asyncio.sleep(change_every)

    started = time.monotonic()
    await asyncio.gather(syncs(), *(page(i) for i in range(pages)))
    elapsed = time.monotonic() - started
    return {
        "pages": pages,
        "seconds": round(elapsed, 2),
        "polls": len(latencies),
        "polls_per_second": len(latencies) / elapsed,
        "statuses": statuses,
        "latency_p50_ms": harness.percentile(latencies, 50) * 1000,
        "latency_p99_ms": harness.percentile(latencies, 99) * 1000,
        "changes": len(bumps),
        "change_seen_p50_s": harness.percentile(seen_delays, 50) if seen_delays else None,
        "change_seen_p99_s": harness.percentile(seen_delays, 99) if seen_delays else None,
        "change_seen_max_s": max(seen_delays) if seen_delays else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--capacity-seconds", type=int, default=8)
    parser.add_argument("--change-every", type=float, default=4.0)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (bench/run does it).")

    with harness.bench_database(), harness.Processes() as processes:
        from django.contrib.auth import SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        from merchants.services import merchant_create
        from scheduling.live import live_token
        from scheduling.services import merchant_changed

        merchant = merchant_create(
            email=harness.MERCHANT_EMAIL, password="bench-password-42", name="Bench", time_zone="Europe/Berlin"
        )
        session = SessionStore()
        session[SESSION_KEY] = str(merchant.user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = merchant.user.get_session_auth_hash()
        session.create()
        base = harness.start_gunicorn(processes, workers=2)
        gunicorn = next(p for name, p, _log in processes.started if name == "gunicorn")
        path = f"/app/live/{live_token(merchant.pk)}"

        def bump() -> int:
            merchant_changed(merchant.pk)
            from scheduling.changes import changes_version

            return changes_version(merchant.pk)

        cpu_before, wall_before = _group_cpu_seconds(gunicorn.pid), time.monotonic()
        pages = asyncio.run(
            open_pages(base, path, pages=args.pages, seconds=args.seconds, bump=bump, change_every=args.change_every)
        )
        cpu = _group_cpu_seconds(gunicorn.pid) - cpu_before
        wall = time.monotonic() - wall_before
        pages["web_cpu_seconds"] = round(cpu, 2)
        pages["web_cpu_share_of_one_core"] = cpu / wall
        pages["web_cpu_ms_per_poll"] = cpu / max(1, pages["polls"]) * 1000

        version = bump()

        def measured(url: str, env: dict[str, str] | None = None) -> dict:
            before = _group_cpu_seconds(gunicorn.pid)
            figures = wrk(url, seconds=args.capacity_seconds, env=env)
            figures["web_cpu_ms_per_request"] = (_group_cpu_seconds(gunicorn.pid) - before) / figures["requests"] * 1000
            return figures

        capacity = {
            "poll_304": measured(base + path, {"BENCH_IF_NONE_MATCH": f'"{version}"'}),
            "bare_view": measured(base + harness.BARE_PATH),
            "week_page": measured(base + "/app/", {"BENCH_COOKIE": f"sessionid={session.session_key}"}),
        }
        result = {
            "benchmark": "live_poll",
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "open_pages": pages,
            "capacity": {name: {k: round(v, 2) for k, v in figures.items()} for name, figures in capacity.items()},
            "machine": harness.machine(),
        }
        result["capacity"]["poll_to_bare_ratio"] = round(capacity["poll_304"]["rps"] / capacity["bare_view"]["rps"], 3)
        result["capacity"]["poll_to_week_page_ratio"] = round(
            capacity["poll_304"]["rps"] / capacity["week_page"]["rps"], 2
        )
        harness.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (harness.RESULTS_DIR / "live_poll.json").write_text(json.dumps(result, indent=2, default=str))
        print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
