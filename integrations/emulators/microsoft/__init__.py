"""A local emulator of the parts of Microsoft we use: the identity platform (v2.0 endpoints,
OpenID and instance discovery, authorization code flow with PKCE, rotating refresh tokens)
and Microsoft Graph v1.0 calendars (calendarView, delta, events, change notifications, and
the writes two-way needs: calendars and events with single-value extended properties).

``msal`` and a requests-based Graph client work against it unchanged, over HTTPS with the
emulator's own test certificate authority. Stdlib server, no Django imports::

    from integrations.emulators.microsoft import MicrosoftEmulator

    emu = MicrosoftEmulator(client_id="id", client_secret="secret", redirect_uris=["https://.../callback"])
    emu.start()                              # background thread on 127.0.0.1, random port
    ann = emu.add_account("ann@contoso.com", time_zone="Europe/Berlin")
    emu.insert_event(ann["default_calendar"], {"subject": "Dentist", "start": {...}, "end": {...}})
    # settings: MICROSOFT_AUTHORITY_HOST=emu.authority_host, MICROSOFT_GRAPH_ROOT=emu.graph_root;
    # environment: REQUESTS_CA_BUNDLE=SSL_CERT_FILE=emu.ca_bundle_path

Wire behaviour follows Microsoft's documentation as summarised in the project's protocol
notes; choices on open questions are listed in ``README.md`` next to this file.
"""

from .control import EmulatorControl, EmulatorControlError
from .emulator import KNOBS, MicrosoftEmulator
from .errors import EmulatorError

__all__ = ["KNOBS", "EmulatorControl", "EmulatorControlError", "EmulatorError", "MicrosoftEmulator"]
