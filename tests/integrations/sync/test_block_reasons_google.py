"""Why a synced block blocks (``BlockedTime.reason``), end to end: emulator -> sync -> store -> API."""

from integrations.models import SyncRun
from scheduling.models import BlockedTime
from tests.integrations.sync.conftest import all_day_event, at, timed_event

URL = "/api/v1/merchant/blocked-times"


def reasons(gcal) -> dict[str, str]:
    return dict(
        BlockedTime.objects.filter(calendar_id=gcal.connected.calendar.pk).values_list("external_key", "reason")
    )


def set_preferences(gcal, **prefs) -> None:
    """A preference change, then the full re-sync that the preference service queues for it."""
    connection = gcal.connected.connection
    for name, value in prefs.items():
        setattr(connection, name, value)
    connection.save(update_fields=list(prefs))
    run = gcal.sync(SyncRun.Trigger.MANUAL)
    assert run.kind == SyncRun.Kind.FULL


def test_every_synced_block_has_its_reason(gcal):
    me = gcal.connected.email
    set_preferences(gcal, block_tentative=True, block_all_day=True)
    busy = gcal.add(timed_event(at(2)))
    maybe = gcal.add(timed_event(at(3), attendees=[{"email": me, "responseStatus": "tentative"}]))
    marked = gcal.add(timed_event(at(4), status="tentative"))
    day = gcal.add(all_day_event(at(5).date()))
    gcal.sync()
    assert reasons(gcal) == {busy: "busy", maybe: "tentative", marked: "tentative", day: "all_day"}


def test_an_answer_to_an_invitation_rewrites_the_reason_of_the_same_block(gcal):
    me = gcal.connected.email
    set_preferences(gcal, block_tentative=True)
    boss = {"email": "boss@example.com", "organizer": True}
    event_id = gcal.add(timed_event(at(2), attendees=[boss, {"email": me, "responseStatus": "needsAction"}]))
    gcal.sync()
    before = BlockedTime.objects.get(external_key=event_id)
    assert before.reason == "tentative"

    gcal.update(event_id, {"attendees": [boss, {"email": me, "responseStatus": "accepted"}]})
    run = gcal.sync()
    after = BlockedTime.objects.get(external_key=event_id)
    assert (after.pk, after.start, after.end, after.reason) == (before.pk, before.start, before.end, "busy")
    assert run.blocks_upserted == 1


def test_a_preference_change_rewrites_reasons_and_drops_what_no_longer_blocks(gcal):
    me = gcal.connected.email
    busy = gcal.add(timed_event(at(2)))
    maybe = gcal.add(timed_event(at(3), attendees=[{"email": me, "responseStatus": "tentative"}]))
    day = gcal.add(all_day_event(at(5).date()))
    gcal.sync()
    assert reasons(gcal) == {busy: "busy", day: "all_day"}
    # Blocks stored before reasons existed have none; the preference change's full sync writes them.
    BlockedTime.objects.filter(calendar_id=gcal.connected.calendar.pk).update(reason="")

    set_preferences(gcal, block_tentative=True)
    assert reasons(gcal) == {busy: "busy", maybe: "tentative", day: "all_day"}
    set_preferences(gcal, block_tentative=False, block_all_day=False)
    assert reasons(gcal) == {busy: "busy"}


def test_the_api_returns_reason_calendar_and_provider_of_synced_blocks(gcal):
    me = gcal.connected.email
    set_preferences(gcal, block_tentative=True)
    gcal.add(timed_event(at(2)))
    gcal.add(timed_event(at(3), attendees=[{"email": me, "responseStatus": "tentative"}]))
    gcal.add(all_day_event(at(5).date()))
    gcal.sync()
    response = gcal.connected.client.get(URL, {"start": at(0, 0).isoformat(), "end": at(7, 0).isoformat()})
    assert response.status_code == 200
    calendar = gcal.calendar.summary
    assert [(b["source"], b["source_name"], b["calendar"], b["reason"]) for b in response.json()] == [
        ("google", "Google Calendar", calendar, "busy"),
        ("google", "Google Calendar", calendar, "tentative"),
        ("google", "Google Calendar", calendar, "all_day"),
    ]
