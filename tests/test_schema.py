"""The OpenAPI schema at /api/v1/schema/ and the docs at /api/v1/docs/."""

import json

import pytest
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on an invalid document


def test_scheduling_and_auth_operations_are_documented(schema):
    paths = schema["paths"]
    expected = {
        "/api/v1/auth/token": {"post"},
        "/api/v1/merchant/blocked-times": {"get", "post"},
        "/api/v1/merchant/blocked-times/{id}": {"delete"},
        "/api/v1/merchant/bookings": {"get", "post"},
        "/api/v1/merchant/bookings/{id}": {"delete"},
        "/api/v1/merchant/business-hours": {"get", "put"},
        "/api/v1/merchant/booking-rules": {"get", "patch"},
        "/api/v1/public/merchants/{slug}/bookings": {"post"},
        "/api/v1/public/merchants/{slug}/availability": {"get"},
        "/api/v1/public/bookings/{token}/cancel": {"post"},
        "/api/v1/public/bookings/{token}/reschedule": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, sorted(paths)
        assert methods <= set(paths[path]), (path, set(paths[path]))


def _ref(schema, ref):
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def _response_schema(schema, path, method, status):
    content = schema["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    if "$ref" in content:
        return _ref(schema, content["$ref"])
    if content.get("type") == "array":
        return _ref(schema, content["items"]["$ref"])
    return content


def test_error_responses_use_the_one_error_shape(schema):
    for path, method, status in [
        ("/api/v1/merchant/blocked-times", "post", 400),
        ("/api/v1/merchant/blocked-times", "get", 401),
        ("/api/v1/merchant/blocked-times/{id}", "delete", 404),
        ("/api/v1/merchant/blocked-times/{id}", "delete", 409),
        ("/api/v1/public/merchants/{slug}/bookings", "post", 409),
        ("/api/v1/public/merchants/{slug}/bookings", "post", 429),
        ("/api/v1/public/bookings/{token}/reschedule", "post", 409),
        ("/api/v1/public/bookings/{token}/cancel", "post", 404),
        ("/api/v1/merchant/bookings/{id}", "delete", 404),
        ("/api/v1/merchant/business-hours", "put", 400),
        ("/api/v1/public/merchants/{slug}/availability", "get", 400),
        ("/api/v1/auth/token", "post", 400),
    ]:
        error = _response_schema(schema, path, method, status)
        assert set(error["properties"]) == {"error"}, (path, method, status)


def test_response_fields_match_the_spec(schema):
    blocked = _response_schema(schema, "/api/v1/merchant/blocked-times", "get", 200)
    assert {"id", "start", "end", "all_day", "source", "calendar"} <= set(blocked["properties"])
    assert blocked["properties"]["start"]["format"] == "date-time"
    availability = _response_schema(schema, "/api/v1/public/merchants/{slug}/availability", "get", 200)
    assert set(availability["properties"]) == {"time_zone", "slots"}
    token = _response_schema(schema, "/api/v1/auth/token", "post", 200)
    assert set(token["properties"]) == {"token"}


def test_query_parameters_are_documented(schema):
    params = {p["name"] for p in schema["paths"]["/api/v1/public/merchants/{slug}/availability"]["get"]["parameters"]}
    assert {"slug", "start", "end", "duration"} <= params
    params = {p["name"] for p in schema["paths"]["/api/v1/merchant/blocked-times"]["get"]["parameters"]}
    assert {"start", "end"} <= params


def test_public_endpoints_need_no_auth(schema):
    for path, method in [
        ("/api/v1/public/merchants/{slug}/availability", "get"),
        ("/api/v1/public/merchants/{slug}/bookings", "post"),
        ("/api/v1/public/bookings/{token}/cancel", "post"),
        ("/api/v1/public/bookings/{token}/reschedule", "post"),
        ("/api/v1/auth/token", "post"),
    ]:
        assert schema["paths"][path][method].get("security") in (None, [], [{}]), (path, method)


def test_swagger_ui_is_served(client):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_schema_generation_has_no_warnings(tmp_path):
    """Every view is annotated well enough that drf-spectacular need not guess (it warns when it must)."""
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
