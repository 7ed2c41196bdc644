"""Production settings are safe by default (SPEC §12): a process started without ``DEBUG=true``
never runs on a key from the repository, ``manage.py check --deploy`` is clean with the
documented production variables, and every page carries a Content-Security-Policy.

The processes are real ``manage.py`` subprocesses with an environment built from scratch
(only ``PATH`` and the like from the test's own): what a deploy that forgets a variable gets.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client

from tests.reliability import figures

ROOT = Path(__file__).resolve().parents[2]
DEV_SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"
DEV_FERNET_KEY = base64.urlsafe_b64encode(hashlib.sha256(DEV_SECRET_KEY.encode()).digest()).decode()
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")


def production_variables() -> dict[str, str]:
    """The variables README.md's "Running in production" section lists, with values of one's own."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PUBLIC_BASE_URL": "https://calendar.example.com",
        "DATABASE_URL": "postgres://app:secret@db.internal:5432/app",
        "REDIS_URL": "redis://redis.internal:6379/0",
    }


def manage(*args: str, **variables: str) -> subprocess.CompletedProcess:
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env.update(variables)
    figures.count("production_settings.processes")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("variables", "refusal"),
    [
        pytest.param({}, "SECRET_KEY must be set", id="no variables at all"),
        pytest.param({"SECRET_KEY": DEV_SECRET_KEY}, "SECRET_KEY must be set", id="the repository's SECRET_KEY"),
        pytest.param(
            {"DEBUG": "false", "SECRET_KEY": DEV_SECRET_KEY, "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode()},
            "SECRET_KEY must be set",
            id="DEBUG=false and the repository's SECRET_KEY",
        ),
        pytest.param({"SECRET_KEY": "own"}, "FIELD_ENCRYPTION_KEYS must be set", id="no encryption key"),
        pytest.param(
            {"SECRET_KEY": "own", "FIELD_ENCRYPTION_KEYS": DEV_FERNET_KEY},
            "FIELD_ENCRYPTION_KEYS must be set",
            id="the encryption key derived from the repository's SECRET_KEY",
        ),
        pytest.param(
            {"SECRET_KEY": "own", "FIELD_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},{DEV_FERNET_KEY}"},
            "FIELD_ENCRYPTION_KEYS must be set",
            id="the derived key kept as an old rotation key",
        ),
    ],
)
def test_a_process_without_debug_refuses_the_repositorys_keys(variables, refusal):
    variables = {name: (secrets.token_urlsafe(50) if value == "own" else value) for name, value in variables.items()}

    process = manage("check", **variables)

    assert process.returncode != 0, process.stdout
    assert refusal in process.stderr and "the repository's development key" in process.stderr
    assert "Traceback" not in process.stderr.split("ImproperlyConfigured")[-1]
    figures.count("production_settings.refused_starts")


def test_development_keys_need_an_explicit_debug_true():
    assert manage("check", DEBUG="true").returncode == 0
    assert manage("check", DEBUG="false").returncode != 0


def test_check_deploy_is_clean_with_the_documented_production_variables():
    process = manage("check", "--deploy", "--fail-level", "WARNING", **production_variables())

    assert process.returncode == 0, process.stdout + process.stderr
    assert "System check identified no issues" in process.stdout, process.stdout + process.stderr


def test_production_defaults_without_debug():
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.ALLOWED_HOSTS)"
    )
    process = manage("shell", "--no-imports", "-c", code, **production_variables())

    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == (
        "False True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https') True True ['calendar.example.com']"
    )
    # Each is a setting: a deploy behind a proxy that terminates nothing may turn them off.
    overridden = manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
        SECURE_PROXY_SSL_HEADER="",
        **production_variables(),
    )
    assert overridden.stdout.startswith("False False 0 None True True")


@pytest.mark.django_db
def test_every_page_has_a_content_security_policy_without_inline_scripts(merchant):
    client = Client()
    anonymous = ["/accounts/login/", "/accounts/signup/", f"/book/{merchant.slug}", "/admin/login/"]
    pages = [client.get(path) for path in anonymous]
    client.force_login(merchant.user)
    pages += [client.get(path) for path in ("/app/", "/app/integrations")]

    for response in pages:
        assert response.status_code == 200, response.request["PATH_INFO"]
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
        assert "<script>" not in response.content.decode()  # no inline script would run
        figures.count("production_settings.pages_with_csp")


@pytest.mark.django_db
def test_the_api_docs_page_gets_only_what_swagger_ui_needs():
    page = Client().get("/api/v1/docs/")
    script = Client().get("/api/v1/docs/?script=")

    assert page.status_code == 200 and script.status_code == 200
    policy = page["Content-Security-Policy"]
    assert "script-src 'self';" in policy + ";"  # the init script is a file of its own (?script=)
    assert "<script>" not in page.content.decode()
    assert script["Content-Type"].startswith("application/javascript")
