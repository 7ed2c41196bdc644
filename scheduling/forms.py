"""Forms of the scheduling web pages: a manual block on the week page, a booking on the public page.

Forms validate and turn wall-clock input into instants (``scheduling.localtime``); the
views hand the cleaned values to ``scheduling.services``, which owns every rule.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import forms

from scheduling.fields import MAX_YEAR, MIN_YEAR
from scheduling.localtime import local_midnight, local_to_instant
from scheduling.text import plain_text_problem


class BlockedTimeForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(
        label="From", required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    end_time = forms.TimeField(
        label="To", required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    all_day = forms.BooleanField(label="All day", required=False)
    note = forms.CharField(
        label="Note (only you see it)",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Lunch break, Dentist"}),
    )

    def __init__(self, *args, zone: zoneinfo.ZoneInfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean(self):
        data = super().clean()
        day = data.get("date")
        if day is None:
            return data
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise forms.ValidationError("Choose a date between 1970 and 2199.")
        if data.get("all_day"):
            data["start"] = local_midnight(day, self.zone)
            data["end"] = local_midnight(day + dt.timedelta(days=1), self.zone)
            return data
        start_time, end_time = data.get("start_time"), data.get("end_time")
        if start_time is None or end_time is None:
            raise forms.ValidationError("Give a start and an end time, or tick “All day”.")
        if end_time <= start_time:
            raise forms.ValidationError("The end time must be after the start time.")
        data["start"] = local_to_instant(dt.datetime.combine(day, start_time), self.zone)
        data["end"] = local_to_instant(dt.datetime.combine(day, end_time), self.zone)
        return data


class RescheduleForm(forms.Form):
    """A slot of the picker: its start (ISO 8601 with offset) and one of the merchant's offered lengths."""

    start = forms.CharField(max_length=40, error_messages={"required": "Choose a time first."})
    duration = forms.TypedChoiceField(coerce=int)

    def __init__(self, *args, merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["duration"].choices = [(d, d) for d in sorted(merchant.slot_lengths)]

    def clean_start(self) -> dt.datetime:
        try:
            start = dt.datetime.fromisoformat(self.cleaned_data["start"])
        except ValueError:
            start = None
        # Slots are sent with their UTC offset; anything else was not one of ours.
        if start is None or start.tzinfo is None or not MIN_YEAR <= start.year <= MAX_YEAR:
            raise forms.ValidationError("Choose one of the times shown.")
        return start


class BookingForm(RescheduleForm):
    customer_name = forms.CharField(
        label="Your name", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    customer_email = forms.EmailField(
        label="Your email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="We send the confirmation here, with a link to change or cancel.",
    )

    def clean_customer_name(self) -> str:
        name = self.cleaned_data["customer_name"]
        problem = plain_text_problem(name)
        if problem:
            raise forms.ValidationError(problem)
        return name
