"""No token or key ever leaves: a pytest plugin that scans every log record and every response
Django renders during the whole test run for the secrets that run used.

Registered for the whole suite (``pytest_plugins`` in ``tests/conftest.py``). For each test:

- a handler on the root logger keeps every record that passes the configured levels (what
  production logs at ``LOG_LEVEL=INFO``); in ``tests/reliability`` the root logger is lowered to
  DEBUG for the test, as if ``LOG_LEVEL=DEBUG`` (the console keeps its level). The emulator's
  own loggers are left out: it plays Google, which holds the tokens by definition;
- ``BaseHandler.get_response`` is wrapped, so every response any Django handler produces (the
  test client, the live server's thread) is kept: status, headers, cookies and body;
- tests may add other texts, e.g. a Celery worker's log file, with :func:`add_text`.

At teardown every kept text is searched for every secret, raw and URL-encoded: the access
and refresh tokens, authorization codes and channel tokens the Google emulator issued in
that test, the CalDAV passwords of the test Radicale's users, the ``FIELD_ENCRYPTION_KEYS``,
``SECRET_KEY`` and the OAuth client secret. A hit fails the test, naming where the secret
was seen (never printing it). The totals go to the
reliability figures (``tests/reliability/figures.py``).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.reliability import figures

EMULATOR_LOGGERS = "integrations.emulators.google"
MIN_SECRET_LENGTH = 12  # shorter strings would match by chance; every real secret is longer
_RELIABILITY_DIR = Path(__file__).resolve().parent

_lock = threading.Lock()
_texts: list[tuple[str, str]] = []
_patched = False
_distinct_secrets: set[str] = set()


def add_text(source: str, text: str) -> None:
    """Have ``text`` scanned at the end of the current test (e.g. a worker's log)."""
    with _lock:
        _texts.append((source, text))


class _RecordKeeper(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self._formatter = logging.Formatter()
        self.records = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(EMULATOR_LOGGERS):
            return
        try:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + self._formatter.formatException(record.exc_info)
            if record.stack_info:
                text += "\n" + record.stack_info
        except Exception as exc:  # noqa: BLE001 - a broken record must not break the test
            text = f"<unformattable record: {exc!r}>"
        self.records += 1
        add_text(f"log {record.levelname} {record.name}", text)


def _response_text(response) -> str:
    parts = [f"{response.status_code}"]
    parts += [f"{name}: {value}" for name, value in response.items()]
    parts.append(response.cookies.output())
    if not getattr(response, "streaming", False):
        parts.append(response.content.decode("utf-8", errors="replace"))
    return "\n".join(parts)


def _patch_django_handler() -> None:
    """Keep every response any Django handler returns (idempotent, for the whole session)."""
    global _patched
    if _patched:
        return
    from django.core.handlers.base import BaseHandler

    original = BaseHandler.get_response

    def get_response(self, request):
        response = original(self, request)
        try:
            add_text(f"response {request.method} {request.path}", _response_text(response))
        except Exception as exc:  # noqa: BLE001 - never break a request over the scan
            add_text(f"response {request.method} {request.path}", f"<unreadable response: {exc!r}>")
        return response

    BaseHandler.get_response = get_response
    _patched = True


def configured_secrets() -> dict[str, str]:
    from django.conf import settings

    found = {"SECRET_KEY": settings.SECRET_KEY, "GOOGLE_OAUTH_CLIENT_SECRET": settings.GOOGLE_OAUTH_CLIENT_SECRET}
    for i, key in enumerate(settings.FIELD_ENCRYPTION_KEYS):
        found[f"FIELD_ENCRYPTION_KEYS[{i}]"] = key
    return found


def emulator_secrets(emulator) -> dict[str, str]:
    """Every credential the emulator handed out since its last reset, named by kind."""
    found: dict[str, str] = {}
    with emulator.lock:
        state = emulator.state
        for kind, values in (
            ("access token", list(state.access_tokens)),
            ("refresh token", list(state.refresh_tokens)),
            ("authorization code", list(state.codes)),
            ("channel token", [c.token for c in state.channels.values() if c.token]),
            ("revoked token", list(state.revoked)),
            ("client secret", [c.client_secret for c in state.clients.values()]),
        ):
            for i, value in enumerate(values):
                found[f"{kind} #{i + 1}"] = value
    return found


def leaks(secrets: dict[str, str], texts: list[tuple[str, str]]) -> list[str]:
    """Where each secret appears, as ``"<kind> in <source>"`` lines (the secret itself never shown)."""
    found = []
    everything = "\n\0".join(text for _, text in texts)
    for kind, secret in secrets.items():
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            continue
        forms = {secret, quote(secret, safe=""), quote_plus(secret)}
        if not any(form in everything for form in forms):
            continue
        for source, text in texts:
            if any(form in text for form in forms):
                found.append(f"{kind} ({secret[:4]}...) in {source}")
    return found


@pytest.fixture(scope="session")
def _configured_secrets():
    return configured_secrets()


@pytest.fixture(autouse=True)
def secret_scan(request, _configured_secrets):
    """Capture this test's logs and responses; fail at teardown if a secret shows up in them."""
    _patch_django_handler()
    with _lock:
        _texts.clear()
    keeper = _RecordKeeper()
    root = logging.getLogger()
    debug = _RELIABILITY_DIR in Path(str(request.node.path)).resolve().parents
    saved_root_level = root.level
    saved_handler_levels = [(h, h.level) for h in root.handlers]
    if debug:
        for handler, level in saved_handler_levels:
            handler.setLevel(max(level, saved_root_level))  # the console shows what it showed before
        root.setLevel(logging.DEBUG)
    root.addHandler(keeper)
    try:
        yield
    finally:
        root.removeHandler(keeper)
        root.setLevel(saved_root_level)
        for handler, level in saved_handler_levels:
            handler.setLevel(level)
    secrets = dict(_configured_secrets)
    if "google_emulator_server" in request.fixturenames:
        secrets.update(emulator_secrets(request.getfixturevalue("google_emulator_server")))
    if "radicale_server" in request.fixturenames:  # CalDAV passwords (app-specific ones on iCloud)
        users = request.getfixturevalue("radicale_server").users()
        secrets.update({f"CalDAV password of {name}": password for name, password in users.items()})
    with _lock:
        texts = list(_texts)
        _texts.clear()
    figures.count("secret_scan.tests")
    figures.count("secret_scan.log_records", keeper.records)
    figures.count("secret_scan.responses", sum(1 for source, _ in texts if source.startswith("response ")))
    figures.count("secret_scan.texts", len(texts))
    figures.count("secret_scan.characters", sum(len(text) for _, text in texts))
    _distinct_secrets.update(s for s in secrets.values() if s and len(s) >= MIN_SECRET_LENGTH)
    figures.FIGURES["secret_scan.distinct_secrets"] = len(_distinct_secrets)
    found = leaks(secrets, texts)
    assert not found, "secrets leaked:\n" + "\n".join(found)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = figures.report_lines()
    if not lines:
        return
    terminalreporter.section("reliability figures")
    for line in lines:
        terminalreporter.write_line(line)
    written = figures.write()
    if written:
        terminalreporter.write_line(f"(written to {written})")
