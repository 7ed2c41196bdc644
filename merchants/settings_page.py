"""``/app/settings``: the merchant's name, time zone, booking link, business hours and booking rules.

Three small forms on one page, each posted on its own (``section`` says which) to the
services in ``merchants.services``; post/redirect/get, so it works without JavaScript.
Business hours are typed per day as ``09:00-12:00, 13:00-17:00`` (empty: closed).
"""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from config.api import ApplicationError
from merchants import services
from merchants.forms import time_zone_choices
from merchants.models import SLOT_LENGTH_CHOICES
from scheduling.web import merchant_required

INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-\u2013\u2014to ]+\s*(\d{1,2}):(\d{2})\s*$")


class ProfileForm(forms.Form):
    name = forms.CharField(label="Business name", max_length=200)
    time_zone = forms.ChoiceField(
        choices=time_zone_choices, help_text="Business hours and the week view are in this zone."
    )


def _parse_day(text: str, day: str) -> list[tuple[dt.time, dt.time]]:
    spans = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;\n]", text or ""))):
        match = INTERVAL.match(part)
        if not match:
            raise forms.ValidationError(f"“{part}”: write times like 09:00-12:00, several separated by commas.")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise forms.ValidationError(f"“{part}”: times go from 00:00 to 23:59.")
        spans.append((dt.time(h1, m1), dt.time(h2, m2)))
    return spans


class HoursForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for index, name in enumerate(services.WEEKDAY_NAMES):
            self.fields[name.lower()] = forms.CharField(
                label=name,
                required=False,
                max_length=200,
                widget=forms.TextInput(attrs={"placeholder": "Closed", "inputmode": "text"}),
            )
            self.fields[name.lower()].weekday = index

    @staticmethod
    def initial_for(merchant) -> dict:
        by_day: dict[str, list[str]] = {}
        for hours in merchant.business_hours.all():
            by_day.setdefault(services.WEEKDAY_NAMES[hours.weekday].lower(), []).append(
                f"{hours.start:%H:%M}-{hours.end:%H:%M}"
            )
        return {day: ", ".join(spans) for day, spans in by_day.items()}

    def clean(self):
        data = super().clean()
        intervals = []
        for index, name in enumerate(services.WEEKDAY_NAMES):
            try:
                spans = _parse_day(data.get(name.lower(), ""), name)
            except forms.ValidationError as exc:
                self.add_error(name.lower(), exc)
                continue
            intervals += [(index, start, end) for start, end in spans]
        if not self.errors:
            for problem in services.business_hours_problems(intervals):
                self.add_error(None, problem)
        data["intervals"] = intervals
        return data


class RulesForm(forms.Form):
    slot_lengths = forms.TypedMultipleChoiceField(
        label="Appointment lengths",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Offer at least one appointment length."},
    )
    buffer_minutes = forms.IntegerField(
        label="Buffer after each booking (minutes)", min_value=0, max_value=240, help_text="Kept free for you."
    )
    minimum_notice_minutes = forms.IntegerField(
        label="Minimum notice (minutes)",
        min_value=0,
        max_value=60 * 24 * 30,
        help_text="Customers cannot book sooner than this; 120 is two hours.",
    )
    max_days_ahead = forms.IntegerField(label="How far ahead customers may book (days)", min_value=1, max_value=730)

    def __init__(self, *args, merchant, **kwargs):
        super().__init__(*args, **kwargs)
        lengths = sorted(set(SLOT_LENGTH_CHOICES) | set(merchant.slot_lengths))
        self.fields["slot_lengths"].choices = [(m, f"{m} min") for m in lengths]


def _forms(merchant, bound: str | None = None, data=None) -> dict:
    def pick(name):
        return data if bound == name else None

    return {
        "profile": ProfileForm(pick("profile"), initial={"name": merchant.name, "time_zone": merchant.time_zone}),
        "hours": HoursForm(pick("hours"), initial=HoursForm.initial_for(merchant)),
        "rules": RulesForm(
            pick("rules"),
            merchant=merchant,
            initial={
                "slot_lengths": merchant.slot_lengths,
                "buffer_minutes": merchant.buffer_minutes,
                "minimum_notice_minutes": merchant.minimum_notice_minutes,
                "max_days_ahead": merchant.max_days_ahead,
            },
        ),
    }


SAVED = {
    "profile": "Saved your business name and time zone.",
    "hours": "Saved your business hours. Customers see the new times at once.",
    "rules": "Saved your booking rules.",
}


def _save(section: str, form, merchant) -> None:
    data = form.cleaned_data
    if section == "profile":
        services.merchant_profile_update(merchant=merchant, name=data["name"], time_zone=data["time_zone"])
    elif section == "hours":
        services.business_hours_replace(merchant=merchant, intervals=data["intervals"])
    else:
        services.booking_rules_update(merchant=merchant, **data)


@require_http_methods(["GET", "POST"])
@merchant_required
def settings_page(request, merchant):
    section = request.POST.get("section") if request.method == "POST" else None
    forms_ = _forms(merchant, section, request.POST if section else None)
    status = 200
    if section in forms_:
        form = forms_[section]
        if form.is_valid():
            try:
                _save(section, form, merchant)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, SAVED[section])
                return redirect(f"/app/settings#{section}")
        status = 400
    context = {
        "merchant": merchant,
        "booking_url": f"{settings.PUBLIC_BASE_URL}/book/{merchant.slug}",
        "section": section,
        **{f"{name}_form": form for name, form in forms_.items()},
    }
    return render(request, "merchants/settings.html", context, status=status)
