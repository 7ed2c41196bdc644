"""GET /health/: database and broker reachability."""

import pytest


@pytest.mark.django_db
def test_healthy(client, settings):
    response = client.get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == ("ok" if settings.REDIS_URL else "eager")


@pytest.mark.django_db
def test_unreachable_broker_is_503(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["broker"].startswith("error: ")
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_needs_no_login(client):
    assert client.get("/health/").status_code == 200
