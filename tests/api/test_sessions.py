"""Refresh tokens rotate on every use, a reused one revokes its sign-in, logout revokes it too."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token

from app.accounts import RevokedFamilies, revocations
from app.extensions import db
from tests.support import PASSWORD, auth_headers


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: FlaskClient) -> dict:
    """A new user's first tokens."""
    email = f"session-{secrets.token_hex(5)}@example.com"
    auth_headers(client, email)
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.json
    return response.json


def refresh(client: FlaskClient, refresh_token: str):
    return client.post("/api/v1/auth/refresh", headers=bearer(refresh_token))


def assert_revoked(response) -> None:
    assert response.status_code == 401, response.json
    assert response.json["error"]["code"] == "token_revoked"
    assert "sign in again" in response.json["error"]["message"].lower()


def test_refresh_answers_a_new_access_and_refresh_token(client):
    first = sign_in(client)
    refreshed = refresh(client, first["refresh_token"])
    assert refreshed.status_code == 200, refreshed.json
    assert refreshed.json["token_type"] == "Bearer"
    assert refreshed.json["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/jobs", headers=bearer(refreshed.json["access_token"])).status_code == 200
    assert refresh(client, refreshed.json["refresh_token"]).status_code == 200  # the new one works once


def test_a_refresh_token_sent_again_within_the_grace_gets_the_same_successor(client):
    first = sign_in(client)
    one, other = refresh(client, first["refresh_token"]), refresh(client, first["refresh_token"])
    assert (one.status_code, other.status_code) == (200, 200)
    assert one.json["refresh_token"] == other.json["refresh_token"]
    assert client.get("/api/v1/jobs", headers=bearer(other.json["access_token"])).status_code == 200


def test_a_refresh_token_sent_again_after_the_grace_revokes_its_sign_in(app, client, monkeypatch):
    first = sign_in(client)
    successor = refresh(client, first["refresh_token"]).json
    monkeypatch.setitem(app.config, "REFRESH_REUSE_GRACE_SECONDS", 0)

    assert_revoked(refresh(client, first["refresh_token"]))  # the thief's copy, or the user's
    assert_revoked(refresh(client, successor["refresh_token"]))
    for access in (first["access_token"], successor["access_token"]):
        assert_revoked(client.get("/api/v1/jobs", headers=bearer(access)))
    other_sign_in = sign_in(client)  # signing in again starts afresh
    assert client.get("/api/v1/jobs", headers=bearer(other_sign_in["access_token"])).status_code == 200


@pytest.mark.parametrize("with_token", ["access_token", "refresh_token"])
def test_logout_revokes_the_sign_in_at_once(client, with_token):
    tokens = sign_in(client)
    other = sign_in(client)  # another sign-in is not touched
    logout = client.post("/api/v1/auth/logout", headers=bearer(tokens[with_token]))
    assert logout.status_code == 204, logout.json
    assert_revoked(refresh(client, tokens["refresh_token"]))
    assert_revoked(client.get("/api/v1/jobs", headers=bearer(tokens["access_token"])))
    assert client.get("/api/v1/jobs", headers=bearer(other["access_token"])).status_code == 200


def test_logout_needs_a_token(client):
    response = client.post("/api/v1/auth/logout")
    assert (response.status_code, response.json["error"]["code"]) == (401, "unauthorized")


@pytest.mark.parametrize(
    ("make_token", "method", "path"),
    [(create_access_token, "GET", "/api/v1/jobs"), (create_refresh_token, "POST", "/api/v1/auth/refresh")],
)
def test_tokens_from_before_sign_ins_were_families_are_refused(app, client, make_token, method, path):
    with app.app_context():
        legacy = make_token(identity="1")  # no family claim: issued before the upgrade
    assert_revoked(client.open(path, method=method, headers=bearer(legacy)))


def test_a_refresh_token_of_another_users_family_is_refused(app, client):
    victim = sign_in(client)
    with app.app_context():
        family = decode_token(victim["refresh_token"])["fam"]
        forged = create_refresh_token(identity="999999", additional_claims={"fam": family})
    assert_revoked(refresh(client, forged))


class Clock:
    """time.monotonic, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_other_processes_learn_of_a_logout_on_their_next_load(app: Flask, client, run_sql, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(revocations.time, "monotonic", clock)
    tokens = sign_in(client)
    with app.app_context():
        family = decode_token(tokens["access_token"])["fam"]
        other_process = RevokedFamilies(check_seconds=30, window_seconds=3600)
        assert not other_process.contains(family, db.engine)  # loads: nothing revoked yet
        assert client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"])).status_code == 204
        clock.now += 29
        assert not other_process.contains(family, db.engine)  # it has not looked again yet
        clock.now += 1
        assert other_process.contains(family, db.engine)
    assert run_sql("SELECT revoked_reason FROM token_families WHERE id = :id", id=family)[0][0] == "logout"


def test_the_revoked_set_keeps_what_it_knows_while_the_database_is_unreachable(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(revocations.time, "monotonic", clock)
    revoked = RevokedFamilies(check_seconds=30, window_seconds=3600)
    revoked.add("family-revoked-here")
    unreachable = sa.create_engine("postgresql+psycopg2://postgres@127.0.0.1:1/none")
    assert revoked.contains("family-revoked-here", unreachable)
    assert not revoked.contains("another-family", unreachable)
