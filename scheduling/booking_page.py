"""``/book/<slug>``: the public booking page, its confirmation and the customer's manage page.

Customers see free offered slots only (``scheduling.selectors.public_slots``: business
hours minus bookings minus blocked times, under the merchant's booking rules), so no event
detail, calendar name or source ever reaches these pages. Times are shown in the
customer's own zone when the browser told us (``?tz=``, set by ``app.js`` from
``Intl.DateTimeFormat``), with the merchant's zone named when they differ; without
JavaScript, in the merchant's zone. Booking and moving go through ``scheduling.services``,
which re-checks under a lock: a slot taken since the page was loaded is refused (409) and
the page says so in plain words, keeping what the customer typed.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from types import SimpleNamespace

from django.core import signing
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.api import ApplicationError
from merchants.models import Merchant
from scheduling import selectors, services
from scheduling.fields import available_zones
from scheduling.forms import BookingForm, RescheduleForm
from scheduling.localtime import local_midnight
from scheduling.models import Booking
from scheduling.throttles import booking_throttle_wait
from scheduling.tokens import booking_token, booking_uid_from_token

DAYS_SHOWN = 7
CONFIRMATION_SALT = "scheduling.booking-confirmation"
CONFIRMATION_MAX_AGE = 7 * 24 * 3600

REFUSALS = {
    "unavailable": "Sorry, {when} was just taken by someone else. Please choose another time below.",
    "in_past": "Sorry, {when} has already begun. Please choose a later time.",
    "outside_business_hours": "Sorry, {when} is outside the opening hours. Please choose one of the times below.",
    "not_offered": "Sorry, {when} is not one of the times offered. Please choose one of the times below.",
    "too_soon": "Sorry, {when} is too soon to book. Please choose a later time.",
    "too_far_ahead": "Sorry, {when} is too far ahead to book yet. Please choose an earlier time.",
    "too_many_bookings": "You already have several upcoming bookings here. Please cancel one (from its "
    "confirmation email) before booking another.",
    "cancelled": "This booking was cancelled, so it can no longer be moved. Please make a new booking.",
}
RATE_LIMITED = "Too many bookings were attempted from here just now. Please try again in {minutes} minutes."


@dataclass(frozen=True)
class Slot:
    value: str  # the start instant, ISO 8601 with offset: what the form posts back
    label: str  # "10:30" in the customer's zone


@dataclass(frozen=True)
class SlotDay:
    date: dt.date
    is_open: bool
    slots: list[Slot]


def customer_zone(value: str | None, merchant: Merchant) -> zoneinfo.ZoneInfo:
    """The zone the page shows times in: the browser's when it is a real IANA zone, else the merchant's."""
    if value and value in available_zones():
        return zoneinfo.ZoneInfo(value)
    return merchant.zone


def _first_day(value: str | None, today: dt.date, last: dt.date) -> dt.date:
    try:
        chosen = parse_date(value or "")
    except ValueError:
        chosen = None
    if chosen is None or chosen < today:
        return today
    return min(chosen, last)


def _duration(value, merchant: Merchant) -> int:
    offered = sorted(merchant.slot_lengths)
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        return offered[0]
    return minutes if minutes in offered else offered[0]


def _slot_days(merchant: Merchant, zone: zoneinfo.ZoneInfo, first: dt.date, duration: int) -> list[SlotDay]:
    start, end = local_midnight(first, zone), local_midnight(first + dt.timedelta(days=DAYS_SHOWN), zone)
    open_dates = set()
    for opens, closes in selectors.business_intervals(merchant=merchant, start=start, end=end):
        day = opens.astimezone(zone).date()
        while day <= (closes - dt.timedelta(seconds=1)).astimezone(zone).date():
            open_dates.add(day)
            day += dt.timedelta(days=1)
    by_date: dict[dt.date, list[Slot]] = {}
    for slot_start, _slot_end in selectors.public_slots(
        merchant=merchant, start=start, end=end, duration=dt.timedelta(minutes=duration)
    ):
        local = slot_start.astimezone(zone)
        by_date.setdefault(local.date(), []).append(Slot(local.isoformat(), f"{local:%H:%M}"))
    days = []
    for offset in range(DAYS_SHOWN):
        date = first + dt.timedelta(days=offset)
        days.append(SlotDay(date=date, is_open=date in open_dates, slots=by_date.get(date, [])))
    return days


def picker_context(request, merchant: Merchant, zone: zoneinfo.ZoneInfo, *, source) -> dict:
    """What the slot picker shows: a week of days from ``?from=`` (or the posted ``from``)."""
    now = timezone.now()
    today = now.astimezone(zone).date()
    last_day = (now + merchant.booking_horizon).astimezone(zone).date()
    first = _first_day(source.get("from"), today, last_day)
    duration = _duration(source.get("duration"), merchant)
    days = _slot_days(merchant, zone, first, duration)
    following = first + dt.timedelta(days=DAYS_SHOWN)
    return {
        "days": days,
        "has_slots": any(day.slots for day in days),
        "first": first,
        "last": first + dt.timedelta(days=DAYS_SHOWN - 1),
        "previous": max(first - dt.timedelta(days=DAYS_SHOWN), today) if first > today else None,
        "next": following if following <= last_day else None,
        "duration": duration,
        "durations": sorted(merchant.slot_lengths),
        "zone_name": zone.key,
        "zone_differs": zone.key != merchant.time_zone,
        "tz": zone.key if zone.key != merchant.time_zone else "",
    }


def _when(start: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    return f"{start.astimezone(zone):%A %-d %B at %H:%M}"


def _refusal(exc: ApplicationError, start: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    text = REFUSALS.get(exc.code, "Sorry, {when} cannot be booked. Please choose another time.")
    return text.format(when=_when(start, zone))


def _render(request, merchant: Merchant, zone, *, form: BookingForm, refusal: str = "", status: int | None = None):
    source = request.POST if request.method == "POST" else request.GET
    context = {
        "merchant": merchant,
        **picker_context(request, merchant, zone, source=source),
        "form": form,
        "chosen": form["start"].value() if form.is_bound else None,
        "refusal": refusal,
    }
    if status is None:
        status = 409 if refusal else (400 if form.errors else 200)
    return render(request, "booking/book.html", context, status=status)


def _throttled(request, slug: str) -> float | None:
    return booking_throttle_wait(request, SimpleNamespace(kwargs={"slug": slug}))


@require_http_methods(["GET", "POST"])
def booking_page(request, slug: str):
    merchant = get_object_or_404(Merchant, slug=slug)
    source = request.POST if request.method == "POST" else request.GET
    zone = customer_zone(source.get("tz"), merchant)
    if request.method == "GET":
        form = BookingForm(initial={"duration": _duration(request.GET.get("duration"), merchant)}, merchant=merchant)
        return _render(request, merchant, zone, form=form)

    form = BookingForm(request.POST, merchant=merchant)
    if not form.is_valid():
        return _render(request, merchant, zone, form=form)
    wait = _throttled(request, slug)
    if wait is not None:
        minutes = max(1, round(wait / 60))
        return _render(request, merchant, zone, form=form, refusal=RATE_LIMITED.format(minutes=minutes), status=429)
    start = form.cleaned_data["start"]
    try:
        booking = services.booking_create(
            merchant=merchant,
            start=start,
            end=start + dt.timedelta(minutes=form.cleaned_data["duration"]),
            customer_name=form.cleaned_data["customer_name"],
            customer_email=form.cleaned_data["customer_email"],
            customer_time_zone=zone.key,
        )
    except ApplicationError as exc:
        if exc.status_code != 409:
            form.add_error(None, exc.message)
            return _render(request, merchant, zone, form=form)
        return _render(request, merchant, zone, form=form, refusal=_refusal(exc, start, zone))
    token = signing.dumps(booking.pk, salt=CONFIRMATION_SALT)
    suffix = f"&tz={zone.key}" if zone.key != merchant.time_zone else ""
    return redirect(f"/book/{merchant.slug}/confirmed?b={token}{suffix}")


def _booking_context(merchant: Merchant, booking: Booking, zone: zoneinfo.ZoneInfo) -> dict:
    return {
        "merchant": merchant,
        "booking": booking,
        "start": booking.start.astimezone(zone),
        "end": booking.end.astimezone(zone),
        "merchant_start": booking.start.astimezone(merchant.zone),
        "merchant_end": booking.end.astimezone(merchant.zone),
        "zone_name": zone.key,
        "zone_differs": zone.key != merchant.time_zone,
        "tz": zone.key if zone.key != merchant.time_zone else "",
        "manage_url": f"/book/{merchant.slug}/manage/{booking_token(booking.uid)}",
    }


@require_GET
def booking_confirmed(request, slug: str):
    merchant = get_object_or_404(Merchant, slug=slug)
    try:
        booking_id = signing.loads(request.GET.get("b", ""), salt=CONFIRMATION_SALT, max_age=CONFIRMATION_MAX_AGE)
    except signing.BadSignature as exc:
        raise Http404("No such booking confirmation.") from exc
    booking = get_object_or_404(Booking, pk=booking_id, merchant=merchant)
    zone = customer_zone(request.GET.get("tz") or booking.customer_time_zone, merchant)
    return render(request, "booking/confirmed.html", _booking_context(merchant, booking, zone))


def _managed(slug: str, token: str) -> tuple[Merchant, Booking]:
    uid = booking_uid_from_token(token)
    booking = Booking.objects.select_related("merchant").filter(uid=uid, merchant__slug=slug).first() if uid else None
    if booking is None:
        raise Http404("No such booking.")
    return booking.merchant, booking


def _render_manage(request, merchant, booking, zone, *, form=None, refusal="", notice="", status=200):
    source = request.POST if request.method == "POST" else request.GET
    context = {
        **_booking_context(merchant, booking, zone),
        **picker_context(request, merchant, zone, source=source),
        "form": form or RescheduleForm(merchant=merchant),
        "chosen": form["start"].value() if form is not None and form.is_bound else None,
        "refusal": refusal,
        "notice": notice,
        "can_change": not booking.is_cancelled and booking.start > timezone.now(),
    }
    return render(request, "booking/manage.html", context, status=status)


@require_http_methods(["GET", "POST"])
def booking_manage(request, slug: str, token: str):
    """The customer's page for one booking: see it, move it to another offered slot, cancel it."""
    merchant, booking = _managed(slug, token)
    source = request.POST if request.method == "POST" else request.GET
    zone = customer_zone(source.get("tz") or booking.customer_time_zone, merchant)
    if request.method == "GET":
        notice = {"moved": "Your booking has moved.", "cancelled": "Your booking is cancelled."}.get(
            request.GET.get("done", ""), ""
        )
        return _render_manage(request, merchant, booking, zone, notice=notice)
    form = RescheduleForm(request.POST, merchant=merchant)
    if not form.is_valid():
        return _render_manage(request, merchant, booking, zone, form=form, status=400)
    start = form.cleaned_data["start"]
    try:
        services.booking_reschedule(
            booking=booking, start=start, end=start + dt.timedelta(minutes=form.cleaned_data["duration"])
        )
    except ApplicationError as exc:
        return _render_manage(
            request, merchant, booking, zone, form=form, refusal=_refusal(exc, start, zone), status=exc.status_code
        )
    return redirect(_manage_url(merchant, token, zone, done="moved"))


def _manage_url(merchant: Merchant, token: str, zone: zoneinfo.ZoneInfo, *, done: str) -> str:
    suffix = f"&tz={zone.key}" if zone.key != merchant.time_zone else ""
    return f"/book/{merchant.slug}/manage/{token}?done={done}{suffix}"


@require_POST
def booking_manage_cancel(request, slug: str, token: str):
    merchant, booking = _managed(slug, token)
    zone = customer_zone(request.POST.get("tz") or booking.customer_time_zone, merchant)
    try:
        services.booking_cancel(booking=booking, by=Booking.By.CUSTOMER)
    except ApplicationError as exc:
        return _render_manage(request, merchant, booking, zone, refusal=exc.message, status=exc.status_code)
    return redirect(_manage_url(merchant, token, zone, done="cancelled"))
