"""The webhooks' notification POSTs are answered right after Django's security middleware.

``integrations.webhooks.WebhookMiddleware`` serves them before sessions, CSRF, auth,
messages, CSP and lockouts (none of which a provider's POST needs); the host is still
checked, the security headers still set, and anything else on those paths (Graph's
validation handshake, other methods) still goes through the whole stack.
"""

from __future__ import annotations

import pytest
from django.test import Client

from integrations.models import SyncRun
from integrations.services.sync import calendar_sync_pending
from tests.integrations.test_watch_forged import WATCH_URL, channel, notify  # noqa: F401 - fixture

GRAPH_WATCH = "/api/v1/merchant/integrations/microsoft/calendar/watch"
GRAPH_LIFECYCLE = "/api/v1/merchant/integrations/microsoft/calendar/lifecycle"


def test_a_notification_skips_the_page_stack_but_keeps_the_security_headers(anon, channel):  # noqa: F811
    response = notify(anon, channel_id=channel.channel_id, token="s3cret-token", resource_id="res-1")
    assert (response.status_code, response.content) == (200, b"")
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware ran
    assert "Content-Security-Policy" not in response  # the page stack did not: an empty answer
    assert not response.cookies
    assert calendar_sync_pending(calendar_id=channel.calendar_id) or SyncRun.objects.exists()


@pytest.mark.parametrize("path", [WATCH_URL, GRAPH_WATCH, GRAPH_LIFECYCLE])
def test_a_host_outside_allowed_hosts_is_refused(db, path, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    response = Client().post(path, data=b"{}", content_type="application/json", headers={"Host": "evil.example"})
    assert response.status_code == 400


@pytest.mark.parametrize("path", [GRAPH_WATCH, GRAPH_LIFECYCLE])
def test_the_validation_handshake_goes_through_the_whole_stack(db, path):
    response = Client().post(f"{path}?validationToken=abc%3Cscript%3E")
    assert (response.status_code, response.content) == (200, b"abc<script>")
    assert response["Content-Type"].startswith("text/plain")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response  # echoed text gets every page header
    assert response["X-Frame-Options"] == "DENY"


def test_other_methods_go_through_the_whole_stack(anon, channel):  # noqa: F811
    response = anon.get(WATCH_URL)
    assert (response.status_code, response.content) == (200, b"")
    assert "Content-Security-Policy" in response


def test_a_forged_graph_notification_through_the_shortcut_triggers_nothing(db, caplog):
    body = b'{"value": [{"subscriptionId": "not-ours", "clientState": "x", "changeType": "updated"}]}'
    response = Client().post(GRAPH_WATCH, data=body, content_type="application/json")
    assert (response.status_code, response.content) == (202, b"")
    assert not SyncRun.objects.exists()
    assert "unknown subscription" in caplog.text
