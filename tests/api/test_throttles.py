"""Sign-in, sign-up and upload throttles, and the client address they key on.

Each test counts under addresses and emails of its own (random), so no other test's
requests count against its limits.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import extra_app
from tests.support import PASSWORD, upload

NOT_A_PDF = b"plain text"  # refused with 415, but counted: the limits come first


def new_address() -> str:
    """A client address no other test uses."""
    return "198.18." + ".".join(str(part) for part in secrets.token_bytes(2))


def new_email() -> str:
    return f"throttle-{secrets.token_hex(5)}@example.com"


@pytest.fixture(scope="module")
def strict_app(app: Flask) -> Iterator[Flask]:
    """An app with small limits and no trusted proxy hop (the local default)."""
    limits = {
        "LOGIN_ACCOUNT_RATE_LIMIT": "3/minute",
        "LOGIN_ADDRESS_RATE_LIMIT": "5/minute",
        "REGISTER_RATE_LIMIT": "2/hour",
        "UPLOAD_ADDRESS_RATE_LIMIT": "3/hour",
        "TRUSTED_PROXY_HOPS": "0",
    }
    with extra_app(**limits) as limited:
        yield limited


@pytest.fixture(scope="module")
def proxied_app(app: Flask) -> Iterator[Flask]:
    """An app behind one trusted proxy hop, as the images run it."""
    with extra_app(REGISTER_RATE_LIMIT="2/hour", TRUSTED_PROXY_HOPS="1") as behind_proxy:
        yield behind_proxy


def login(client: FlaskClient, email: str, password: str, address: str):
    body = {"email": email, "password": password}
    return client.post("/api/v1/auth/login", json=body, environ_base={"REMOTE_ADDR": address})


def register(client: FlaskClient, address: str, email: str | None = None, forwarded_for: str | None = None):
    body = {"email": email or new_email(), "password": PASSWORD}
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        "/api/v1/auth/register", json=body, headers=headers, environ_base={"REMOTE_ADDR": address}
    )


def assert_rate_limited(response) -> None:
    assert response.status_code == 429, response.json
    assert response.json["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 3601  # at most the window (rounded up)


@pytest.mark.parametrize("exists", [True, False], ids=["existing-account", "unknown-email"])
def test_failed_sign_ins_are_limited_per_account_from_any_address(strict_app, exists):
    client = strict_app.test_client()
    email = new_email()
    if exists:
        assert register(client, new_address(), email).status_code == 201
    # The same account however its email is spelt, from a new address each time.
    statuses = [login(client, email.upper(), "wrong-password", new_address()).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    assert_rate_limited(login(client, f"  {email} ", "wrong-password", new_address()))
    assert_rate_limited(login(client, email, PASSWORD, new_address()))  # the right password waits too


def test_successful_sign_ins_do_not_use_up_the_account_limit(strict_app):
    client = strict_app.test_client()
    email = new_email()
    assert register(client, new_address(), email).status_code == 201
    assert [login(client, email, PASSWORD, new_address()).status_code for _ in range(5)] == [200] * 5


def test_sign_ins_are_limited_per_address_across_accounts(strict_app):
    client = strict_app.test_client()
    address = new_address()
    statuses = [login(client, new_email(), "wrong-password", address).status_code for _ in range(5)]
    assert statuses == [401] * 5
    assert_rate_limited(login(client, new_email(), "wrong-password", address))
    assert login(client, new_email(), "wrong-password", new_address()).status_code == 401  # others go on


def test_sign_ups_are_limited_per_address_and_email_taken_counts(strict_app):
    client = strict_app.test_client()
    address, email = new_address(), new_email()
    assert register(client, address, email).status_code == 201
    taken = register(client, address, email)
    assert (taken.status_code, taken.json["error"]["code"]) == (409, "email_taken")
    assert_rate_limited(register(client, address))
    assert register(client, new_address()).status_code == 201


def test_uploads_are_limited_per_address_whatever_the_account(strict_app):
    client = strict_app.test_client()
    address = new_address()
    users = []
    for _ in range(2):
        email = new_email()
        assert register(client, new_address(), email).status_code == 201
        token = login(client, email, PASSWORD, new_address()).json["access_token"]
        users.append({"Authorization": f"Bearer {token}"})
    one_client = strict_app.test_client()
    one_client.environ_base["REMOTE_ADDR"] = address
    statuses = [upload(one_client, users[n % 2], NOT_A_PDF).status_code for n in range(3)]
    assert statuses == [415] * 3
    assert_rate_limited(upload(one_client, users[0], NOT_A_PDF))


def test_without_a_trusted_hop_forwarded_addresses_are_ignored(strict_app):
    client = strict_app.test_client()
    address = new_address()
    statuses = [register(client, address, forwarded_for=new_address()).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]


def test_one_trusted_hop_takes_the_address_the_proxy_appended(proxied_app):
    client = proxied_app.test_client()
    proxy = new_address()
    # Each a client of its own behind the one proxy.
    assert [register(client, proxy, forwarded_for=new_address()).status_code for _ in range(3)] == [201] * 3
    # One client writing whatever it likes before the address the proxy appends.
    real = new_address()
    statuses = [
        register(client, proxy, forwarded_for=f"{new_address()}, {real}").status_code for _ in range(3)
    ]
    assert statuses == [201, 201, 429]
