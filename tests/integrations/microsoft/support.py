"""Helpers for the Microsoft provider tests: the emulated account and a connection row
holding tokens the emulator issued (used here and by the provider contract suite)."""

from __future__ import annotations

import datetime as dt

from integrations.models import CalendarConnection
from integrations.providers.microsoft.provider import MicrosoftProvider

ANN = "ann@contoso.com"
SCOPES = ("User.Read", "Calendars.Read")


def connection_for(merchant, ms, *, scopes=SCOPES, expires_in: float | None = None) -> CalendarConnection:
    tokens = ms.issue_tokens(ANN, scopes=list(scopes))
    lifetime = tokens["expires_in"] if expires_in is None else expires_in
    return CalendarConnection.objects.create(
        merchant=merchant,
        provider=MicrosoftProvider.key,
        account_email=ANN,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        token_expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lifetime),
        granted_scopes=" ".join(scopes),
    )
