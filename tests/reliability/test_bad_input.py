"""Bad input, generated (SPEC §3: "Bad input ... gets 400 with a clear message, never 500";
"Errors are JSON {"error": {"code", "message"}}").

Schemathesis reads the served OpenAPI schema (``/api/v1/schema/``) and, for every operation
in it, Hypothesis generates requests that follow the schema (positive) and requests that
break it (negative: wrong types, missing or extra fields, malformed dates, odd path and
query values, garbage bodies). Each is sent through Django's test client as a merchant with
a valid token (or anonymously for the public endpoints), against a merchant with business
hours, blocked times, bookings and a Google connection to the emulator. Every answer must
be below 500, and every 4xx must carry exactly the error shape. Hand-picked hostile inputs
(raw bytes, other content types, deep nesting, huge bodies, odd paths, garbage credentials)
follow. The number of generated inputs goes to the figures.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from scheduling.models import BlockedTime, Booking
from tests.conftest import api_client_for, api_token_for
from tests.integrations.sync.conftest import at, timed_event
from tests.reliability import figures

pytestmark = pytest.mark.usefixtures("quiet_google")

EXAMPLES_PER_MODE = 60
SCHEMA_URL = "/api/v1/schema/"


def _served_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _operations() -> list[str]:
    schema = _served_schema()
    return [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    ]


OPERATIONS = _operations()


def assert_error_shape(response, label: str) -> None:
    """A 4xx says what went wrong in exactly one shape: {"error": {"code", "message"}}."""
    assert response["Content-Type"].startswith("application/json"), (
        label,
        response.status_code,
        response.content[:200],
    )
    body = json.loads(response.content)
    assert set(body) == {"error"}, (label, body)
    error = body["error"]
    assert set(error) == {"code", "message"}, (label, body)
    assert isinstance(error["code"], str) and error["code"], (label, body)
    assert isinstance(error["message"], str) and error["message"].strip(), (label, body)


def check(response, label: str) -> None:
    figures.count("bad_input.requests")
    assert response.status_code < 500, (label, response.status_code, response.content[:500])
    if 400 <= response.status_code < 500:
        figures.count("bad_input.refused_4xx")
        assert_error_shape(response, label)


@pytest.fixture
def schema(db) -> schemathesis.schemas.BaseSchema:
    response = Client().get(SCHEMA_URL, {"format": "json"})
    assert response.status_code == 200
    return schemathesis.openapi.from_dict(json.loads(response.content))


@pytest.fixture
def populated(merchant, google_connected, google_emulator, microsoft_emulator):
    """A merchant with everything: blocked times (manual and synced), bookings, a Google connection;
    the Microsoft provider configured against its emulator (so its connect answers, not 503)."""
    for day in range(2, 12):
        BlockedTime.objects.create(merchant=merchant, start=at(day, 9), end=at(day, 10), note=f"block {day}")
        Booking.objects.create(
            merchant=merchant, start=at(day, 12), end=at(day, 13), customer_name="C", customer_email="c@example.com"
        )
    google_emulator.insert_event(google_connected.email, timed_event(at(3, 7)))
    return merchant


def send(client: Client, case, *, token: str | None) -> object:
    """Send a generated case exactly as it would go over the wire (requests serialises it),
    through Django's test client."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    headers = dict(kwargs.pop("headers", {}) or {})
    cookies = kwargs.pop("cookies", {}) or {}
    if token is not None:
        headers["Authorization"] = f"Token {token}"
        cookies.pop("sessionid", None)
    prepared = requests.Request(
        method=kwargs["method"],
        url=kwargs["url"],
        params=kwargs.get("params"),
        data=kwargs.get("data"),
        json=kwargs.get("json"),
        headers=headers,
    ).prepare()
    url = urlsplit(prepared.url)
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies[name] = str(value)
    content_type = prepared.headers.pop("Content-Type", None)
    for name in ("Content-Length", "Connection", "Accept-Encoding", "Host"):
        prepared.headers.pop(name, None)
    return client.generic(
        prepared.method,
        url.path + (f"?{url.query}" if url.query else ""),
        data=prepared.body or b"",
        content_type=content_type or "application/octet-stream",
        headers=dict(prepared.headers),
    )


def fuzz(operation, mode: GenerationMode, *, client: Client, token: str | None, slug: str | None, label: str) -> int:
    """Send ``EXAMPLES_PER_MODE`` generated cases of one operation; returns how many were sent."""
    sent = 0

    @given(case=operation.as_strategy(generation_mode=mode), use_real_slug=st.booleans())
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case, use_real_slug):
        nonlocal sent
        sent += 1
        if slug and use_real_slug:  # half of them reach a real merchant
            case.path_parameters = {**(case.path_parameters or {}), "slug": slug}
        check(send(client, case, token=token), f"{label} [{mode.value}]")

    run()
    return sent


@pytest.mark.parametrize("label", OPERATIONS)
def test_generated_requests_never_get_a_500_and_every_4xx_has_the_error_shape(label, schema, populated, settings):
    settings.GOOGLE_API_MAX_ATTEMPTS = 1
    method, path = label.split(" ", 1)
    public = path.startswith(("/api/v1/public/", "/api/v1/auth/"))
    token = None if public else api_token_for(populated.user)
    slug = populated.slug if "{slug}" in path else None
    operation = schema[path][method]
    definition = operation.definition.raw
    # An operation without parameters or body has nothing to get wrong: no negative cases exist.
    modes = [GenerationMode.POSITIVE]
    if definition.get("parameters") or definition.get("requestBody"):
        modes.append(GenerationMode.NEGATIVE)
    generated = sum(fuzz(operation, mode, client=Client(), token=token, slug=slug, label=label) for mode in modes)
    figures.count("bad_input.generated", generated)
    figures.count("bad_input.schema_cases", generated)
    figures.count("bad_input.operations")


def test_every_operation_of_the_schema_is_fuzzed(schema):
    served = {f"{op.method.upper()} {op.path}" for op in (r.ok() for r in schema.get_all_operations())}
    assert served == set(OPERATIONS)
    assert len(served) >= 15


# --- hand-picked hostile input --------------------------------------------------------------------


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


HOSTILE_BODIES = {
    "raw bytes": (b"\x00\xff\xfe\x80garbage", "application/json"),
    "not JSON": (b"start=2030-01-01", "application/json"),
    "truncated JSON": (b'{"start": "2030-01-07T10:00:00Z", "end": ', "application/json"),
    "JSON null": (b"null", "application/json"),
    "JSON string": (b'"hello"', "application/json"),
    "JSON number": (b"1e999999", "application/json"),
    "JSON list of lists": (b"[[[]]]", "application/json"),
    "deeply nested JSON (100,000 levels)": (_deep(100_000), "application/json"),
    "deeply nested object": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "application/json"),
    "2 MB string": (json.dumps({"start": "x" * 2_000_000}).encode(), "application/json"),
    "NaN and Infinity": (b'{"start": NaN, "end": Infinity}', "application/json"),
    "lone surrogate": (b'{"start": "\\ud800"}', "application/json"),
    "UTF-16 body": ('{"start": "2030-01-07T10:00:00Z"}'.encode("utf-16"), "application/json"),
    "latin-1 charset": ('{"note": "caf\u00e9"}'.encode("latin-1"), "application/json; charset=latin-1"),
    "unknown charset": (b"{}", "application/json; charset=klingon"),
    "form encoded": (b"start=2030-01-07T10:00:00Z&end=2030-01-07T11:00:00Z", "application/x-www-form-urlencoded"),
    "multipart": (
        b"--x\r\nContent-Disposition: form-data; name=start\r\n\r\nx\r\n--x--\r\n",
        "multipart/form-data; boundary=x",
    ),
    "text/plain": (b"hello", "text/plain"),
    "XML with an external entity": (
        b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
        "application/xml",
    ),
    "no content type": (b'{"start": 1}', ""),
}


@pytest.mark.parametrize("name", list(HOSTILE_BODIES))
def test_hostile_bodies_on_every_operation_that_takes_one(name, populated, settings):
    settings.GOOGLE_API_MAX_ATTEMPTS = 1
    body, content_type = HOSTILE_BODIES[name]
    api = api_client_for(populated)
    targets = [
        ("post", "/api/v1/merchant/blocked-times"),
        ("patch", "/api/v1/merchant/integrations/google/calendar"),
        ("patch", "/api/v1/merchant/integrations/google/calendar/calendars"),
        ("post", f"/api/v1/public/merchants/{populated.slug}/bookings"),
        ("post", "/api/v1/auth/token"),
        ("post", "/api/v1/merchant/integrations/google/calendar/sync"),
        ("delete", "/api/v1/merchant/blocked-times/1"),
    ]
    for method, path in targets:
        response = api.generic(method.upper(), path, data=body, content_type=content_type)
        check(response, f"{name}: {method.upper()} {path}")
    figures.count("bad_input.hostile_inputs", len(targets))


ODD_PATHS = [
    "/api/v1/merchant/blocked-times/",
    "/api/v1/merchant/blocked-times/1/",
    "/api/v1/merchant/blocked-times/a%2Fb",
    "/api/v1/merchant/blocked-times/99999999999999999999999999",
    "/api/v1/merchant/blocked-times/-1",
    "/api/v1/merchant/blocked-times/%00",
    "/api/v1/merchant/nope",
    "/api/v1/public/merchants/%2F..%2F/availability",
    "/api/v1/public/merchants/x/availability/extra",
    "/api/v1/public/merchants/\u00e9\u2603/bookings",
    "/api/v1/",
    "/api/v1/merchant/integrations/google/calendar/unknown",
]


@pytest.mark.parametrize("path", ODD_PATHS)
def test_odd_paths_under_the_api_get_a_json_error(path, populated):
    api = api_client_for(populated)
    for method in ("get", "post", "delete"):
        response = getattr(api, method)(path)
        check(response, f"{method.upper()} {path}")
        assert response.status_code in (400, 404, 405), (method, path, response.status_code)


@given(
    authorization=st.one_of(
        st.text(max_size=200),
        st.builds(lambda s: f"Token {s}", st.text(max_size=80)),
        st.builds(lambda s: f"Bearer {s}", st.text(alphabet=st.characters(codec="ascii"), max_size=80)),
        st.just("Token"),
        st.just("Token  "),
        st.just("Basic Og=="),
    ),
    session=st.one_of(st.none(), st.text(max_size=60)),
    target=st.sampled_from(
        [
            ("get", "/api/v1/merchant/blocked-times"),
            ("post", "/api/v1/merchant/blocked-times"),
            ("get", "/api/v1/merchant/integrations/google/calendar"),
            ("post", "/api/v1/merchant/integrations/google/calendar/sync"),
            ("delete", "/api/v1/merchant/integrations/google/calendar"),
        ]
    ),
)
@hypothesis_settings(
    max_examples=150, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
def _garbage_credentials(client, authorization, session, target):
    method, path = target
    if session is not None:
        client.cookies["sessionid"] = session.encode("unicode_escape").decode("ascii")
    else:
        client.cookies.clear()
    try:
        response = client.generic(method.upper(), path, headers={"Authorization": authorization})
    except UnicodeEncodeError:
        return  # not sendable as an HTTP header at all (non-latin-1)
    figures.count("bad_input.generated")
    figures.count("bad_input.credential_cases")
    check(response, f"garbage credentials {method.upper()} {path}")
    assert response.status_code == 401, (authorization, response.status_code)


def test_garbage_credentials_are_401_with_the_error_shape(populated):
    _garbage_credentials(Client())
