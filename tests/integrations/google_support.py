"""Helpers for the Google two-way tests (used here and by the provider contract suite)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import requests

from integrations.models import CalendarConnection
from integrations.providers.base import GrantedTokens
from integrations.providers.google.provider import GoogleProvider


def booking_writes_consent(connection_pk: int) -> GrantedTokens:
    """The incremental consent round trip of two-way (SPEC §10), at the provider level: our
    authorization URL, the emulator's consent (auto-approved), our code exchange. The new
    grant replaces the stored one, as the consent callback does."""
    request = GoogleProvider.authorization_request(state="two-way", write_bookings=True)
    answer = requests.get(request.url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    callback = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
    tokens = GoogleProvider.authorization_complete(
        code=callback["code"], secret=request.secret, state=callback["state"], callback=callback
    )
    connection = CalendarConnection.objects.get(pk=connection_pk)
    connection.access_token, connection.token_expires_at = tokens.access_token, tokens.expires_at
    connection.refresh_token = tokens.refresh_token or connection.refresh_token
    connection.granted_scopes = " ".join(sorted(tokens.scopes or ()))
    connection.save()
    return tokens
