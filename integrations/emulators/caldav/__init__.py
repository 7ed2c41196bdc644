"""A real CalDAV server for tests and the demo: Radicale as a subprocess, plus a fault proxy.

- :class:`RadicaleServer`: ``python -m radicale`` on a free loopback port, a temporary
  storage folder and an htpasswd file (``plain``) this module writes; users and calendars
  are seeded over HTTP (``MKCALENDAR``/``PUT``), like any client would.
- :class:`FaultProxy`: a small HTTP proxy in front of it for what Radicale cannot do
  (429/503 with ``Retry-After``, 507-truncated ``sync-collection`` replies, an expired
  sync token, an iCloud-like partition host), counting every request it forwards.

No Django here (STYLE 14). See README.md for the choices made.
"""

from integrations.emulators.caldav.proxy import FaultProxy
from integrations.emulators.caldav.radicale import RadicaleServer

__all__ = ["FaultProxy", "RadicaleServer"]
