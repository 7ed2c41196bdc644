"""``CalDAVCalendarClient``: the :class:`~integrations.providers.base.CalendarClient` for CalDAV.

One poll of a calendar (caldav-protocol.md §10):

1. ``PROPFIND Depth: 0`` for ``D:sync-token`` and ``CS:getctag``; both as stored in the
   cursor -> one empty page, done (one request when nothing changed);
2. ``REPORT sync-collection`` from the stored token (an empty token for a full listing),
   following 507-truncated replies; 403/409/412 naming ``valid-sync-token`` (or a bare 403
   right after a token was sent) -> :class:`CursorExpired` (the engine runs a full sync and
   reconciles; never the ``caldav`` library's silent fallback);
3. changed objects fetched with ``calendar-multiget`` in batches of ``MULTIGET_BATCH``,
   stored timing-only (:class:`~integrations.models.CalDAVObject`) and expanded locally.

Each object is a group (``EventPage.replaced_groups``): its occurrences' ids are
``{href path}#{recurrence id in UTC}``, and a page carrying an object replaces all of its
stored blocks, so moved and removed occurrences go. A removed object is its group with no
events. The cursor is JSON ``{"token", "ctag"}``, opaque to everyone else.
:meth:`list_events_stored` re-expands the stored objects for the horizon roll: no request.
Two-way writes and the live check (SPEC §10, §11) are in ``bookings.py``; ``busy_between``
touches no database, so the live check may run it in a thread of its own.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from integrations.models import CalDAVObject, CalendarConnection, ExternalCalendar
from integrations.providers.base import (
    BookingEvent,
    ChannelInfo,
    CursorExpired,
    EventPage,
    InvalidRequest,
    NotFound,
    ProviderError,
    RemoteCalendar,
    RemoteEvent,
    TransientError,
)
from integrations.providers.caldav import bookings, xml
from integrations.providers.caldav.discovery import calendars_list, same_url
from integrations.providers.caldav.events import (
    UnreadableCalendar,
    group_of,
    occurrences,
    own_addresses,
    timing_only_parsed,
)
from integrations.providers.caldav.session import DAVSession, error_for

logger = logging.getLogger(__name__)

MULTIGET_BATCH = 50
MAX_SYNC_PAGES = 100  # 507-truncated replies followed per sync (the caldav library's limit too)
STORED_PAGE = 100  # objects per page when re-expanding stored objects
TOKEN_PRECONDITION = f"{xml.D}valid-sync-token"


@dataclass(frozen=True, slots=True)
class Cursor:
    token: str
    ctag: str

    def dump(self) -> str:
        return json.dumps({"token": self.token, "ctag": self.ctag}, separators=(",", ":"))

    @classmethod
    def load(cls, cursor: str | None) -> Cursor | None:
        if not cursor:
            return None
        try:
            data = json.loads(cursor)
            return cls(token=str(data.get("token") or ""), ctag=str(data.get("ctag") or ""))
        except (ValueError, AttributeError):
            return None  # not ours: start over with a full listing

    def unchanged(self, token: str, ctag: str) -> bool:
        if token and self.token:
            return token == self.token
        return bool(ctag) and ctag == self.ctag


@dataclass(slots=True)
class _Changes:
    changed: dict[str, str]  # encoded path -> etag
    removed: list[str]
    token: str


class CalDAVCalendarClient:
    def __init__(self, connection: CalendarConnection):
        self.connection = connection
        self.session = DAVSession(
            connection.account_email,
            connection.access_token or "",
            hosts={urlsplit(connection.server_url).hostname or ""},
        )
        addresses = connection.calendar_user_addresses.splitlines()
        self.own = own_addresses(addresses, connection.account_email)
        self.zone = connection.merchant.zone
        # What :meth:`unchanged` just read (a state, or the error it met), for list_events.
        self._checked: dict[str, tuple[str, str] | ProviderError] = {}

    # --- calendars ------------------------------------------------------------------------

    def list_calendars(self) -> list[RemoteCalendar]:
        return calendars_list(self.session, self.connection.server_url)

    # --- events ---------------------------------------------------------------------------

    def list_events(
        self, calendar_id: str, *, cursor: str | None, window_start: dt.datetime, window_end: dt.datetime
    ) -> Iterator[EventPage]:
        state = Cursor.load(cursor)
        checked = self._checked.pop(calendar_id, None)
        if isinstance(checked, ProviderError):
            raise checked  # the check failed just now: the run records that, without asking again
        token, ctag = checked or self._collection_state(calendar_id)
        if state is not None and state.unchanged(token, ctag):
            yield EventPage(next_cursor=cursor)
            return
        full = state is None or not state.token
        changes = self._changes(calendar_id, "" if full else state.token)
        calendar = self._stored_calendar(calendar_id)
        window = (window_start, window_end)
        hrefs = list(changes.changed)
        for i in range(0, len(hrefs), MULTIGET_BATCH):
            yield self._fetch_page(calendar, calendar_id, hrefs[i : i + MULTIGET_BATCH], window)
        if full and calendar is not None:
            listed = {group_of(h) for h in hrefs}
            gone = [
                o.href
                for o in CalDAVObject.objects.filter(calendar=calendar).only("href")
                if group_of(o.href) not in listed
            ]
            changes.removed = gone  # the engine's sweep removes their blocks; the cache goes here
        if changes.removed and calendar is not None:
            CalDAVObject.objects.filter(calendar=calendar, href__in=changes.removed).delete()
        yield EventPage(
            replaced_groups=sorted({group_of(h) for h in changes.removed}),
            next_cursor=Cursor(token=changes.token or token, ctag=ctag).dump(),
        )

    def unchanged(self, calendar_id: str, *, cursor: str | None) -> bool:
        """The poll's cheap check alone (one ``PROPFIND Depth: 0``): True when the collection's
        sync-token (or ctag) is still the cursor's, so there is nothing to list. A changed state
        is kept for the :meth:`list_events` that follows on this client, and so is an error:
        the server is not asked twice."""
        state = Cursor.load(cursor)
        if state is None:
            return False
        try:
            self._checked[calendar_id] = self._collection_state(calendar_id)
        except ProviderError as exc:
            self._checked[calendar_id] = exc
            raise
        if state.unchanged(*self._checked[calendar_id]):
            del self._checked[calendar_id]
            return True
        return False

    def list_events_stored(
        self, calendar_id: str, *, window_start: dt.datetime, window_end: dt.datetime
    ) -> Iterator[EventPage]:
        """The stored objects re-expanded over the window, without a request (the horizon roll)."""
        calendar = self._calendar(calendar_id)
        page = EventPage()
        for obj in CalDAVObject.objects.filter(calendar=calendar).order_by("pk").iterator(chunk_size=STORED_PAGE):
            group = group_of(obj.href)
            try:
                page.events += occurrences(
                    obj.data,
                    group=group,
                    own=self.own,
                    zone=self.zone,
                    window_start=window_start,
                    window_end=window_end,
                )
            except UnreadableCalendar:
                logger.warning("stored CalDAV object %s of calendar %s is unreadable", obj.pk, calendar.pk)
                continue
            page.replaced_groups.append(group)
            if len(page.replaced_groups) >= STORED_PAGE:
                yield page
                page = EventPage()
        yield page

    # --- push and revocation: CalDAV has neither (Provider.push is False) -------------------

    def watch(self, calendar_id: str, *, address: str, channel_id: str, token: str) -> ChannelInfo:
        raise InvalidRequest("CalDAV servers do not notify third parties: calendars are polled")

    def renew_channel(self, *, channel_id: str, resource_id: str) -> ChannelInfo | None:
        return None

    def stop_channel(self, *, channel_id: str, resource_id: str) -> None:
        return None

    def revoke(self) -> None:
        """Nothing to revoke at the server: the merchant revokes the (app-specific) password there."""
        return None

    # --- two-way (SPEC §10) and the live check (§11): see bookings.py ----------------------

    def bookings_calendar_create(self, name: str, *, time_zone: str) -> RemoteCalendar:
        slug = bookings.bookings_slug(self.connection.server_url, self.connection.merchant_id)
        return bookings.calendar_create(self.session, self.connection.server_url, slug, name, time_zone=time_zone)

    def booking_event_put(self, calendar_id: str, event: BookingEvent) -> None:
        bookings.event_put(self.session, calendar_id, event)

    def booking_event_delete(self, calendar_id: str, booking_uid: str) -> None:
        bookings.event_delete(self.session, calendar_id, booking_uid)

    def busy_between(self, calendar_ids: list[str], *, start: dt.datetime, end: dt.datetime) -> list[RemoteEvent]:
        return bookings.busy_between(self.session, calendar_ids, start=start, end=end, own=self.own, zone=self.zone)

    # --- requests -------------------------------------------------------------------------

    def _stored_calendar(self, calendar_id: str) -> ExternalCalendar | None:
        """The stored calendar whose objects we keep; None for one the sync does not hold (the
        bookings calendar, listed only to check it): it is listed without keeping anything."""
        return ExternalCalendar.objects.filter(connection_id=self.connection.pk, external_id=calendar_id).first()

    def _calendar(self, calendar_id: str) -> ExternalCalendar:
        calendar = self._stored_calendar(calendar_id)
        if calendar is None:
            raise NotFound("this calendar is not stored for the connection")
        return calendar

    def _collection_state(self, calendar_id: str) -> tuple[str, str]:
        answer = self.session.call("PROPFIND", calendar_id, body=xml.COLLECTION_STATE, depth="0", what="change check")
        responses, _ = self._multistatus(answer.body)
        token = ctag = ""
        for response in responses:
            token = token or response.text(f"{xml.D}sync-token")
            ctag = ctag or response.text(f"{xml.CS}getctag")
        return token, ctag

    def _changes(self, calendar_id: str, token: str) -> _Changes:
        changes = _Changes(changed={}, removed=[], token=token)
        sent = token
        for _ in range(MAX_SYNC_PAGES):
            answer = self.session.call(
                "REPORT", calendar_id, body=xml.sync_collection(sent), depth="1",
                accept=(207, 403, 409, 412), what="sync-collection",
            )  # fmt: skip
            if answer.status != 207:
                names = xml.error_names(answer.body)
                if sent and (TOKEN_PRECONDITION in names or (answer.status == 403 and not names)):
                    raise CursorExpired(f"the CalDAV sync token is no longer valid ({answer.status})")
                raise error_for(answer, "sync-collection")
            responses, new_token = self._multistatus(answer.body)
            truncated = False
            for response in responses:
                url = urljoin(answer.url, response.href)
                if same_url(url, calendar_id):
                    truncated = truncated or response.status == 507
                    continue  # iCloud lists the collection itself among the changes
                path = urlsplit(url).path
                if response.status == 404:
                    changes.changed.pop(path, None)
                    changes.removed.append(path)
                elif response.props:
                    changes.changed[path] = response.text(f"{xml.D}getetag")
                    if path in changes.removed:
                        changes.removed.remove(path)
            if new_token:
                changes.token = sent = new_token
            if not truncated:
                return changes
            if not new_token:
                raise TransientError("a truncated sync-collection reply carried no token to continue from")
        raise TransientError("the sync-collection reply stayed truncated after too many pages")

    def _fetch_page(self, calendar: ExternalCalendar | None, calendar_id: str, hrefs: list[str], window) -> EventPage:
        answer = self.session.call(
            "REPORT", calendar_id, body=xml.calendar_multiget(hrefs), depth="1", what="calendar-multiget"
        )
        responses, _ = self._multistatus(answer.body)
        page = EventPage()
        fetched: dict[str, CalDAVObject] = {}
        unreadable: set[str] = set()
        for response in responses:
            path = urlsplit(urljoin(answer.url, response.href)).path
            data = response.text(f"{xml.C}calendar-data")
            group = group_of(path)
            if response.status == 404 or not data:
                page.replaced_groups.append(group)  # removed meanwhile
                continue
            try:
                stored, parsed = timing_only_parsed(data, self.own)
                events = occurrences(
                    parsed, group=group, own=self.own, zone=self.zone, window_start=window[0], window_end=window[1]
                )
            except UnreadableCalendar:
                logger.warning("CalDAV object %s of calendar %s is unreadable; left as it was", path, calendar_id)
                unreadable.add(group)
                continue
            fetched[path] = CalDAVObject(
                calendar=calendar, href=path, etag=response.text(f"{xml.D}getetag")[:255], data=stored
            )  # kept only for a stored calendar (below)
            page.events += events
            page.replaced_groups.append(group)
        answered = {group_of(p) for p in fetched} | set(page.replaced_groups) | unreadable
        page.replaced_groups += sorted({group_of(h) for h in hrefs} - answered)  # not returned: gone as well
        if calendar is not None:
            replaced = set(page.replaced_groups)
            stale = [h for h in hrefs if group_of(h) in replaced] + list(fetched)
            CalDAVObject.objects.filter(calendar=calendar, href__in=stale).delete()
            CalDAVObject.objects.bulk_create(fetched.values())
        return page

    @staticmethod
    def _multistatus(body: bytes):
        try:
            return xml.multistatus(body)
        except xml.UnreadableXML as exc:
            raise TransientError(str(exc)) from exc
