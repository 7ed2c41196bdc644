"""Shared plumbing for the benchmarks: environment, a throwaway database, processes, figures.

Every benchmark runs against PostgreSQL (database ``bench``, created and dropped here),
Redis (database 12, flushed before and after) and the Google emulator, all on loopback.
Processes started here (emulator, gunicorn, Celery worker) are stopped when the
benchmark ends, also on Ctrl+C. Results go to ``bench/results/<name>.json``.

Environment knobs: ``BENCH_POSTGRES_URL`` (server, default ``postgres://postgres@127.0.0.1:5432``),
``BENCH_DATABASE`` (default ``bench``), ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/12``).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import platform
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
LOG_DIR = RESULTS_DIR / "logs"
PYTHON = sys.executable

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DATABASE_NAME = os.environ.get("BENCH_DATABASE", "bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
CLIENT_ID, CLIENT_SECRET = "bench-client-id", "bench-client-secret"
MERCHANT_EMAIL = "bench.merchant@example.com"
WEBHOOK_PATH = "/api/v1/merchant/integrations/google/calendar/watch"
BARE_PATH = "/bench/bare"  # served by bench.urls only

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --- environment and database -------------------------------------------------------------


def configure_environment() -> None:
    """Production-like settings for this process and every process it starts (they inherit)."""
    secret = os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50)
    os.environ.update(
        {
            "BENCH_SECRET_KEY": secret,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": f"{POSTGRES_URL}/{DATABASE_NAME}",
            "REDIS_URL": REDIS_URL,
            "DEBUG": "false",
            # Plain http on loopback: no redirect to https (the other production defaults stay).
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "SECRET_KEY": secret,
            "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()).decode(),
            "GOOGLE_OAUTH_CLIENT_ID": CLIENT_ID,
            "GOOGLE_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
            "OAUTHLIB_INSECURE_TRANSPORT": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    # This process only: the servers keep the production default (INFO) in their log files.
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def _maintenance_connection():
    import psycopg

    return psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True)


def _redis_flush() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


@contextlib.contextmanager
def bench_database() -> Iterator[None]:
    """Create database ``bench`` (dropping a leftover), set Django up, migrate; drop it all at the end."""
    configure_environment()
    with _maintenance_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    _redis_flush()
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        yield
    finally:
        from django.db import connections

        connections.close_all()
        with _maintenance_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
        _redis_flush()


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_ok(url: str, timeout: float = 2.0) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def wait_until(condition: Callable[[], object], what: str, timeout: float = 60.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


class Processes:
    """Processes this benchmark started; each in its own process group, all stopped on exit."""

    def __init__(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.started: list[tuple[str, subprocess.Popen, Path]] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = LOG_DIR / f"{name}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env={**os.environ, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own group: we stop it and its children, nothing else
            )
        self.started.append((name, process, log))
        return process

    def log_tail(self, process: subprocess.Popen, chars: int = 3000) -> str:
        for _name, started, log in self.started:
            if started is process:
                return log.read_text(errors="replace")[-chars:]
        return ""

    def wait_ready(self, process: subprocess.Popen, condition: Callable[[], bool], what: str, timeout: float = 60):
        def ready():
            if process.poll() is not None:
                raise RuntimeError(f"{what} exited with {process.returncode}:\n{self.log_tail(process)}")
            return condition()

        wait_until(ready, what, timeout)

    def stop_all(self) -> None:
        while self.started:
            _name, process, _log = self.started.pop()
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def start_emulator(processes: Processes):
    """The Google emulator in its own process (Google is remote: its CPU is not ours)."""
    from integrations.emulators.google import EmulatorControl

    port = free_port()
    argv = [PYTHON, "manage.py", "google_emulator", "--port", str(port), "--token-lifetime", str(7 * 86400)]
    argv += ["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET]
    process = processes.start("emulator", argv)
    base = f"http://127.0.0.1:{port}/"
    processes.wait_ready(process, lambda: http_ok(base + "_emulator/state"), "the Google emulator")
    os.environ.update(
        {
            "GOOGLE_OAUTH_AUTH_URI": base + "o/oauth2/v2/auth",
            "GOOGLE_OAUTH_TOKEN_URI": base + "token",
            "GOOGLE_OAUTH_REVOKE_URI": base + "revoke",
            "GOOGLE_API_ROOT": base,
        }
    )
    _settings_follow_environment()
    return EmulatorControl(base, timeout=120)


MS_CLIENT_ID = "0b1e5b6c-7e4a-4c1d-9a6e-00000000be0c"
MS_CLIENT_SECRET = "bench-microsoft-client-secret"


def start_microsoft_emulator(processes: Processes, *, listing_latency: float = 0.0):
    """The Microsoft emulator in its own process: HTTPS with its own test CA (trustme), in a
    temporary directory of this run (removed at exit; benchmarks running side by side each
    have their own); this process and the ones it starts trust it through
    ``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE``. Returns its ``EmulatorControl``."""
    import atexit
    import shutil
    import tempfile

    from integrations.emulators.microsoft.control import EmulatorControl

    port = free_port()
    ca_dir = Path(tempfile.mkdtemp(prefix="bench-microsoft-ca-"))
    atexit.register(shutil.rmtree, ca_dir, ignore_errors=True)
    argv = [PYTHON, "manage.py", "microsoft_emulator", "--port", str(port), "--ca-dir", str(ca_dir)]
    argv += ["--client-id", MS_CLIENT_ID, "--client-secret", MS_CLIENT_SECRET, "--token-lifetime", str(7 * 86400)]
    argv += ["--listing-latency", str(listing_latency)]
    process = processes.start("microsoft-emulator", argv)
    base = f"https://127.0.0.1:{port}/"
    bundle = ca_dir / "ca.pem"

    def ready() -> bool:
        if not bundle.exists():
            return False
        import ssl

        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(bundle))),
        )
        try:
            with opener.open(base + "_emulator/state", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    processes.wait_ready(process, ready, "the Microsoft emulator")
    os.environ.update(
        {
            "REQUESTS_CA_BUNDLE": str(bundle),
            "SSL_CERT_FILE": str(bundle),
            "MICROSOFT_OAUTH_CLIENT_ID": MS_CLIENT_ID,
            "MICROSOFT_OAUTH_CLIENT_SECRET": MS_CLIENT_SECRET,
            "MICROSOFT_AUTHORITY_HOST": base.rstrip("/"),
            "MICROSOFT_GRAPH_ROOT": base + "v1.0/",
        }
    )
    from django.conf import settings

    for name in ("MICROSOFT_OAUTH_CLIENT_ID", "MICROSOFT_OAUTH_CLIENT_SECRET", "MICROSOFT_AUTHORITY_HOST"):
        setattr(settings, name, os.environ[name])
    settings.MICROSOFT_GRAPH_ROOT = os.environ["MICROSOFT_GRAPH_ROOT"]
    return EmulatorControl(base, ca_bundle=str(bundle), timeout=300)


def start_gunicorn(processes: Processes, workers: int = 2, worker_class: str = "sync") -> str:
    """gunicorn on the product's WSGI app with the bench URLconf; returns its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    os.environ["PUBLIC_BASE_URL"] = base
    os.environ["GOOGLE_WEBHOOK_URL"] = base + WEBHOOK_PATH
    _settings_follow_environment()
    argv = [str(Path(PYTHON).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    argv += ["--workers", str(workers), "--worker-class", worker_class, "--log-level", "warning"]
    process = processes.start("gunicorn", argv, env={"LOG_LEVEL": "INFO"})
    processes.wait_ready(process, lambda: http_ok(base + BARE_PATH), "gunicorn")
    return base


def start_worker(processes: Processes, concurrency: int = 2):
    """``celery -A config worker`` as the Procfile runs it (prefork, one child per core)."""
    argv = [PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", str(concurrency)]
    argv += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"bench-{secrets.token_hex(4)}@%h"]
    process = processes.start("worker", argv, env={"LOG_LEVEL": "INFO"})
    processes.wait_ready(process, lambda: " ready." in processes.log_tail(process, 100_000), "the Celery worker", 90)
    return process


def _settings_follow_environment() -> None:
    """This process's Django settings read the emulator/server addresses chosen after setup."""
    from django.conf import settings

    for name in ("GOOGLE_OAUTH_AUTH_URI", "GOOGLE_OAUTH_TOKEN_URI", "GOOGLE_OAUTH_REVOKE_URI", "GOOGLE_API_ROOT"):
        if name in os.environ:
            setattr(settings, name, os.environ[name])
    if "PUBLIC_BASE_URL" in os.environ:
        settings.PUBLIC_BASE_URL = os.environ["PUBLIC_BASE_URL"]
    if "GOOGLE_WEBHOOK_URL" in os.environ:
        settings.GOOGLE_WEBHOOK_URL = os.environ["GOOGLE_WEBHOOK_URL"]


# --- the merchant, its Google account and calendar ------------------------------------------


def merchant_connected(emu, *, email: str = MERCHANT_EMAIL):
    """A merchant (Europe/Berlin) with a Google connection to ``email``, primary calendar selected.

    Tokens come from the emulator's ``issue_tokens`` (the consent dance is not what we measure).
    """
    from django.utils import timezone

    from integrations.models import CalendarConnection, ExternalCalendar
    from merchants.services import merchant_create

    emu.add_account(email, name="Bench Merchant", time_zone="Europe/Berlin")
    tokens = emu.issue_tokens(email)
    merchant = merchant_create(email=email, password="bench-password-1", name="Bench", time_zone="Europe/Berlin")
    connection = CalendarConnection.objects.create(
        merchant=merchant,
        provider="google",
        account_email=email,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        token_expires_at=timezone.now() + dt.timedelta(seconds=int(tokens["expires_in"])),
        granted_scopes=tokens.get("scope", ""),
        connected_at=timezone.now(),
    )
    calendar = ExternalCalendar.objects.create(
        connection=connection, external_id=email, summary=email, primary=True, selected=True, time_zone="Europe/Berlin"
    )
    return merchant, connection, calendar


def microsoft_connected(ms, *, email: str = "bench.outlook@contoso.com"):
    """A merchant (Europe/Berlin) with a Microsoft connection to ``email``, default calendar selected
    (tokens from the emulator's ``issue_tokens``)."""
    from django.utils import timezone

    from integrations.models import CalendarConnection, ExternalCalendar
    from merchants.services import merchant_create

    ms.add_account(email, name="Bench Outlook", time_zone="Europe/Berlin")
    scopes = ["User.Read", "Calendars.Read"]
    tokens = ms.issue_tokens(email, scopes=scopes)
    merchant = merchant_create(email=email, password="bench-password-1", name="Bench MS", time_zone="Europe/Berlin")
    connection = CalendarConnection.objects.create(
        merchant=merchant,
        provider="microsoft",
        account_email=email,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        token_expires_at=timezone.now() + dt.timedelta(seconds=int(tokens["expires_in"])),
        granted_scopes=" ".join(scopes),
        connected_at=timezone.now(),
    )
    calendar = ExternalCalendar.objects.create(
        connection=connection,
        external_id=ms.default_calendar(email),
        summary="Calendar",
        primary=True,
        selected=True,
        time_zone="Europe/Berlin",
    )
    return merchant, connection, calendar


def graph_calendar_events(count: int, series: int, *, seed: int = 1) -> tuple[list[dict], list[dict]]:
    """:func:`calendar_events` in Graph's shape (the same calendar): ``showAs`` free/tentative,
    ``isAllDay``, weekly/daily ``recurrence`` with no end."""

    def local(value: dict) -> dict:
        if "date" in value:
            return {"dateTime": value["date"] + "T00:00:00", "timeZone": "UTC"}
        if value["dateTime"].endswith("Z"):
            return {"dateTime": value["dateTime"].removesuffix("Z"), "timeZone": "UTC"}
        return {"dateTime": value["dateTime"], "timeZone": value.get("timeZone", "UTC")}

    singles, recurring = calendar_events(count, series, seed=seed)
    graph_singles = []
    for event in singles:
        item = {"subject": event.get("summary", "Busy"), "start": local(event["start"]), "end": local(event["end"])}
        if "date" in event["start"]:
            item["isAllDay"] = True
        if event.get("transparency") == "transparent":
            item["showAs"] = "free"
        elif event.get("status") == "tentative":
            item["showAs"] = "tentative"
        graph_singles.append(item)
    days = {"MO": "monday", "TU": "tuesday", "WE": "wednesday", "TH": "thursday", "FR": "friday"}
    graph_series = []
    for event in recurring:
        rule = event["recurrence"][0]
        start = local(event["start"])
        pattern = (
            {"type": "daily", "interval": 1}
            if "DAILY" in rule
            else {"type": "weekly", "interval": 1, "daysOfWeek": [days[rule.rsplit("=", 1)[1]]]}
        )
        graph_series.append(
            {
                "subject": "Series",
                "start": start,
                "end": local(event["end"]),
                "recurrence": {
                    "pattern": pattern,
                    "range": {"type": "noEnd", "startDate": start["dateTime"][:10]},
                },
            }
        )
    return graph_singles, graph_series


def _rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def calendar_events(count: int, series: int, *, seed: int = 1) -> tuple[list[dict], list[dict]]:
    """``count - series`` single events and ``series`` endless recurring ones, inside the sync window.

    Mostly busy timed events (15 min - 2 h), some all-day, some free (transparent) and
    some tentative; series are weekly (4 in 5) or daily and began 90 days ago.
    """
    rng = random.Random(seed)
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    singles = []
    for _ in range(count - series):
        day = today + dt.timedelta(days=rng.randrange(-25, 360))
        kind = rng.random()
        if kind < 0.04:
            singles.append(
                {
                    "start": {"date": day.date().isoformat()},
                    "end": {"date": (day + dt.timedelta(days=1)).date().isoformat()},
                }
            )
            continue
        start = day + dt.timedelta(minutes=15 * rng.randrange(6 * 4, 20 * 4))
        event = {
            "summary": "Busy",
            "start": {"dateTime": _rfc3339(start)},
            "end": {"dateTime": _rfc3339(start + dt.timedelta(minutes=15 * rng.randrange(1, 9)))},
        }
        if kind < 0.08:
            event["transparency"] = "transparent"
        elif kind < 0.10:
            event["status"] = "tentative"
        singles.append(event)
    recurring = []
    for i in range(series):
        start = today - dt.timedelta(days=90) + dt.timedelta(hours=7 + i % 10, minutes=30 * (i % 2))
        rule = "RRULE:FREQ=DAILY" if i % 5 == 4 else f"RRULE:FREQ=WEEKLY;BYDAY={['MO', 'TU', 'WE', 'TH', 'FR'][i % 5]}"
        recurring.append(
            {
                "summary": "Series",
                "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "Europe/Berlin"},
                "end": {
                    "dateTime": (start + dt.timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M:%S"),
                    "timeZone": "Europe/Berlin",
                },
                "recurrence": [rule],
            }
        )
    return singles, recurring


def seed_calendar(emu, calendar_id: str, *, count: int, series: int, chunk: int = 2000) -> list[str]:
    """Insert the events (no push per chunk); returns the single events' ids."""
    singles, recurring = calendar_events(count, series)
    ids: list[str] = []
    for i in range(0, len(singles), chunk):
        ids += emu.insert_events(calendar_id, singles[i : i + chunk], notify=False, return_events=False)
    emu.insert_events(calendar_id, recurring, notify=False, return_events=False)
    return ids


# --- figures --------------------------------------------------------------------------------


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0-100)."""
    ordered = sorted(samples)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def median(samples: list[float]) -> float:
    import statistics

    return statistics.median(samples)


def machine() -> dict:
    def run(*argv: str) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info = {
        "nproc": run("nproc"),
        "cpu": cpu,
        "memory": run("free", "-h").splitlines()[1] if run("free", "-h") else "",
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else [],
        "python": platform.python_version(),
        "os": platform.platform(),
        "wrk": run("wrk", "--version").splitlines()[0] if run("wrk", "--version") else "",
    }
    with contextlib.suppress(Exception):
        import celery
        import django
        import gunicorn

        info.update(django=django.get_version(), celery=celery.__version__, gunicorn=gunicorn.__version__)
    with contextlib.suppress(Exception), _maintenance_connection() as conn:
        info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    with contextlib.suppress(Exception):
        import redis

        info["redis"] = redis.Redis.from_url(REDIS_URL).info("server")["redis_version"]
    return info


def save_result(name: str, result: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {"benchmark": name, "finished_at": dt.datetime.now(dt.UTC).isoformat(), "machine": machine(), **result}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"results written to {path.relative_to(ROOT)}")
    return path


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"
