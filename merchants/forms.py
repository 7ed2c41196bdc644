"""Sign-up and login forms: the email address is the username."""

import zoneinfo
from functools import cache

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from merchants.services import email_normalize


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    # Region/City names only (plus UTC): the tz database also ships legacy aliases such as
    # "EST5EDT" or "Factory" that no merchant should pick.
    names = sorted(name for name in zoneinfo.available_timezones() if "/" in name and not name.startswith("Etc/"))
    return [("UTC", "UTC"), *((name, name.replace("_", " ")) for name in names)]


class SignupForm(forms.Form):
    """Step 1 of the sign-up: who, and for which business; the password comes from the emailed link."""

    email = forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        help_text="We email you a link to choose your password.",
    )
    name = forms.CharField(label="Business name", max_length=200)
    time_zone = forms.ChoiceField(
        choices=time_zone_choices,
        initial="UTC",
        help_text="Business hours and bookings are shown in this zone.",
        widget=forms.Select(attrs={"data-browser-zone": ""}),
    )


class SignupPasswordForm(forms.Form):
    """Step 2, from the emailed link: the password (checked against the email, see AUTH_PASSWORD_VALIDATORS)."""

    password = forms.CharField(
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
        help_text="At least 8 characters, not a common password, not your email address.",
    )


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form with an email label, matching emails case-insensitively."""

    username = forms.CharField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_username(self) -> str:
        return email_normalize(self.cleaned_data["username"])
