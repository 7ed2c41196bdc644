"""Helpers for the emulator tests: discovery-document schema checks, a push receiver, form parsing."""

from __future__ import annotations

import datetime as dt
import json
import threading
from functools import cache
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import googleapiclient

CAL = "https://www.googleapis.com/auth/calendar"
READONLY = CAL + ".readonly"
EVENTS_READONLY = CAL + ".events.readonly"
LIST_READONLY = CAL + ".calendarlist.readonly"
EMAIL = "https://www.googleapis.com/auth/userinfo.email"
REDIRECT = "http://testserver/api/v1/merchant/integrations/google/calendar/callback"
CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"


# --- schema checks against the discovery document ---------------------------------------


@cache
def discovery() -> dict:
    path = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "calendar.v3.json"
    return json.loads(path.read_text())


def schema_errors(value, schema: dict | str, path: str = "$") -> list[str]:
    """Every place where ``value`` uses an undeclared key or a type the schema does not allow."""
    if isinstance(schema, str):
        schema = {"$ref": schema}
    if "$ref" in schema:
        schema = discovery()["schemas"][schema["$ref"]]
    kind = schema.get("type")
    problems: list[str] = []
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{path}: expected object, got {type(value).__name__}"]
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                problems += schema_errors(item, properties[key], f"{path}.{key}")
            elif extra is not None:
                problems += schema_errors(item, extra, f"{path}.{key}")
            else:
                problems.append(f"{path}.{key}: not a declared property")
    elif kind == "array":
        if not isinstance(value, list):
            return [f"{path}: expected array"]
        for index, item in enumerate(value):
            problems += schema_errors(item, schema["items"], f"{path}[{index}]")
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected string, got {type(value).__name__}"]
        fmt = schema.get("format")
        try:
            if fmt == "int64":
                int(value)
            elif fmt == "date-time":
                dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            elif fmt == "date":
                dt.date.fromisoformat(value)
        except ValueError:
            problems.append(f"{path}: {value!r} is not a {fmt}")
        if "enum" in schema and value not in schema["enum"]:
            problems.append(f"{path}: {value!r} not in {schema['enum']}")
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}: expected integer")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected boolean")
    elif kind == "any" or kind is None:
        pass
    return problems


def assert_schema(value, schema: str) -> None:
    problems = schema_errors(value, schema)
    assert not problems, "\n".join(problems)


# Google's JSON error envelope (not in the discovery document): {"error": {code, message, errors[], status?, details?}}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "status": {"type": "string"},
                "details": {"type": "array", "items": {"type": "any"}},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            # domain and reason as in the discovery document's Error schema
                            **discovery()["schemas"]["Error"]["properties"],
                            "message": {"type": "string"},
                            "location": {"type": "string"},
                            "locationType": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}


def assert_error_body(content: bytes | str, status: int, reason: str) -> dict:
    body = json.loads(content)
    problems = schema_errors(body, ERROR_SCHEMA)
    assert not problems, "\n".join(problems)
    error = body["error"]
    assert error["code"] == status
    assert error["message"]
    assert error["errors"][0]["reason"] == reason
    assert error["errors"][0]["domain"] and error["errors"][0]["message"]
    return error


# --- a push receiver --------------------------------------------------------------------


class Receiver:
    """A tiny HTTP server that records the notifications it gets and answers scripted statuses."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []  # answered in order, then 200
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                receiver.entered.set()
                receiver.gate.wait(10)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._cond:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers.items()), "body": body, "status": status}
                    )
                    receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()

    def states(self) -> list[str]:
        return [r["headers"]["X-Goog-Resource-State"] for r in self.requests]

    def numbers(self) -> list[int]:
        return [int(r["headers"]["X-Goog-Message-Number"]) for r in self.requests]


# --- HTML forms -------------------------------------------------------------------------


class FormParser(HTMLParser):
    """Collects the consent page's form: action, inputs (name, type, value, checked, disabled), buttons."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.inputs: list[dict] = []
        self.buttons: list[dict] = []
        self._button = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action")
        elif tag == "input":
            self.inputs.append(attrs)
        elif tag == "button":
            self._button = {**attrs, "text": ""}
            self.buttons.append(self._button)

    def handle_data(self, data):
        if self._button is not None:
            self._button["text"] += data.strip()

    def handle_endtag(self, tag):
        if tag == "button":
            self._button = None


def parse_form(html_text: str) -> FormParser:
    parser = FormParser()
    parser.feed(html_text)
    return parser


def form_fields(form: FormParser, *, untick: set[str] = frozenset(), account: str | None = None) -> list[tuple]:
    """What a browser would submit: hidden inputs, the chosen radio, ticked enabled checkboxes."""
    fields = []
    radios = [i for i in form.inputs if i.get("type") == "radio"]
    for item in form.inputs:
        kind = item.get("type")
        if kind == "hidden" or (
            kind == "checkbox" and "checked" in item and "disabled" not in item and item["value"] not in untick
        ):
            fields.append((item["name"], item["value"]))
    if account is not None:
        fields.append(("account", account))
    else:
        chosen = [r for r in radios if "checked" in r]
        if chosen:
            fields.append(("account", chosen[0]["value"]))
    return fields
