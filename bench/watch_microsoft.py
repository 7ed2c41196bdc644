"""Target 3 for Microsoft Graph: the change-notification endpoint under load, as ``bench.watch``.

    .venv/bin/python -m bench.watch_microsoft [--connections 100] [--seconds 10] [--rounds 2] [--burst 10000]

gunicorn (``config.wsgi``, 2 sync workers, ``DEBUG=false``) on PostgreSQL and Redis, a
Celery worker, the Microsoft emulator in its own process (HTTPS with its own test CA). The
merchant's Outlook calendar is synced and subscribed through the real handshake (the
emulator POSTs ``?validationToken=`` to our endpoints), so notifications pass the
subscription id / ``clientState`` checks.

- wrk (1 thread, ``--connections``, ``--seconds`` per phase) POSTs the same JSON body, one
  ``updated`` item as Graph sends it, to the bare view (``bench.urls``) and to the watch
  endpoint in alternating phases. Figures: requests/s, p50/p99, the gunicorn processes' CPU
  per request, the syncs each phase caused and whether the last sync began after the
  phase's last notification (nothing lost).
- Burst: ``--burst`` notifications from 100 concurrent senders; syncs counted at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import tempfile

from bench import harness
from bench.watch import burst_post, covered, gunicorn_cpu_seconds, last_run_pk, quiet, syncs_since, wrk

WRK_SCRIPT = harness.ROOT / "bench" / "graph_notify.lua"
WEBHOOK_PATH = "/api/v1/merchant/integrations/microsoft/calendar/watch"
CLIENT_ID, CLIENT_SECRET = "bench-ms-client-id", "bench-ms-client-secret"
EMAIL = "bench.merchant@contoso.com"


def start_microsoft_emulator(processes: harness.Processes, ca_dir: str):
    """The Microsoft emulator in its own process; this process and the ones started after it
    (gunicorn, the worker) are pointed at it and trust its certificate authority."""
    from integrations.emulators.microsoft.control import EmulatorControl

    port = harness.free_port()
    argv = [harness.PYTHON, "manage.py", "microsoft_emulator", "--port", str(port), "--ca-dir", ca_dir]
    argv += ["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--token-lifetime", str(7 * 86400)]
    argv += ["--redirect-uri", "http://127.0.0.1/bench-unused-callback"]
    process = processes.start("microsoft_emulator", argv)
    base, ca = f"https://127.0.0.1:{port}/", os.path.join(ca_dir, "ca.pem")

    def ready() -> bool:
        if not os.path.exists(ca):
            return False
        try:
            EmulatorControl(base, ca_bundle=ca, timeout=2).state()
        except (OSError, ValueError):
            return False
        return True

    processes.wait_ready(process, ready, "the Microsoft emulator")
    names = {
        "MICROSOFT_OAUTH_CLIENT_ID": CLIENT_ID,
        "MICROSOFT_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "MICROSOFT_AUTHORITY_HOST": base.rstrip("/"),
        "MICROSOFT_GRAPH_ROOT": base + "v1.0/",
    }
    os.environ.update({**names, "REQUESTS_CA_BUNDLE": ca, "SSL_CERT_FILE": ca})
    from django.conf import settings

    for name, value in names.items():
        setattr(settings, name, value)
    return EmulatorControl(base, ca_bundle=ca, timeout=120)


def outlook_connected(emu):
    """A merchant with a Microsoft connection (tokens from the emulator), default calendar selected."""
    from django.utils import timezone

    from integrations.models import CalendarConnection, ExternalCalendar
    from merchants.services import merchant_create

    emu.add_account(EMAIL, name="Bench Merchant", time_zone="Europe/Berlin")
    scopes = ["User.Read", "Calendars.Read"]
    tokens = emu.issue_tokens(EMAIL, scopes=scopes)
    merchant = merchant_create(email=EMAIL, password="bench-password-1", name="Bench", time_zone="Europe/Berlin")
    connection = CalendarConnection.objects.create(
        merchant=merchant,
        provider="microsoft",
        account_email=EMAIL,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        token_expires_at=timezone.now() + dt.timedelta(seconds=int(tokens["expires_in"])),
        granted_scopes=" ".join(scopes),
        connected_at=timezone.now(),
    )
    external_id = emu.default_calendar(EMAIL)
    calendar = ExternalCalendar.objects.create(
        connection=connection, external_id=external_id, summary="Calendar", primary=True, selected=True
    )
    start = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    events = [
        {
            "subject": f"Busy {i}",
            "start": {"dateTime": f"{start}T{8 + i % 9:02d}:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": f"{start}T{8 + i % 9:02d}:30:00", "timeZone": "Europe/Berlin"},
        }
        for i in range(50)
    ]
    emu.insert_events(external_id, events, notify=False)
    return calendar


def notification_body(channel, external_id: str) -> str:
    """One ``updated`` item, as Graph POSTs it (``resourceData`` names the event)."""
    item = {
        "subscriptionId": channel.channel_id,
        "subscriptionExpirationDateTime": channel.expires_at.isoformat(),
        "changeType": "updated",
        "resource": "Users/bench/Events/AAMkAGI2TbenchEvent",
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Event",
            "@odata.id": "Users/bench/Events/AAMkAGI2TbenchEvent",
            "@odata.etag": 'W/"DwAAABYAAAA="',
            "id": "AAMkAGI2TbenchEvent",
        },
        "clientState": channel.token,
        "tenantId": "00000000-0000-0000-0000-000000000000",
    }
    return json.dumps({"value": [item]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (bench/run does it)")

    with (
        tempfile.TemporaryDirectory(prefix="bench-ms-ca-") as ca_dir,
        harness.bench_database(),
        harness.Processes() as processes,
    ):
        from integrations.models import WatchChannel
        from integrations.services.channels import calendar_watch_open
        from integrations.services.sync import calendar_sync_run

        emu = start_microsoft_emulator(processes, ca_dir)
        base = harness.start_gunicorn(processes, workers=args.workers)
        from django.conf import settings

        settings.MICROSOFT_WEBHOOK_URL = base + WEBHOOK_PATH  # this process's settings predate the port
        gunicorn = next(p for name, p, _log in processes.started if name == "gunicorn")
        calendar = outlook_connected(emu)
        calendar_sync_run(calendar_id=calendar.pk, trigger="initial")
        channel = calendar_watch_open(calendar_id=calendar.pk)
        assert channel is not None, "no subscription: is MICROSOFT_WEBHOOK_URL usable?"
        channel = WatchChannel.objects.get(pk=channel.pk)
        harness.start_worker(processes)
        watch_url, bare_url = base + WEBHOOK_PATH, base + harness.BARE_PATH
        body = {"BENCH_BODY": notification_body(channel, calendar.external_id)}

        def measured(url: str) -> dict:
            cpu = gunicorn_cpu_seconds(gunicorn)
            figures = wrk(url, connections=args.connections, seconds=args.seconds, env=body, script=WRK_SCRIPT)
            figures["cpu_ms_per_request"] = (gunicorn_cpu_seconds(gunicorn) - cpu) * 1000 / max(figures["requests"], 1)
            return figures

        wrk(bare_url, connections=args.connections, seconds=2, env=body, script=WRK_SCRIPT)
        wrk(watch_url, connections=args.connections, seconds=2, env=body, script=WRK_SCRIPT)
        quiet(calendar.pk)
        phases = {"bare": [], "watch": []}
        for i in range(args.rounds):
            phases["bare"].append(measured(bare_url))
            before = last_run_pk()
            figures = measured(watch_url)
            quiet(calendar.pk)
            figures["syncs"] = len(syncs_since(calendar.pk, before))
            figures["covered"] = covered(calendar.pk)
            phases["watch"].append(figures)
            for name in ("bare", "watch"):
                f = phases[name][-1]
                print(
                    f"  round {i + 1} {name:5}: {f['rps']:7.0f} req/s  p50 {f['p50_us'] / 1000:6.1f} ms  "
                    f"p99 {f['p99_us'] / 1000:6.1f} ms  cpu {f['cpu_ms_per_request']:.2f} ms/req  errors {f['errors']}"
                    + (f"  syncs {f['syncs']}  covered {f['covered']}" if name == "watch" else "")
                )
        quiet(calendar.pk)
        before = last_run_pk()
        sent = burst_post(watch_url, body["BENCH_BODY"], count=args.burst)
        quiet(calendar.pk)
        runs = syncs_since(calendar.pk, before)
        burst_covered = covered(calendar.pk)
        print(
            f"  burst: {sent['notifications']} notifications in {sent['seconds']:.1f} s "
            f"({sent['statuses']}) -> {len(runs)} syncs, covered {burst_covered}"
        )

    def med(name: str, key: str) -> float:
        return harness.median([f[key] for f in phases[name]])

    rps_ratio = med("watch", "rps") / med("bare", "rps")
    watch_p99_ms = max(f["p99_us"] for f in phases["watch"]) / 1000
    bare_p99_ms = max(f["p99_us"] for f in phases["bare"]) / 1000
    targets = {
        "throughput_at_least_60pct_of_bare": rps_ratio >= 0.6,
        "p99_within_1_5x_of_bare": watch_p99_ms <= 1.5 * bare_p99_ms,
        "burst_at_most_2_syncs": len(runs) <= 2,
        "nothing_lost": all(f["covered"] for f in phases["watch"]) and burst_covered,
        "no_errors": all(f["errors"] == 0 for f in phases["watch"]) and set(sent["statuses"]) == {202},
    }
    result = {
        "parameters": vars(args),
        "phases": phases,
        "bare_rps_median": med("bare", "rps"),
        "watch_rps_median": med("watch", "rps"),
        "rps_ratio": rps_ratio,
        "bare_p50_ms": med("bare", "p50_us") / 1000,
        "bare_p99_ms": bare_p99_ms,
        "watch_p50_ms": med("watch", "p50_us") / 1000,
        "watch_p99_ms": watch_p99_ms,
        "bare_cpu_ms_per_request": med("bare", "cpu_ms_per_request"),
        "watch_cpu_ms_per_request": med("watch", "cpu_ms_per_request"),
        "burst": {**sent, "syncs": len(runs), "runs": runs, "covered": burst_covered},
        "targets": targets,
    }
    harness.save_result("watch_microsoft", result)
    print(
        f"\nGraph watch endpoint: {result['watch_rps_median']:.0f} req/s = {rps_ratio:.0%} of the bare view's "
        f"{result['bare_rps_median']:.0f} "
        f"(target >= 60%: {harness.verdict(targets['throughput_at_least_60pct_of_bare'])}); "
        f"p99 {watch_p99_ms:.1f} ms against {bare_p99_ms:.1f} ms "
        f"(target <= 1.5x: {harness.verdict(targets['p99_within_1_5x_of_bare'])}); "
        f"CPU {result['watch_cpu_ms_per_request']:.2f} against {result['bare_cpu_ms_per_request']:.2f} ms per request"
    )
    print(
        f"burst: {args.burst} notifications -> {len(runs)} syncs "
        f"(target <= 2: {harness.verdict(targets['burst_at_most_2_syncs'])}); "
        f"nothing lost: {harness.verdict(targets['nothing_lost'])}; no errors: {harness.verdict(targets['no_errors'])}"
    )


if __name__ == "__main__":
    main()
