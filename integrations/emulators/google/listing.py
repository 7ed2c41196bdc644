"""events.list / events.instances evaluation: filtering, recurring expansion, paging, sync tokens.

A listing is computed once per (query, calendar change counter) and cached on the calendar,
so paging through 20,000 events only slices a list of pre-rendered JSON fragments. Page
tokens carry the snapshot counter and offset; the sync token handed out on the last page is
that first page's counter, so changes made while a client pages are never lost.
https://developers.google.com/calendar/api/guides/sync
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from . import errors
from .render import Ghost, RenderContext, render
from .state import Calendar, Event
from .store import instance_id, make_instance, occurrences

LIST_CACHE_SIZE = 24


@dataclass(frozen=True)
class EventQuery:
    single_events: bool = False
    show_deleted: bool = False
    time_min: dt.datetime | None = None
    time_max: dt.datetime | None = None
    updated_min: dt.datetime | None = None
    order_by: str | None = None
    event_types: frozenset[str] | None = None
    q: str | None = None
    ical_uid: str | None = None
    private_ext: tuple[tuple[str, str], ...] = ()
    shared_ext: tuple[tuple[str, str], ...] = ()
    sync_seq: int | None = None
    instances_of: str | None = None
    original_start: dt.datetime | None = None
    binding: str = ""  # everything but pageToken/maxResults, for binding page tokens to the query
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def selection_key(self) -> tuple:
        return (
            self.single_events,
            self.show_deleted,
            self.time_min,
            self.time_max,
            self.updated_min,
            self.order_by,
            self.event_types,
            self.q,
            self.ical_uid,
            self.private_ext,
            self.shared_ext,
            self.sync_seq,
            self.instances_of,
            self.original_start,
        )


# --- tokens -------------------------------------------------------------------------------


def encode_token(prefix: str, payload: dict) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return prefix + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(prefix: str, token: str) -> dict | None:
    if not token.startswith(prefix):
        return None
    text = token[len(prefix) :]
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, TypeError):
        return None
    return data if isinstance(data, dict) else None


def make_sync_token(calendar: Calendar, seq: int, boot_id: str) -> str:
    return encode_token("CP", {"c": calendar.id, "s": seq, "e": calendar.sync_epoch, "b": boot_id})


def read_sync_token(calendar: Calendar, token: str, boot_id: str) -> int:
    """The change counter a sync token stands for; 410 fullSyncRequired when stale or foreign."""
    data = decode_token("CP", token)
    if (
        not data
        or data.get("b") != boot_id
        or data.get("c") != calendar.id
        or data.get("e") != calendar.sync_epoch
        or not isinstance(data.get("s"), int)
        or data["s"] > calendar.change_seq
    ):
        raise errors.full_sync_required()
    return data["s"]


def binding_hash(binding: str) -> str:
    return hashlib.sha1(binding.encode()).hexdigest()[:12]


def make_page_token(binding: str, snapshot: int, offset: int, boot_id: str) -> str:
    return encode_token("EP", {"k": binding_hash(binding), "s": snapshot, "o": offset, "b": boot_id})


def read_page_token(token: str, binding: str, boot_id: str) -> tuple[int, int]:
    data = decode_token("EP", token)
    if (
        not data
        or data.get("k") != binding_hash(binding)
        or data.get("b") != boot_id
        or not isinstance(data.get("s"), int)
        or not isinstance(data.get("o"), int)
    ):
        raise errors.invalid_param("pageToken", "Invalid Value")
    return data["s"], data["o"]


# --- selection ----------------------------------------------------------------------------


def _in_window(start: dt.datetime, end: dt.datetime, query: EventQuery) -> bool:
    # Google: an event is returned when end > timeMin and start < timeMax. Zero-length events
    # count as covering their start instant.
    if query.time_min is not None and not (end > query.time_min or (end == start and start >= query.time_min)):
        return False
    return not (query.time_max is not None and start >= query.time_max)


def _text_of(body: dict) -> str:
    parts = [body.get("summary", ""), body.get("description", ""), body.get("location", "")]
    for person in [body.get("organizer") or {}, *(body.get("attendees") or [])]:
        parts += [person.get("email", ""), person.get("displayName", "")]
    return " ".join(parts).lower()


def _matches_filters(item, query: EventQuery) -> bool:
    if query.event_types is not None and item.event_type not in query.event_types:
        return False
    body = item.body
    if query.q and not all(word in _text_of(body) for word in query.q.lower().split()):
        return False
    if query.ical_uid is not None:
        master_id = item.master.id if hasattr(item, "master") else (item.recurring_event_id or item.id)
        if (body.get("iCalUID") or f"{master_id}@google.com") != query.ical_uid:
            return False
    for kind, wanted in (("private", query.private_ext), ("shared", query.shared_ext)):
        props = (body.get("extendedProperties") or {}).get(kind) or {}
        if any(props.get(name) != value for name, value in wanted):
            return False
    return not (query.updated_min is not None and item.updated_ms < query.updated_min.timestamp() * 1000)


def _shows_cancelled(query: EventQuery) -> bool:
    return query.show_deleted or query.updated_min is not None


def _series_items(master: Event, calendar: Calendar, query: EventQuery, horizon: dt.datetime, *, window: bool):
    """Instances of ``master`` with stored exceptions applied (cancelled ones included)."""
    until = query.time_max if (window and query.time_max is not None) else horizon
    for original in occurrences(master, until):
        exception = calendar.events.get(instance_id(master.id, original))
        if master.status == "cancelled":
            item = make_instance(master, original)  # a deleted series: every instance is cancelled
        elif exception is not None:
            item = exception
        else:
            item = make_instance(master, original)
        if window and not _in_window(item.start_utc, item.end_utc, query):
            continue
        yield item


def _series_overlaps(master: Event, query: EventQuery, horizon: dt.datetime) -> bool:
    if query.time_min is None and query.time_max is None:
        return True
    for original in occurrences(master, query.time_max or horizon):
        instance = make_instance(master, original)
        if _in_window(instance.start_utc, instance.end_utc, query):
            return True
        if query.time_max is not None and instance.start_utc >= query.time_max:
            return False
    return False


def _is_orphan(event: Event, calendar: Calendar) -> bool:
    """An exception whose series master is not on ``calendar``."""
    master = calendar.events.get(event.recurring_event_id)
    return master is None or not master.is_master


def _full_listing(calendar: Calendar, query: EventQuery, horizon: dt.datetime) -> list:
    show_cancelled = _shows_cancelled(query)
    items = []
    for event in list(calendar.events.values()):
        if event.recurring_event_id:
            master = calendar.events.get(event.recurring_event_id)
            if _is_orphan(event, calendar):
                # An occurrence without its series on this calendar (the owner was invited to
                # that one occurrence only): listed like a one-off event, in both modes.
                if event.status == "cancelled" and not show_cancelled:
                    continue
            elif query.single_events:
                continue  # reached through its master
            elif master.status == "cancelled" and not show_cancelled:
                continue
            # Cancelled exceptions of a live series are listed even without showDeleted.
            if not _in_window(event.start_utc, event.end_utc, query):
                continue
            if _matches_filters(event, query):
                items.append(event)
        elif event.is_master:
            if query.single_events:
                for item in _series_items(event, calendar, query, horizon, window=True):
                    if item.status == "cancelled" and not show_cancelled:
                        continue
                    if _matches_filters(item, query):
                        items.append(item)
            else:
                if event.status == "cancelled" and not show_cancelled:
                    continue
                if _series_overlaps(event, query, horizon) and _matches_filters(event, query):
                    items.append(event)
        else:
            if event.status == "cancelled" and not show_cancelled:
                continue
            if _in_window(event.start_utc, event.end_utc, query) and _matches_filters(event, query):
                items.append(event)
    if query.order_by == "updated":
        items.sort(key=lambda item: (item.updated_ms, item.id))
    elif query.single_events:
        # orderBy=startTime, and the (unspecified but stable) default for expanded listings.
        items.sort(key=lambda item: (item.start_utc, item.id))
    return items


def _incremental_listing(calendar: Calendar, query: EventQuery, horizon: dt.datetime) -> list:
    since = query.sync_seq
    changed = sorted((e for e in calendar.events.values() if e.seq > since), key=lambda e: e.seq)
    items: list = []
    seen: set[str] = set()

    def add(item):
        if item.id not in seen and (query.event_types is None or item.event_type in query.event_types):
            seen.add(item.id)
            items.append(item)

    for event in changed:
        if not query.single_events or not (event.is_master or event.recurring_event_id):
            add(event)
        elif event.is_master:
            for item in _series_items(event, calendar, query, horizon, window=False):
                add(item)
            for ghost_id, (original, seq) in event.ghosts.items():
                if seq > since:
                    add(Ghost(ghost_id, event, original, seq, {}))
        elif _is_orphan(event, calendar) or calendar.events[event.recurring_event_id].seq <= since:
            add(event)
    return items


def compute(calendar: Calendar, query: EventQuery, snapshot: int, horizon: dt.datetime) -> list:
    key = (query.selection_key(), snapshot)
    cached = calendar.list_cache.get(key)
    if cached is not None:
        calendar.list_cache.move_to_end(key)
        return cached
    if query.instances_of is not None:
        items = _instances_listing(calendar, query, horizon)
    elif query.sync_seq is not None:
        items = _incremental_listing(calendar, query, horizon)
    else:
        items = _full_listing(calendar, query, horizon)
    calendar.list_cache[key] = items
    while len(calendar.list_cache) > LIST_CACHE_SIZE:
        calendar.list_cache.popitem(last=False)
    return items


def _instances_listing(calendar: Calendar, query: EventQuery, horizon: dt.datetime) -> list:
    event = calendar.events[query.instances_of]
    if not event.is_master:
        candidates = [event] if _in_window(event.start_utc, event.end_utc, query) else []
    else:
        candidates = list(_series_items(event, calendar, query, horizon, window=True))
    out = []
    for item in candidates:
        if item.status == "cancelled" and not query.show_deleted:
            continue
        if query.original_start is not None:
            original_utc = getattr(item, "original_utc", None) or item.start_utc
            if original_utc != query.original_start:
                continue
        out.append(item)
    return out


# --- response -----------------------------------------------------------------------------


@dataclass
class Page:
    items: list
    next_page_token: str | None
    next_sync_token: str | None


def page(
    calendar: Calendar,
    query: EventQuery,
    *,
    max_results: int,
    page_token: str | None,
    boot_id: str,
    horizon: dt.datetime,
    with_sync_token: bool,
    empty: bool = False,
) -> Page:
    if page_token:
        snapshot, offset = read_page_token(page_token, query.binding, boot_id)
    else:
        snapshot, offset = calendar.change_seq, 0
    if empty:  # Google may answer a page without items; only a missing nextPageToken ends paging
        return Page([], make_page_token(query.binding, snapshot, offset, boot_id), None)
    items = compute(calendar, query, snapshot, horizon)
    chunk = items[offset : offset + max_results]
    end = offset + len(chunk)
    if end < len(items):
        return Page(chunk, make_page_token(query.binding, snapshot, end, boot_id), None)
    sync = make_sync_token(calendar, snapshot, boot_id) if with_sync_token else None
    return Page(chunk, None, sync)


def events_body(head: dict, result: Page, ctx: RenderContext, fields: str | None) -> bytes:
    """The ``Events`` JSON, joining cached item fragments unless a ``fields`` selector is given."""
    head = dict(head)
    if result.next_page_token:
        head["nextPageToken"] = result.next_page_token
    if result.next_sync_token:
        head["nextSyncToken"] = result.next_sync_token
    if fields:
        from .fields import apply_fields

        full = {**head, "items": [render(item, ctx)[0] for item in result.items]}
        return json.dumps(apply_fields(full, fields)).encode()
    fragments = ",".join(render(item, ctx)[1] for item in result.items)
    return (json.dumps(head)[:-1] + ',"items":[' + fragments + "]}").encode()
