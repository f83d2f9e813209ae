"""With the broker unreachable, uploads are still accepted, as pending, and nothing is lost."""

from __future__ import annotations

import time

from app import create_app
from config import TestConfig
from tests.support import TEST_REDIS_URL, auth_headers, upload

PDF = b"%PDF-1.4\n%%EOF\n"


def test_upload_is_accepted_as_pending_when_the_broker_is_down(app, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", TEST_REDIS_URL)
    client = create_app(TestConfig()).test_client()
    headers = auth_headers(client)

    started = time.monotonic()
    response = upload(client, headers, PDF)
    assert time.monotonic() - started < 10  # the publish gives up quickly
    assert response.status_code == 202
    assert response.json["status"] == "pending"
    job = client.get(response.headers["Location"], headers=headers).json
    assert job["status"] == "pending"
    assert job["current_step"] == "Waiting for the queue"


def test_uploads_fail_open_when_the_rate_limit_storage_is_down(app, monkeypatch):
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:1/0")
    client = create_app(TestConfig()).test_client()
    headers = auth_headers(client)
    try:
        assert upload(client, headers, PDF).status_code == 202
    finally:
        # The limiter's storage is process-wide: give it back its Redis for later tests.
        monkeypatch.delenv("RATELIMIT_STORAGE_URI")
        create_app(TestConfig())
