"""Fixtures for the emulator's own tests: an account, credentials, a Calendar service, a receiver."""

from __future__ import annotations

import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build

from tests.emulators.google.support import CLIENT_ID, CLIENT_SECRET, READONLY, Receiver

ANN = "ann@example.com"


@pytest.fixture
def emu(google_emulator):
    google_emulator.add_account(ANN, name="Ann", time_zone="Europe/Berlin")
    return google_emulator


def credentials_for(emu, email: str = ANN, scopes=(READONLY,)) -> Credentials:
    tokens = emu.issue_tokens(email, scopes=list(scopes))
    return Credentials(
        token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        token_uri=emu.token_uri,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=list(scopes),
    )


def calendar_service(emu, creds: Credentials):
    return build(
        "calendar",
        "v3",
        credentials=creds,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": emu.api_root + "calendar/v3/"},
    )


@pytest.fixture
def creds(emu) -> Credentials:
    return credentials_for(emu)


@pytest.fixture
def service(emu, creds):
    return calendar_service(emu, creds)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()
