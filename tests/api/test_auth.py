"""Registration, sign-in and token refresh."""

from __future__ import annotations

import pytest

from tests.support import PASSWORD, auth_headers


def test_register_normalises_the_email_and_refuses_a_second_account(client):
    first = client.post("/api/v1/auth/register", json={"email": "  Mixed@Example.COM ", "password": PASSWORD})
    assert first.status_code == 201
    assert first.json["email"] == "mixed@example.com"

    again = client.post("/api/v1/auth/register", json={"email": "mixed@example.com", "password": PASSWORD})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "email_taken"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "nul\u0000@example.com", "password": PASSWORD}, "email"),
        ({"email": "a@b.io"}, "password"),
        ({"email": "short@example.com", "password": "short"}, "password"),
        ({"email": "a@b.io", "password": "\ud800" * 8}, "password"),
        (["a", "list"], "body"),
    ],
)
def test_register_refuses_bad_input_field_by_field(client, body, field):
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [field]
    assert error["fields"][field][0]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("email=x", "text/plain"), ("email=a@b.io&password=x", "application/x-www-form-urlencoded")],
)
def test_register_without_json_is_a_422(client, data, content_type):
    response = client.post("/api/v1/auth/register", data=data, content_type=content_type)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"


def test_login_with_a_wrong_password_is_refused(client):
    auth_headers(client, "wrongpass@example.com")
    response = client.post(
        "/api/v1/auth/login", json={"email": "wrongpass@example.com", "password": "nope-nope"}
    )
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_credentials"


def test_refresh_token_gives_a_working_access_token(client):
    auth_headers(client, "refresh@example.com")
    tokens = client.post(
        "/api/v1/auth/login", json={"email": "refresh@example.com", "password": PASSWORD}
    ).json

    refreshed = client.post(
        "/api/v1/auth/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert refreshed.status_code == 200
    jobs = client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {refreshed.json['access_token']}"})
    assert jobs.status_code == 200


def test_tokens_expire_after_an_hour_and_thirty_days(app):
    from datetime import timedelta

    assert timedelta(seconds=app.config["JWT_ACCESS_TOKEN_EXPIRES"]) == timedelta(hours=1)
    assert timedelta(seconds=app.config["JWT_REFRESH_TOKEN_EXPIRES"]) == timedelta(days=30)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "unauthorized"),
        ({"Authorization": "Bearer not.a.token"}, "invalid_token"),
    ],
)
def test_job_endpoints_need_a_valid_access_token(client, headers, code):
    response = client.get("/api/v1/jobs", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == code


def test_a_refresh_token_is_not_an_access_token(client):
    auth_headers(client, "wrongtype@example.com")
    tokens = client.post(
        "/api/v1/auth/login", json={"email": "wrongtype@example.com", "password": PASSWORD}
    ).json
    response = client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"
