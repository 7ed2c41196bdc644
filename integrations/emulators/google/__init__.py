"""A local emulator of the parts of Google we use: OAuth 2.0, Calendar API v3 and push notifications.

Google's own client libraries (google-auth, google-auth-oauthlib, google-api-python-client)
work against it unchanged. The server core is stdlib only (no Django), so it runs inside
pytest, behind ``manage.py google_emulator`` for the demo, or in benchmarks::

    from integrations.emulators.google import GoogleEmulator

    emu = GoogleEmulator(client_id="id", client_secret="secret", redirect_uris=["http://.../callback"])
    emu.start()                      # background thread on 127.0.0.1, random port
    emu.add_account("ann@example.com", name="Ann")
    emu.insert_event("ann@example.com", {"start": {...}, "end": {...}})
    # settings: GOOGLE_OAUTH_AUTH_URI=emu.auth_uri, GOOGLE_OAUTH_TOKEN_URI=emu.token_uri,
    #           GOOGLE_OAUTH_REVOKE_URI=emu.revoke_uri, GOOGLE_API_ROOT=emu.api_root

Wire behaviour follows Google's documentation (OAuth web-server flow:
https://developers.google.com/identity/protocols/oauth2/web-server ; Calendar v3:
https://developers.google.com/calendar/api/v3/reference ; push:
https://developers.google.com/calendar/api/guides/push). Choices and deliberate deviations
are listed in ``README.md`` next to this file.
"""

from .control import EmulatorControl
from .emulator import GoogleEmulator
from .errors import EmulatorError

__all__ = ["EmulatorControl", "EmulatorError", "GoogleEmulator"]
