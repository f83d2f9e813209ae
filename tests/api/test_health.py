"""The health endpoint checks PostgreSQL and Redis for real."""

from __future__ import annotations

import pytest

from app import create_app
from config import TestConfig


def test_health_is_ok_when_database_and_broker_answer(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    for component in ("database", "broker"):
        assert response.json["components"][component]["status"] == "ok"
        assert response.json["components"][component]["latency_ms"] >= 0


@pytest.mark.parametrize(
    ("variable", "url", "broken"),
    [
        ("REDIS_URL", "redis://127.0.0.1:1/0", "broker"),
        ("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/test", "database"),
    ],
)
def test_health_is_503_when_a_dependency_is_unreachable(app, monkeypatch, variable, url, broken):
    monkeypatch.setenv(variable, url)
    response = create_app(TestConfig()).test_client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["components"][broken]["status"] == "error"
    assert response.json["components"][broken]["error"]
    healthy = {"database", "broker"} - {broken}
    assert all(response.json["components"][name]["status"] == "ok" for name in healthy)
