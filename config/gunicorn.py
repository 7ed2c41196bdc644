"""gunicorn settings of the Procfile's ``web`` process (``gunicorn -c config/gunicorn.py config.wsgi``).

The access log keeps its usual (combined-like) lines, except that the values of query
parameters that carry credentials never reach it: an OAuth callback's ``code`` and
``state``, a sign-up link's ``token`` and the like become ``code=[redacted]`` (SPEC §12). The
same goes for a Referer header (the page after a callback has the callback as its referer)
and for request headers a custom ``access_log_format`` might print.
https://docs.gunicorn.org/en/stable/settings.html
"""

from __future__ import annotations

import os
import re

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
SENSITIVE_PARAMETERS = (
    "code",
    "state",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "password",
    "session_state",
    "validationToken",
)
# name=value in a query string, the name in any case; the value
# runs to the next & or # or whitespace (the request line ends with " HTTP/1.1").
_PARAMETER = re.compile(
    r"(?P<name>(?:^|(?<=[?&;]))(?:" + "|".join(re.escape(n) for n in SENSITIVE_PARAMETERS) + r"))=[^&#\s]*",
    re.IGNORECASE,
)
_SENSITIVE_HEADERS = {"{authorization}i", "{cookie}i", "{x-goog-channel-token}i", "{set-cookie}o"}


def redact_query(text: str) -> str:
    """``/cb?code=abc&scope=x`` -> ``/cb?code=[redacted]&scope=x`` (anywhere in ``text``)."""
    if not text or "=" not in text:
        return text
    # Only what follows a "?" is a query string: in the request line, the referer or the query atom.
    return _PARAMETER.sub(lambda m: f"{m.group('name')}={REDACTED}", text)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_query(atoms[key])
        for key in _SENSITIVE_HEADERS & atoms.keys():
            atoms[key] = REDACTED
        return atoms


bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
logger_class = RedactingLogger
