"""The pytest plugin points Django settings and the trust store at the running emulator."""

from __future__ import annotations

import os
import ssl
import urllib.request

from django.conf import settings


def test_fixture_points_settings_and_ca_at_the_emulator(microsoft_emulator):
    assert microsoft_emulator.authority_host == settings.MICROSOFT_AUTHORITY_HOST
    assert microsoft_emulator.graph_root == settings.MICROSOFT_GRAPH_ROOT
    assert settings.MICROSOFT_AUTHORITY_HOST.startswith("https://127.0.0.1:")
    assert os.environ["REQUESTS_CA_BUNDLE"] == os.environ["SSL_CERT_FILE"] == microsoft_emulator.ca_bundle_path
    context = ssl.create_default_context(cafile=microsoft_emulator.ca_bundle_path)
    with urllib.request.urlopen(microsoft_emulator.base_url + "_emulator/state", context=context) as answer:
        assert answer.status == 200


def test_each_test_starts_from_a_reset_emulator(microsoft_emulator):
    assert microsoft_emulator.snapshot()["accounts"] == []
    microsoft_emulator.add_account("leftover@contoso.com")
    microsoft_emulator.configure(delta_page_size=1)


def test_knobs_are_back_to_their_defaults(microsoft_emulator):
    assert microsoft_emulator.snapshot()["accounts"] == []
    assert microsoft_emulator.delta_page_size == 10


def test_a_client_trusting_another_authority_is_refused(microsoft_emulator):
    import urllib.error

    import pytest
    import trustme

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    trustme.CA().configure_trust(context)
    with pytest.raises(urllib.error.URLError) as caught:
        urllib.request.urlopen(microsoft_emulator.base_url, context=context)
    assert isinstance(caught.value.reason, ssl.SSLCertVerificationError)


def test_plain_http_mode_serves_graph_without_tls():
    import requests

    from integrations.emulators.microsoft import MicrosoftEmulator

    with MicrosoftEmulator(tls=False) as emu:
        assert emu.base_url.startswith("http://") and emu.ca_bundle_path is None
        emu.add_account("ann@contoso.com")
        token = emu.issue_tokens("ann@contoso.com")["access_token"]
        me = requests.get(emu.graph_root + "me", headers={"Authorization": "Bearer " + token}, timeout=5)
        assert me.status_code == 200 and me.json()["userPrincipalName"] == "ann@contoso.com"
