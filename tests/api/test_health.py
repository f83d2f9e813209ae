"""The health endpoint checks PostgreSQL and Redis for real."""

from __future__ import annotations

from app import create_app
from config import TestConfig


def test_health_is_ok_when_database_and_broker_answer(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    for component in ("database", "broker"):
        assert response.json["components"][component]["status"] == "ok"
        assert response.json["components"][component]["latency_ms"] >= 0


def assert_only_unhealthy(response, broken: str) -> None:
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["components"][broken]["status"] == "error"
    assert response.json["components"][broken]["error"]
    healthy = {"database", "broker"} - {broken}
    assert all(response.json["components"][name]["status"] == "ok" for name in healthy)


def test_health_is_503_when_redis_is_unreachable(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    assert_only_unhealthy(client.get("/api/v1/health"), "broker")


def test_health_is_503_when_postgres_is_unreachable(app, monkeypatch):
    # A second app: the engine is bound at start. Its rate-limit storage is the same Redis.
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/test")
    response = create_app(TestConfig()).test_client().get("/api/v1/health")
    assert_only_unhealthy(response, "database")
