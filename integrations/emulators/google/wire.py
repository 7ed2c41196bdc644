"""The parsed HTTP request handed to the emulator's handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote


@dataclass
class Request:
    method: str
    path: str  # raw path, no query string
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""
    empty_page: bool = False  # set by the empty_page fault: answer a page with no items but a token

    @property
    def segments(self) -> list[str]:
        # Split before unquoting so an encoded "/" inside an id stays inside its segment.
        return [unquote(part) for part in self.path.strip("/").split("/")] if self.path.strip("/") else []

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def form(self) -> dict[str, list[str]]:
        content_type = self.header("content-type", "") or ""
        if "json" in content_type:
            data = self.json()
            if isinstance(data, dict):
                return {k: [v if isinstance(v, str) else json.dumps(v)] for k, v in data.items()}
            return {}
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    def json(self):
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def params(self) -> dict[str, list[str]]:
        """Query parameters, plus form fields for form-encoded POSTs."""
        merged = {k: list(v) for k, v in self.query.items()}
        if self.method == "POST" and "json" not in (self.header("content-type", "") or ""):
            for key, values in self.form().items():
                merged.setdefault(key, []).extend(values)
        return merged
