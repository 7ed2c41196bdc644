"""The msal application for the configured authority, built lazily (construction fetches the
OpenID configuration, so it never happens at import time).

Authorities other than Microsoft's own hosts (the local emulator) are validated against that
host's own instance-discovery endpoint, so msal never asks login.microsoftonline.com about
them. TLS trust comes from ``REQUESTS_CA_BUNDLE`` (msal uses requests).
https://learn.microsoft.com/en-us/python/api/msal/msal.application.confidentialclientapplication
"""

from __future__ import annotations

from urllib.parse import urlsplit

import msal
from django.conf import settings

from integrations.providers.microsoft.provider import MicrosoftProvider

MICROSOFT_HOSTS = {
    "login.microsoftonline.com",
    "login.microsoft.com",
    "login.windows.net",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "sts.windows.net",
}


def instance_discovery() -> str | None:
    host = settings.MICROSOFT_AUTHORITY_HOST.rstrip("/")
    if (urlsplit(host).hostname or "") in MICROSOFT_HOSTS:
        return None  # msal's default: Microsoft's own instance discovery
    return host + "/common/discovery/instance"


def msal_app() -> msal.ConfidentialClientApplication:
    """Raises ValueError when the authority's discovery fails (msal's own error)."""
    return msal.ConfidentialClientApplication(
        MicrosoftProvider.client_id(),
        client_credential=MicrosoftProvider.client_secret(),
        authority=MicrosoftProvider.authority(),
        instance_discovery=instance_discovery(),
        timeout=settings.MICROSOFT_API_TIMEOUT_SECONDS,
    )
