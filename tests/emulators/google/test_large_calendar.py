"""A 20,000-event calendar is served page by page (the figure for the report comes from bench runs)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.emulators.google.conftest import ANN

COUNT = 20_000


@pytest.fixture
def big(emu):
    base = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    emu.insert_events(
        ANN,
        [
            {
                "start": {"dateTime": (base + dt.timedelta(minutes=30 * i)).isoformat()},
                "end": {"dateTime": (base + dt.timedelta(minutes=30 * i + 20)).isoformat()},
            }
            for i in range(COUNT)
        ],
    )
    return emu


def test_paging_through_twenty_thousand_events(big, service):
    for page_size in (2500, 250):
        _page_through(service, page_size)


def _page_through(service, page_size: int) -> None:
    ids, pages, token = [], 0, None
    while True:
        page = (
            service.events()
            .list(
                calendarId="primary",
                singleEvents=True,
                maxResults=page_size,
                pageToken=token,
                timeMin="2029-12-01T00:00:00Z",
            )
            .execute()
        )
        pages += 1
        ids += [item["id"] for item in page["items"]]
        token = page.get("nextPageToken")
        if not token:
            assert page["nextSyncToken"]
            break
        assert "nextSyncToken" not in page
    assert pages == COUNT // page_size
    assert len(ids) == len(set(ids)) == COUNT
