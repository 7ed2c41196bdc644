"""``/book/<slug>``: the public booking page. Customers see free slots only and book one.

Free slots come from ``scheduling.selectors.availability_slots`` (business hours minus
bookings minus blocked times), so no event detail, calendar name or source ever reaches
this page. Booking goes through ``scheduling.services.booking_create``, which re-checks
under a lock: a slot taken since the page was loaded is refused (409) and the page says
so in plain words, keeping what the customer typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core import signing
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_http_methods

from config.api import ApplicationError
from merchants.models import Merchant
from scheduling import selectors, services
from scheduling.forms import BOOKING_DURATIONS, BookingForm
from scheduling.localtime import local_midnight
from scheduling.models import Booking

DAYS_SHOWN = 7
MAX_DAYS_AHEAD = 365
CONFIRMATION_SALT = "scheduling.booking-confirmation"
CONFIRMATION_MAX_AGE = 7 * 24 * 3600

REFUSALS = {
    "unavailable": "Sorry, {when} was just taken by someone else. Please choose another time below.",
    "in_past": "Sorry, {when} has already begun. Please choose a later time.",
    "outside_business_hours": "Sorry, {when} is outside the opening hours. Please choose one of the times below.",
}


@dataclass(frozen=True)
class Slot:
    value: str  # the start instant, ISO 8601 with offset: what the form posts back
    label: str  # "10:30"


@dataclass(frozen=True)
class SlotDay:
    date: dt.date
    is_open: bool
    slots: list[Slot]


def _first_day(value: str | None, today: dt.date) -> dt.date:
    try:
        chosen = parse_date(value or "")
    except ValueError:
        chosen = None
    if chosen is None or chosen < today:
        return today
    return min(chosen, today + dt.timedelta(days=MAX_DAYS_AHEAD))


def _duration(value) -> int:
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        return BOOKING_DURATIONS[0]
    return minutes if minutes in BOOKING_DURATIONS else BOOKING_DURATIONS[0]


def _slot_days(merchant: Merchant, first: dt.date, duration: int) -> list[SlotDay]:
    zone = merchant.zone
    start, end = local_midnight(first, zone), local_midnight(first + dt.timedelta(days=DAYS_SHOWN), zone)
    open_dates = set()
    for opens, closes in selectors.business_intervals(merchant=merchant, start=start, end=end):
        day = opens.astimezone(zone).date()
        while day <= closes.astimezone(zone).date():
            open_dates.add(day)
            day += dt.timedelta(days=1)
    by_date: dict[dt.date, list[Slot]] = {}
    for slot_start, _slot_end in selectors.availability_slots(
        merchant=merchant, start=start, end=end, duration=dt.timedelta(minutes=duration)
    ):
        local = slot_start.astimezone(zone)
        by_date.setdefault(local.date(), []).append(Slot(local.isoformat(), f"{local:%H:%M}"))
    days = []
    for offset in range(DAYS_SHOWN):
        date = first + dt.timedelta(days=offset)
        days.append(SlotDay(date=date, is_open=date in open_dates, slots=by_date.get(date, [])))
    return days


def _render(request, merchant: Merchant, *, first: dt.date, duration: int, form: BookingForm, refusal: str = ""):
    today = timezone.now().astimezone(merchant.zone).date()
    days = _slot_days(merchant, first, duration)
    context = {
        "merchant": merchant,
        "days": days,
        "has_slots": any(day.slots for day in days),
        "first": first,
        "last": first + dt.timedelta(days=DAYS_SHOWN - 1),
        "previous": first - dt.timedelta(days=DAYS_SHOWN) if first > today else None,
        "next": first + dt.timedelta(days=DAYS_SHOWN),
        "duration": duration,
        "durations": BOOKING_DURATIONS,
        "form": form,
        "chosen": form["start"].value() if form.is_bound else None,
        "refusal": refusal,
    }
    return render(request, "booking/book.html", context, status=409 if refusal else (400 if form.errors else 200))


@require_http_methods(["GET", "POST"])
def booking_page(request, slug: str):
    merchant = get_object_or_404(Merchant, slug=slug)
    zone = merchant.zone
    today = timezone.now().astimezone(zone).date()
    if request.method == "GET":
        duration = _duration(request.GET.get("duration"))
        form = BookingForm(initial={"duration": duration})
        return _render(
            request, merchant, first=_first_day(request.GET.get("from"), today), duration=duration, form=form
        )

    form = BookingForm(request.POST)
    duration = _duration(request.POST.get("duration"))
    first = _first_day(request.POST.get("from"), today)
    if not form.is_valid():
        return _render(request, merchant, first=first, duration=duration, form=form)
    start = form.cleaned_data["start"]
    try:
        booking = services.booking_create(
            merchant=merchant,
            start=start,
            end=start + dt.timedelta(minutes=form.cleaned_data["duration"]),
            customer_name=form.cleaned_data["customer_name"],
            customer_email=form.cleaned_data["customer_email"],
        )
    except ApplicationError as exc:
        if exc.status_code != 409:
            form.add_error(None, exc.message)
            return _render(request, merchant, first=first, duration=duration, form=form)
        when = f"{start.astimezone(zone):%A %-d %B at %H:%M}"
        refusal = REFUSALS.get(exc.code, "Sorry, {when} cannot be booked. Please choose another time.")
        return _render(request, merchant, first=first, duration=duration, form=form, refusal=refusal.format(when=when))
    token = signing.dumps(booking.pk, salt=CONFIRMATION_SALT)
    return redirect(f"/book/{merchant.slug}/confirmed?b={token}")


@require_GET
def booking_confirmed(request, slug: str):
    merchant = get_object_or_404(Merchant, slug=slug)
    try:
        booking_id = signing.loads(request.GET.get("b", ""), salt=CONFIRMATION_SALT, max_age=CONFIRMATION_MAX_AGE)
    except signing.BadSignature as exc:
        raise Http404("No such booking confirmation.") from exc
    booking = get_object_or_404(Booking, pk=booking_id, merchant=merchant)
    zone = merchant.zone
    return render(
        request,
        "booking/confirmed.html",
        {
            "merchant": merchant,
            "booking": booking,
            "start": booking.start.astimezone(zone),
            "end": booking.end.astimezone(zone),
        },
    )
