"""``/app/``: the merchant's week (bookings and blocked times on a time grid), manual blocks,
the detail panel of an entry and the merchant's cancel of a booking.

Server-rendered; the week is chosen with ``?week=YYYY-MM-DD`` (any day of it) and an entry's
detail panel with ``?entry=booking-<id>`` or ``?entry=block-<id>``. Adding and removing a
manual block and cancelling a booking are small form posts that call
``scheduling.services`` and come back to the same week (post/redirect/get), so the page
works without JavaScript. The open page polls ``scheduling.live`` for changes.
"""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_POST

from config.api import ApplicationError
from merchants.services import merchant_checklist_dismiss as services_merchant_checklist_dismiss
from scheduling import services
from scheduling.fields import MAX_YEAR, MIN_YEAR
from scheduling.forms import BlockedTimeForm
from scheduling.live import live_token
from scheduling.models import BlockedTime, Booking
from scheduling.weekview import week_build


def merchant_required(view):
    """Logged in (else the login page) and owning a merchant (staff go to the admin, others sign up)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        merchant = getattr(request.user, "merchant", None)
        if merchant is None:
            return redirect("/admin/" if request.user.is_staff else "/accounts/signup/")
        return view(request, merchant, *args, **kwargs)

    return wrapped


def _chosen_monday(value: str | None, today: dt.date) -> dt.date:
    try:
        chosen = parse_date(value or "")
    except ValueError:  # well-formed but impossible, e.g. 2026-02-30
        chosen = None
    if chosen is None or not MIN_YEAR <= chosen.year <= MAX_YEAR - 1:
        chosen = today
    return chosen - dt.timedelta(days=chosen.weekday())


def _week_url(monday: dt.date, today: dt.date) -> str:
    return "/app/" if monday == today - dt.timedelta(days=today.weekday()) else f"/app/?week={monday:%Y-%m-%d}"


def _render_week(request, merchant, monday: dt.date, form: BlockedTimeForm | None = None, status: int = 200):
    now = timezone.now()
    today = now.astimezone(merchant.zone).date()
    week = week_build(merchant=merchant, monday=monday, now=now)
    if form is None:
        default_day = today if monday <= today < monday + dt.timedelta(days=7) else monday
        form = BlockedTimeForm(
            zone=merchant.zone,
            initial={"date": default_day, "start_time": dt.time(12), "end_time": dt.time(13)},
        )
    context = {
        "merchant": merchant,
        "week": week,
        "selected": week.entry(request.GET.get("entry")),
        "live_url": f"/app/live/{live_token(merchant.pk)}",
        "checklist": checklist(merchant),
        "booking_url": f"{settings.PUBLIC_BASE_URL}/book/{merchant.slug}",
        "form": form,
        "this_week": monday == today - dt.timedelta(days=today.weekday()),
        "previous_week": monday - dt.timedelta(days=7),
        "next_week": monday + dt.timedelta(days=7),
        "sunday": monday + dt.timedelta(days=6),
        "week_url": _week_url(monday, today),
    }
    return render(request, "app/week.html", context, status=status)


def checklist(merchant) -> dict | None:
    """The getting-started steps after sign-up, until all are done or the merchant hides them."""
    if merchant.checklist_dismissed:
        return None
    steps = {
        "hours": merchant.business_hours_set_at is not None,
        "calendar": merchant.calendar_connections.exclude(status="disconnected").exists(),
    }
    return steps


@require_GET
@merchant_required
def week(request, merchant):
    today = timezone.now().astimezone(merchant.zone).date()
    return _render_week(request, merchant, _chosen_monday(request.GET.get("week"), today))


@require_POST
@merchant_required
def blocked_time_add(request, merchant):
    form = BlockedTimeForm(request.POST, zone=merchant.zone)
    today = timezone.now().astimezone(merchant.zone).date()
    if not form.is_valid():
        monday = _chosen_monday(request.POST.get("date"), today)
        return _render_week(request, merchant, monday, form=form, status=400)
    data = form.cleaned_data
    try:
        services.blocked_time_create(merchant=merchant, start=data["start"], end=data["end"], note=data["note"])
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _render_week(request, merchant, _chosen_monday(str(data["date"]), today), form=form, status=400)
    when = "all day" if data["all_day"] else f"{data['start_time']:%H:%M}\u2013{data['end_time']:%H:%M}"
    messages.success(request, f"Blocked {data['date']:%a %-d %b}, {when}. Customers can no longer book that time.")
    return redirect(_week_url(_chosen_monday(str(data["date"]), today), today))


@require_POST
@merchant_required
def blocked_time_remove(request, merchant, pk: int):
    blocked = get_object_or_404(BlockedTime, pk=pk, merchant=merchant)
    today = timezone.now().astimezone(merchant.zone).date()
    monday = _chosen_monday(str(blocked.start.astimezone(merchant.zone).date()), today)
    try:
        services.blocked_time_delete(blocked_time=blocked)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Block removed. That time is bookable again (within business hours).")
    return redirect(_week_url(monday, today))


@require_POST
@merchant_required
def booking_cancel(request, merchant, pk: int):
    """The merchant cancels a booking from its detail panel; the customer is emailed."""
    booking = get_object_or_404(Booking, pk=pk, merchant=merchant)
    today = timezone.now().astimezone(merchant.zone).date()
    monday = _chosen_monday(str(booking.start.astimezone(merchant.zone).date()), today)
    services.booking_cancel(booking=booking, by=Booking.By.MERCHANT)
    messages.success(
        request,
        f"Cancelled {booking.customer_name}'s booking on {booking.start.astimezone(merchant.zone):%a %-d %b at %H:%M}. "
        "We emailed them; the time is free again.",
    )
    return redirect(_week_url(monday, today))


@require_POST
@merchant_required
def checklist_dismiss(request, merchant):
    services_merchant_checklist_dismiss(merchant=merchant)
    return redirect("/app/")
