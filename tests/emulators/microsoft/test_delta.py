"""calendarView/delta: rounds over pages, delta links, @removed, series never split, 410 resets."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.emulators.microsoft.support import EVENT, shape_errors, timed, when

WINDOW = "startDateTime=2030-01-01T00:00:00Z&endDateTime=2030-03-01T00:00:00Z"


def delta_url(emu, calendar_id: str) -> str:
    return emu.graph_root + f"me/calendars/{calendar_id}/calendarView/delta?{WINDOW}"


def round_(graph, url: str) -> tuple[list[list[dict]], str]:
    pages, seen = [], set()
    while True:
        body = graph.get(url).json()
        pages.append(body["value"])
        if "@odata.deltaLink" in body:
            return pages, body["@odata.deltaLink"]
        url = body["@odata.nextLink"]
        assert url not in seen
        seen.add(url)


def weekly(subject="Stand-up", count=4, day="2030-01-07"):
    return {
        **timed(subject, day, 9, 10),
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {"type": "numbered", "startDate": day, "numberOfOccurrences": count},
        },
    }


def test_first_round_pages_by_maxpagesize_and_never_splits_a_series(emu, graph, calendar_id):
    emu.insert_events(calendar_id, [timed(f"E{n}", f"2030-01-{n + 1:02d}", 9, 10) for n in range(5)])
    master = emu.insert_event(calendar_id, weekly(count=6))
    graph.headers["Prefer"] = 'odata.maxpagesize=3, outlook.timezone="UTC"'
    pages, delta_link = round_(graph, delta_url(emu, calendar_id))
    flat = [item for page in pages for item in page]
    assert len(flat) == 5 + 1 + 6
    series_pages = [
        p for p in pages if any(i.get("seriesMasterId") == master["id"] or i["id"] == master["id"] for i in p)
    ]
    assert len(series_pages) == 1 and len(series_pages[0]) >= 7  # the whole series on one oversized page
    assert all(len(p) <= 3 for p in pages if p not in series_pages)
    assert "$deltatoken=" in delta_link and "startDateTime" not in delta_link
    sparse = [i for i in flat if i.get("type") == "occurrence"]
    assert set(sparse[0]) == {"@odata.type", "@odata.etag", "id", "seriesMasterId", "type", "start", "end"}
    for item in flat:
        if item.get("type") != "occurrence":
            assert shape_errors(item, EVENT) == []
    next_links = [c for c in emu.calls("calendarView.delta") if "$skiptoken" in c["query"]]
    assert next_links and all(set(c["query"]) == {"$skiptoken"} for c in next_links)


def test_incremental_rounds_report_created_updated_and_removed(emu, graph, calendar_id):
    keep = emu.insert_event(calendar_id, timed("Keep", "2030-01-02", 9, 10))
    change = emu.insert_event(calendar_id, timed("Change", "2030-01-03", 9, 10))
    drop = emu.insert_event(calendar_id, timed("Drop", "2030-01-04", 9, 10))
    _, link = round_(graph, delta_url(emu, calendar_id))
    empty, link2 = round_(graph, link)
    assert empty == [[]]

    new = emu.insert_event(calendar_id, timed("New", "2030-01-05", 9, 10))
    emu.update_event(calendar_id, change["id"], {"showAs": "free"})
    emu.delete_event(calendar_id, drop["id"])
    pages, link3 = round_(graph, link2)
    items = {i["id"]: i for page in pages for i in page}
    assert set(items) == {new["id"], change["id"], drop["id"]} and keep["id"] not in items
    assert items[change["id"]]["showAs"] == "free"
    assert items[drop["id"]] == {
        "@odata.type": "#microsoft.graph.event",
        "id": drop["id"],
        "@removed": {"reason": "deleted"},
    }
    assert round_(graph, link3)[0] == [[]]


def test_moving_out_of_the_window_and_new_events_outside_it_show_as_removed(emu, graph, calendar_id):
    inside = emu.insert_event(calendar_id, timed("Inside", "2030-01-02", 9, 10))
    _, link = round_(graph, delta_url(emu, calendar_id))
    emu.update_event(calendar_id, inside["id"], {"start": when("2031-05-01", 9), "end": when("2031-05-01", 10)})
    outside = emu.insert_event(calendar_id, timed("Far away", "2032-01-01", 9, 10))
    pages, _ = round_(graph, link)
    removed = {i["id"] for page in pages for i in page if "@removed" in i}
    assert removed == {inside["id"], outside["id"]}
    emu.configure(report_out_of_window_changes=False)
    _, link = round_(graph, delta_url(emu, calendar_id))
    emu.insert_event(calendar_id, timed("Even further", "2033-01-01", 9, 10))
    assert round_(graph, link)[0] == [[]]


def test_a_change_to_one_occurrence_resends_the_series_and_removes_a_deleted_one(emu, graph, calendar_id):
    master = emu.insert_event(calendar_id, weekly(count=4))
    pages, link = round_(graph, delta_url(emu, calendar_id))
    occurrences = [i for page in pages for i in page if i.get("type") == "occurrence"]
    emu.update_event(calendar_id, occurrences[0]["id"], {"showAs": "oof"})
    emu.delete_event(calendar_id, occurrences[1]["id"])
    pages, link2 = round_(graph, link)
    items = [i for page in pages for i in page]
    by_id = {i["id"]: i for i in items}
    assert by_id[master["id"]]["type"] == "seriesMaster"
    assert by_id[occurrences[0]["id"]]["type"] == "exception" and by_id[occurrences[0]["id"]]["showAs"] == "oof"
    assert by_id[occurrences[1]["id"]]["@removed"] == {"reason": "deleted"}
    assert {occurrences[2]["id"], occurrences[3]["id"]} <= set(by_id)

    emu.configure(report_removed_occurrences=False)
    emu.delete_event(calendar_id, occurrences[2]["id"])
    items = [i for page in round_(graph, link2)[0] for i in page]
    assert occurrences[2]["id"] not in {i["id"] for i in items} and master["id"] in {i["id"] for i in items}


def test_deleting_a_series_removes_master_and_occurrences(emu, graph, calendar_id):
    master = emu.insert_event(calendar_id, weekly(count=3))
    pages, link = round_(graph, delta_url(emu, calendar_id))
    ids = {i["id"] for page in pages for i in page}
    emu.delete_event(calendar_id, master["id"])
    removed = {i["id"] for page in round_(graph, link)[0] for i in page if "@removed" in i}
    assert removed == ids


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("SyncStateNotFound", "SyncStateNotFound"),
        ("syncStateNotFound", "syncStateNotFound"),
        ("resyncRequired", "resyncRequired"),
    ],
)
def test_invalidated_tokens_answer_410(emu, graph, calendar_id, mode, code):
    emu.configure(expired_delta_mode=mode)
    emu.insert_events(calendar_id, [timed(f"E{n}", f"2030-01-{n + 1:02d}", 9, 10) for n in range(4)])
    graph.headers["Prefer"] = "odata.maxpagesize=2"
    first = graph.get(delta_url(emu, calendar_id)).json()
    _, link = round_(graph, delta_url(emu, calendar_id))
    emu.invalidate_delta_tokens(calendar_id)
    for url in (link, first["@odata.nextLink"]):
        answer = graph.get(url)
        assert answer.status_code == 410 and answer.json()["error"]["code"] == code


def test_410_with_location_points_at_a_fresh_round(emu, graph, calendar_id):
    emu.configure(expired_delta_mode="location")
    emu.insert_event(calendar_id, timed("E", "2030-01-02", 9, 10))
    _, link = round_(graph, delta_url(emu, calendar_id))
    emu.invalidate_delta_tokens()
    answer = graph.get(link)
    assert answer.status_code == 410
    restart = answer.headers["Location"]
    assert parse_qs(urlsplit(restart).query)["startDateTime"] == ["2030-01-01T00:00:00Z"]
    pages, _ = round_(graph, restart)
    assert [i["subject"] for page in pages for i in page] == ["E"]


def test_delta_refuses_select_and_needs_a_window_and_unknown_tokens_are_410(emu, graph, calendar_id):
    base = emu.graph_root + f"me/calendars/{calendar_id}/calendarView/delta"
    select = graph.get(base + f"?{WINDOW}&$select=subject")
    assert select.status_code == 400 and select.json()["error"]["code"] == "ErrorInvalidUrlQuery"
    assert graph.get(base).status_code == 400
    assert graph.get(base + "?$deltatoken=made-up").status_code == 410


def test_default_calendar_delta_path_and_empty_page_fault(emu, graph, calendar_id):
    emu.insert_event(calendar_id, timed("E", "2030-01-02", 9, 10))
    emu.inject_fault("calendarView.delta", kind="empty_page")
    first = graph.get(emu.graph_root + f"me/calendarView/delta?{WINDOW}").json()
    assert first["value"] == [] and "me/calendarView/delta?$skiptoken=" in first["@odata.nextLink"]
    pages, link = round_(graph, first["@odata.nextLink"])
    assert [i["subject"] for page in pages for i in page] == ["E"] and "me/calendarView/delta" in link
