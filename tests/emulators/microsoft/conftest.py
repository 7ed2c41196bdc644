"""Fixtures for the Microsoft emulator's own tests: an account, tokens, a Graph session, a receiver."""

from __future__ import annotations

import pytest
import requests

from tests.emulators.microsoft.support import Receiver

ANN = "ann@contoso.com"


@pytest.fixture
def emu(microsoft_emulator):
    microsoft_emulator.add_account(ANN, name="Ann Example", time_zone="Europe/Berlin")
    return microsoft_emulator


@pytest.fixture
def calendar_id(emu) -> str:
    return emu.default_calendar(ANN)


def graph_session(emu, email: str = ANN, scopes=("User.Read", "Calendars.Read"), prefer: str | None = None):
    tokens = emu.issue_tokens(email, scopes=list(scopes))
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + tokens["access_token"]
    if prefer:
        session.headers["Prefer"] = prefer
    session.tokens = tokens
    return session


@pytest.fixture
def graph(emu):
    session = graph_session(emu)
    yield session
    session.close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()
