"""CORS: the configured origins get it on real requests and preflights, others get nothing."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import TestConfig
from tests.api.conftest import extra_app
from tests.support import auth_headers

ALLOWED = "https://app.example.com"
REFUSED = "https://evil.example.com"
UPLOAD_PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
}


def cors_headers(response) -> dict[str, str]:
    return {name: value for name, value in response.headers if name.lower().startswith("access-control-")}


def preflight(client: FlaskClient, origin: str, path: str = "/api/v1/jobs", **request_headers: str):
    return client.options(path, headers={"Origin": origin} | UPLOAD_PREFLIGHT | request_headers)


@pytest.fixture(scope="module")
def cors_client(app: Flask) -> Iterator[FlaskClient]:
    """A client of an app that allows two origins, one with regex characters in it (matched exactly)."""
    with extra_app(CORS_ORIGINS=f"{ALLOWED}, http://[::1]:8080") as cors_app:
        yield cors_app.test_client()


def test_allowed_origin_can_read_an_authenticated_response_and_its_headers(cors_client):
    headers = auth_headers(cors_client)
    response = cors_client.get("/api/v1/jobs", headers=headers | {"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    exposed = {name.strip().lower() for name in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {"location", "etag", "retry-after", "x-request-id", "content-disposition"}
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Origin" in response.vary


def test_allowed_origin_can_read_an_error(cors_client):
    response = cors_client.get("/api/v1/jobs", headers={"Origin": ALLOWED})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_upload_preflight_allows_the_origin_method_and_headers_without_auth(cors_client):
    response = preflight(cors_client, ALLOWED)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"authorization", "content-type", "idempotency-key"}
    assert int(response.headers["Access-Control-Max-Age"]) == TestConfig().CORS_MAX_AGE
    assert "Origin" in response.vary


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/v1/jobs/some-id"), ("DELETE", "/api/v1/jobs/some-id")]
)
def test_preflight_covers_the_other_methods(cors_client, method, path):
    response = preflight(cors_client, ALLOWED, path, **{"Access-Control-Request-Method": method})
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert method in response.headers["Access-Control-Allow-Methods"]


def test_preflight_does_not_allow_headers_outside_the_list(cors_client):
    response = preflight(
        cors_client, ALLOWED, **{"Access-Control-Request-Headers": "authorization, x-secret"}
    )
    assert response.headers["Access-Control-Allow-Headers"].lower() == "authorization"


@pytest.mark.parametrize(
    "origin", [REFUSED, "https://app.example.com.evil.example.com", "http://app.example.com", "http://1:8080"]
)
def test_refused_origin_gets_no_cors_headers(cors_client, origin):
    assert cors_headers(preflight(cors_client, origin)) == {}
    assert cors_headers(cors_client.get("/api/v1/jobs", headers={"Origin": origin})) == {}


def test_request_without_origin_gets_no_cors_headers(cors_client):
    assert cors_headers(cors_client.get("/api/v1/jobs")) == {}


def test_pages_outside_the_api_get_no_cors_headers(cors_client):
    assert cors_headers(cors_client.get("/metrics", headers={"Origin": ALLOWED})) == {}


def test_no_origin_is_allowed_by_default(client):
    assert cors_headers(preflight(client, ALLOWED)) == {}
    assert cors_headers(client.get("/api/v1/jobs", headers={"Origin": ALLOWED})) == {}


def test_wildcard_allows_any_origin_without_credentials(app):
    with extra_app(CORS_ORIGINS="*") as open_app:
        response = preflight(open_app.test_client(), REFUSED)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"].title()


def test_preflights_do_not_count_against_the_upload_rate_limit(app):
    limit = {"UPLOAD_RATE_LIMIT": "1/hour", "RATELIMIT_KEY_PREFIX": f"cors-test-{secrets.token_hex(4)}"}
    with extra_app(CORS_ORIGINS=ALLOWED, **limit) as limited_app:
        client = limited_app.test_client()
        for _ in range(3):
            response = preflight(client, ALLOWED)
            assert response.status_code == 200
            assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
        # The one upload the limit allows is still there (it fails on auth); the next is refused.
        assert client.post("/api/v1/jobs", headers={"Origin": ALLOWED}).status_code == 401
        refused = client.post("/api/v1/jobs", headers={"Origin": ALLOWED})
    assert refused.status_code == 429
    assert refused.headers["Access-Control-Allow-Origin"] == ALLOWED


@pytest.mark.parametrize(
    "origins",
    [
        "https://app.example.com/",
        "app.example.com",
        "https://app.example.com/path",
        "*, https://a.example.com",
        "https://*.example.com",
        "null",
    ],
)
def test_malformed_origins_are_refused_at_start(monkeypatch, origins):
    monkeypatch.setenv("CORS_ORIGINS", origins)
    assert any("CORS_ORIGINS" in problem for problem in TestConfig().problems())
