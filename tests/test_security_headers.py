"""Every response carries the security headers; HTML gets the page policy, everything else the API one."""

from __future__ import annotations

import pytest
from flask import Flask, Response

from app import create_app
from app.security_headers import API_POLICY, PAGE_POLICY, page_policy
from config import Config, TestConfig

COMMON = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def assert_common_headers(response) -> None:
    for name, value in COMMON.items():
        assert response.headers[name] == value
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.fixture(scope="module")
def html_app() -> Flask:
    """An app with a bare HTML page and one that brings its own policy."""
    flask_app = create_app(TestConfig())

    @flask_app.get("/test-page")
    def test_page():
        return "<!doctype html><title>t</title><p>hello</p>"

    @flask_app.get("/test-docs")
    def test_docs():
        return Response(
            "<!doctype html>", mimetype="text/html", headers={"Content-Security-Policy": DOCS_POLICY}
        )

    return flask_app


DOCS_POLICY = page_policy(style_src="'self' 'unsafe-inline'")


def test_api_json_gets_the_strict_policy(client):
    response = client.get("/api/v1/jobs")
    assert response.status_code == 401
    assert_common_headers(response)
    assert (
        response.headers["Content-Security-Policy"]
        == API_POLICY
        == "default-src 'none'; frame-ancestors 'none'"
    )


def test_json_404_gets_the_headers(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.is_json
    assert_common_headers(response)
    assert response.headers["Content-Security-Policy"] == API_POLICY


def test_html_page_gets_the_page_policy(html_app):
    response = html_app.test_client().get("/test-page")
    assert response.mimetype == "text/html"
    assert_common_headers(response)
    policy = dict(part.split(" ", 1) for part in response.headers["Content-Security-Policy"].split("; "))
    assert policy == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "connect-src": "'self'",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
    }
    assert response.headers["Content-Security-Policy"] == PAGE_POLICY


def test_a_view_can_bring_its_own_policy(html_app):
    response = html_app.test_client().get("/test-docs")
    assert response.headers["Content-Security-Policy"] == DOCS_POLICY
    assert "style-src 'self' 'unsafe-inline'" in DOCS_POLICY
    assert "script-src 'self'" in DOCS_POLICY
    assert_common_headers(response)


def test_no_hsts_by_default_in_development(client):
    assert "Strict-Transport-Security" not in client.get("/api/v1/nothing-here").headers


def test_hsts_when_configured(monkeypatch):
    monkeypatch.setenv("HSTS_SECONDS", "600")
    response = create_app(TestConfig()).test_client().get("/api/v1/nothing-here")
    assert response.headers["Strict-Transport-Security"] == "max-age=600"


def test_production_sends_hsts_for_a_year_unless_told_otherwise(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    assert Config().HSTS_SECONDS == 365 * 24 * 3600
    monkeypatch.setenv("HSTS_SECONDS", "0")
    assert Config().HSTS_SECONDS == 0
