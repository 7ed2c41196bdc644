"""Shared fixtures: merchants and authenticated API clients."""

import os
import uuid

import pytest
from rest_framework.test import APIClient

from tests.factories import MerchantFactory

pytest_plugins = [
    "integrations.emulators.google.pytest_plugin",
    "integrations.emulators.caldav.pytest_plugin",
    "integrations.emulators.microsoft.pytest_plugin",
    "tests.reliability.secret_scan",
    "tests.mail",
]

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _tasks_in_process_with_a_private_cache(settings):
    """Celery tasks run eagerly and every test gets its own empty in-memory cache, even
    when REDIS_URL is set (CI): sync-pending and lock keys must not leak between tests or
    parallel runs. The real-worker test (tests/integrations/test_worker*.py) opts back in.
    The watch endpoint's per-process memory of channel rows is emptied too (same ids, new rows),
    and so is its count of forged-notification log lines (config/throttled_log.py)."""
    from config.celery import app
    from integrations.webhooks import forged_log, held_channels_forget

    held_channels_forget()
    forged_log.reset()
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"test-{uuid.uuid4()}"}
    }
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


@pytest.fixture
def merchant(db):
    return MerchantFactory()


@pytest.fixture
def other_merchant(db):
    return MerchantFactory()


def api_token_for(user) -> str:
    """A fresh API token (django-rest-knox, as ``POST /api/v1/auth/token`` issues) for ``user``."""
    from merchants.services import api_token_create

    return api_token_create(user=user)[1]


def api_client_for(merchant) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(merchant.user)}")
    return client


@pytest.fixture
def api(merchant) -> APIClient:
    """An API client authenticated as ``merchant`` with a token."""
    return api_client_for(merchant)


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


def _skipped_reports(config) -> list:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    return reporter.stats.get("skipped", []) if reporter else []


def pytest_sessionfinish(session, exitstatus):
    """On CI (``CI=true``) a skipped test fails the run: nothing may be left out silently there.

    Locally, PostgreSQL-only tests skip on SQLite; ``.ci/run`` provides PostgreSQL and Redis,
    so on CI every test must really run.
    """
    if os.environ.get("CI", "").lower() == "true" and session.exitstatus == 0 and _skipped_reports(session.config):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = _skipped_reports(config)
    if os.environ.get("CI", "").lower() == "true" and skipped:
        terminalreporter.write_line(
            f"CI=true: {len(skipped)} test(s) skipped; on CI every test must run, so this run fails.", red=True
        )
