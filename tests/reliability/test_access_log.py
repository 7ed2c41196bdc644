"""OAuth authorization codes never reach the access log (SPEC §12).

gunicorn runs as the Procfile's ``web`` process does (``-c config/gunicorn.py config.wsgi``,
access log on stdout), captured to a file; real HTTP requests carry an authorization code
and state the way Google's redirect does (and a sign-up link's token, and a page whose
Referer is the callback). The log has a line for each request, and no secret in any.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import requests

from config.gunicorn import redact_query
from integrations.providers.google.provider import GoogleProvider
from tests.reliability import figures
from tests.reliability.processes import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_callback_codes_and_states_are_redacted_from_gunicorns_access_log(tmp_path):
    port = free_port()
    log = tmp_path / "web.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))},
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    with log.open("w") as out:
        process = subprocess.Popen(
            [gunicorn, "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    code, state, link_token = (f"4/0A{secrets.token_urlsafe(24)}", secrets.token_urlsafe(24), secrets.token_urlsafe(30))
    try:

        def serving() -> bool:
            try:
                return requests.get(base + "/health/", timeout=20).status_code in (200, 503)
            except (requests.ConnectionError, requests.Timeout):
                assert process.poll() is None, log.read_text()
                return False

        wait_for(serving, "gunicorn to serve", timeout=60, logs=(log,))
        callback = base + GoogleProvider.callback_path
        sent = [
            requests.get(callback, params={"state": state, "code": code, "scope": "openid email"}, timeout=10),
            requests.get(callback, params={"error": "access_denied", "state": state}, timeout=10),
            requests.get(base + "/accounts/signup/confirm/", params={"token": link_token}, timeout=10),
            requests.get(
                base + "/accounts/login/", headers={"Referer": f"{callback}?code={code}&state={state}"}, timeout=10
            ),
        ]
        figures.count("access_log.requests", len(sent) + 1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    text = log.read_text()
    lines = [line for line in text.splitlines() if '"GET ' in line]
    assert len(lines) >= len(sent) + 1, text
    assert sum(GoogleProvider.callback_path in line and "code=[redacted]" in line for line in lines) >= 1, text
    assert sum("state=[redacted]" in line for line in lines) >= 2, text
    assert any("token=[redacted]" in line for line in lines), text
    for secret in (code, state, link_token):
        for form in {secret, requests.utils.quote(secret, safe=""), requests.utils.quote(secret)}:
            assert form not in text
    figures.count("access_log.secrets_checked", 3)
    figures.count("access_log.lines", len(lines))


def test_the_redaction_keeps_everything_else():
    line = "GET /cb?scope=a%20b&state=S1&Code=C1&barcode=7&next=/app/?token=T1 HTTP/1.1"

    redacted = redact_query(line)

    assert redacted == (
        "GET /cb?scope=a%20b&state=[redacted]&Code=[redacted]&barcode=7&next=/app/?token=[redacted] HTTP/1.1"
    )
