"""The parsed HTTP request and the finished response the emulator's handlers exchange."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

JSON_TYPE = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"
NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


@dataclass
class Request:
    method: str
    path: str  # raw path, no query string
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""
    raw_query: str = ""

    @property
    def segments(self) -> list[str]:
        # Split before unquoting so an encoded "/" inside an id stays inside its segment.
        stripped = self.path.strip("/")
        return [unquote(part) for part in stripped.split("/")] if stripped else []

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items() if v}

    def json(self):
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def prefer(self) -> dict[str, str]:
        """``Prefer`` preferences (comma separated, possibly in several headers), names lower-cased."""
        out: dict[str, str] = {}
        for part in (self.header("prefer") or "").split(","):
            name, _, value = part.strip().partition("=")
            if name:
                out[name.strip().lower()] = value.strip().strip('"')
        return out


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload, headers: dict[str, str] | None = None) -> Response:
        return cls(status, json.dumps(payload).encode(), {"Content-Type": JSON_TYPE, **(headers or {})})

    @classmethod
    def plain_json(cls, status: int, payload, headers: dict[str, str] | None = None) -> Response:
        return cls(
            status, json.dumps(payload).encode(), {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        )

    @classmethod
    def html(cls, status: int, text: str, headers: dict[str, str] | None = None) -> Response:
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8", **(headers or {})})

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(302, b"", {"Location": location})
