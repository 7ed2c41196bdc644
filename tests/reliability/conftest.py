"""Fixtures of the reliability suite: the integration fixtures (a merchant connected through the
real OAuth flow against the emulator, its calendar seen from both sides) plus the counts.

The secret scan that runs around every test of the whole suite is
``tests/reliability/secret_scan.py`` (registered in ``tests/conftest.py``).
"""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from django.test import Client

from integrations.models import CalendarConnection
from tests.integrations.conftest import (  # noqa: F401 - fixtures, re-exported for this suite
    GoogleConnected,
    _fast_google_retries,
    callback,
    connect_start,
    consent,
    google_account,
    google_connected,
    quiet_google,
    session_client,
)
from tests.integrations.sync.conftest import gcal, pushes_held  # noqa: F401 - fixtures
from tests.reliability import figures


@pytest.fixture(autouse=True)
def _count_injected_faults(request, settings):
    """Every fault the emulator fired during the test counts towards the figures, also the
    ones a test cleared on the way (``clear_faults``)."""
    if "google_emulator_server" not in request.fixturenames:
        yield
        return
    book = request.getfixturevalue("google_emulator_server").faults
    original_clear = book.clear

    def count_and_clear() -> None:
        faults = book.list()
        slow = [f["delay"] for f in faults if f["delay"] and f["fired"]]
        if slow:
            # A timed-out call's answer is still on its way (the emulator sleeps, then logs the
            # call): let it land before the next test counts calls. Longer delays here are slow
            # listings the test itself waited for.
            time.sleep(min(max(slow), 1.0))
        figures.count("google_faults.fired", sum(f["fired"] for f in faults if f["status"] or f["kind"]))
        # A delay alone is a slow answer, and a timeout where it outlasts GOOGLE_API_TIMEOUT_SECONDS.
        delays = [f for f in faults if not (f["status"] or f["kind"])]
        timeout = settings.GOOGLE_API_TIMEOUT_SECONDS
        figures.count("google_faults.timeouts", sum(f["fired"] for f in delays if f["delay"] > timeout))
        figures.count("google_faults.slow_answers", sum(f["fired"] for f in delays if f["delay"] <= timeout))
        original_clear()

    book.clear = count_and_clear
    try:
        yield
    finally:
        count_and_clear()
        del book.clear  # back to the class's method


def connect_as(client: Client, email: str, capture=None):
    """The OAuth flow for the session in ``client``, consenting as the Google account ``email``
    (the emulator's auto-approve takes the ``login_hint``; without one it picks its first account)."""
    return callback(client, consent(connect_start(client) + "&login_hint=" + quote(email)), capture)


@pytest.fixture
def other_connected(other_merchant, google_emulator, django_capture_on_commit_callbacks) -> GoogleConnected:
    """A second merchant, connected with a Google account of its own."""
    email = other_merchant.user.email
    google_emulator.add_account(email)
    google_emulator.set_auto_approve(True)
    client = session_client(other_merchant)
    response = connect_as(client, email, django_capture_on_commit_callbacks)
    assert response["Location"] == "/app/integrations?google=connected", response["Location"]
    connection = CalendarConnection.objects.get(merchant=other_merchant, provider="google")
    assert connection.account_email == email
    calendar = connection.calendars.get(primary=True)
    return GoogleConnected(connection=connection, calendar=calendar, email=email, client=client)
