"""SPEC §12: a noisy merchant cannot starve the shared workers or the provider's quota.

Before: 10 ``POST .../sync`` made 30 sync runs and 30 listings at Google, and every preference
change forced a full sync. Now a sync that is queued or running absorbs further manual
requests, a merchant gets ``SYNC_MANUAL_PER_HOUR`` of them, and turning a rule off is applied
to the stored blocks without asking Google. Listings are counted at the emulator.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection as db_connection

from integrations.models import SyncRun
from scheduling.models import BlockedTime
from tests.conftest import api_client_for
from tests.integrations.sync.conftest import all_day_event, at, timed_event
from tests.reliability import figures

SYNC = "/api/v1/merchant/integrations/google/calendar/sync"
STATUS = "/api/v1/merchant/integrations/google/calendar"
pytestmark = pytest.mark.usefixtures("quiet_google")


@pytest.mark.django_db(transaction=True)
def test_a_storm_of_manual_syncs_costs_one_listing_while_one_runs(gcal, settings):
    """Ten requests while a (slow) sync runs: all 202, one listing at Google."""
    api = api_client_for(gcal.connected.connection.merchant)
    gcal.emulator.clear_calls()
    gcal.emulator.inject_fault("events.list", delay=4.0, times=1)  # the first sync is slow: the rest arrive meanwhile
    statuses, errors = [], []

    def first():
        try:
            statuses.append(api.post(SYNC).status_code)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            db_connection.close()

    runner = threading.Thread(target=first)
    runner.start()
    while not SyncRun.objects.filter(calendar=gcal.connected.calendar, status="running").exists():
        pass
    for _ in range(9):
        statuses.append(api.post(SYNC).status_code)
    runner.join(timeout=30)
    assert not errors, errors
    figures.count("storm.manual_sync_requests", len(statuses))
    figures.count("storm.listings", gcal.list_calls())
    assert statuses == [202] * 10
    runs = list(
        SyncRun.objects.filter(calendar=gcal.connected.calendar).values_list(
            "trigger", "status", "started_at", "finished_at"
        )
    )
    assert gcal.list_calls() == 1, (runs, gcal.emulator.calls("events.list"))


@pytest.mark.django_db
def test_manual_syncs_are_limited_per_merchant_and_hour(gcal, settings):
    settings.SYNC_MANUAL_PER_HOUR = 5
    api = api_client_for(gcal.connected.connection.merchant)
    answers = [api.post(SYNC) for _ in range(7)]
    assert [a.status_code for a in answers] == [202] * 5 + [429] * 2
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "rate_limited" and int(refused["Retry-After"]) > 0
    figures.count("storm.manual_sync_refused", 2)


@pytest.mark.django_db
def test_turning_a_rule_off_asks_google_nothing(gcal, django_capture_on_commit_callbacks):
    all_day = gcal.add(all_day_event(at(3).date()))
    tentative = gcal.add(timed_event(at(4), status="tentative"))
    busy = gcal.add(timed_event(at(5)))
    api = api_client_for(gcal.connected.connection.merchant)
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(STATUS, {"preferences": {"block_tentative": True}}, format="json")
    assert {all_day, tentative, busy} <= set(gcal.blocks())
    gcal.emulator.clear_calls()

    api.patch(STATUS, {"preferences": {"block_tentative": False, "block_all_day": False}}, format="json")

    assert gcal.list_calls() == 0  # applied to the stored blocks
    assert set(gcal.blocks()) == {busy}
    assert not BlockedTime.objects.filter(calendar=gcal.connected.calendar, all_day=True).exists()
    figures.count("storm.preference_changes_without_listing", 1)


@pytest.mark.django_db
def test_turning_a_rule_on_costs_one_full_listing_however_often_it_is_asked(gcal, django_capture_on_commit_callbacks):
    gcal.add(all_day_event(at(3).date()))
    api = api_client_for(gcal.connected.connection.merchant)
    api.patch(STATUS, {"preferences": {"block_all_day": False}}, format="json")
    gcal.emulator.clear_calls()
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(STATUS, {"preferences": {"block_all_day": True}}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(STATUS, {"preferences": {"block_all_day": True}}, format="json")  # no change: nothing
    assert gcal.list_calls() == 1
    assert BlockedTime.objects.filter(calendar=gcal.connected.calendar, all_day=True).count() == 1
