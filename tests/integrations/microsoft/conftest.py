"""Fixtures for the Microsoft provider: an emulated Outlook account, a connection row holding
tokens the emulator issued, the real client, a webhook receiver. Nothing is mocked."""

from __future__ import annotations

import pytest

from integrations.providers.microsoft.provider import MicrosoftProvider
from tests.emulators.microsoft.support import Receiver
from tests.integrations.microsoft.support import ANN, connection_for


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ms(microsoft_emulator, settings):
    settings.MICROSOFT_API_RETRY_BASE_SECONDS = 0.01
    settings.MICROSOFT_API_RETRY_MAX_WAIT_SECONDS = 0.2
    settings.MICROSOFT_API_MAX_ATTEMPTS = 3
    settings.MICROSOFT_API_TIMEOUT_SECONDS = 5
    microsoft_emulator.add_account(ANN, name="Ann Example", time_zone="Europe/Berlin")
    return microsoft_emulator


@pytest.fixture
def calendar_id(ms) -> str:
    return ms.default_calendar(ANN)


@pytest.fixture
def connection(merchant, ms):
    return connection_for(merchant, ms)


class SavedTokens(list):
    """The ``on_tokens`` callback: what a service would save."""

    def __call__(self, update):
        self.append(update)


@pytest.fixture
def saved() -> SavedTokens:
    return SavedTokens()


@pytest.fixture
def client(connection, saved):
    return MicrosoftProvider.client(connection, on_tokens=saved)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()
