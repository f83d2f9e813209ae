"""The health endpoint checks PostgreSQL and Redis for real; only the metrics token sees why one failed."""

from __future__ import annotations

import logging

import pytest

from app import create_app
from config import TestConfig

METRICS_TOKEN = "health-test-metrics-token-0123456789"
WITH_TOKEN = {"Authorization": f"Bearer {METRICS_TOKEN}"}
COMPONENTS = {"database", "broker"}


@pytest.fixture
def metrics_token(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "METRICS_TOKEN", METRICS_TOKEN)


def test_health_is_ok_when_database_and_broker_answer(client, metrics_token):
    response = client.get("/api/v1/health", headers=WITH_TOKEN)
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    for component in COMPONENTS:
        assert response.json["components"][component]["status"] == "ok"
        assert response.json["components"][component]["latency_ms"] >= 0


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": METRICS_TOKEN}]
)
def test_without_the_metrics_token_health_shows_each_status_alone(client, metrics_token, headers):
    response = client.get("/api/v1/health", headers=headers)
    assert response.status_code == 200
    assert response.json == {"status": "ok", "components": {name: {"status": "ok"} for name in COMPONENTS}}


def test_without_a_configured_token_nobody_sees_details(client):
    assert not client.application.config.get("METRICS_TOKEN")
    response = client.get("/api/v1/health", headers={"Authorization": "Bearer "})
    assert all(set(checked) == {"status"} for checked in response.json["components"].values())


def assert_only_unhealthy(response, broken: str) -> None:
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["components"][broken]["status"] == "error"
    healthy = COMPONENTS - {broken}
    assert all(response.json["components"][name]["status"] == "ok" for name in healthy)


def test_health_is_503_when_redis_is_unreachable(app, client, metrics_token, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    assert_only_unhealthy(client.get("/api/v1/health"), "broker")
    detailed = client.get("/api/v1/health", headers=WITH_TOKEN)
    assert_only_unhealthy(detailed, "broker")
    assert detailed.json["components"]["broker"]["error"]


def test_health_is_503_when_postgres_is_unreachable_and_only_the_log_and_the_token_say_why(
    app, monkeypatch, caplog
):
    # A second app: the engine is bound at start. Its rate-limit storage is the same Redis.
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/test")
    monkeypatch.setenv("METRICS_TOKEN", METRICS_TOKEN)
    client = create_app(TestConfig()).test_client()

    with caplog.at_level(logging.WARNING, logger="app.health"):
        public = client.get("/api/v1/health")
    assert_only_unhealthy(public, "database")
    assert public.json["components"]["database"] == {"status": "error"}
    body = public.get_data(as_text=True)
    assert "127.0.0.1" not in body and "port" not in body.lower() and "postgres" not in body.lower()
    logged = [record.getMessage() for record in caplog.records if record.name == "app.health"]
    assert any("database" in line and "127.0.0.1" in line and "ms" in line for line in logged), logged

    detailed = client.get("/api/v1/health", headers=WITH_TOKEN)
    assert_only_unhealthy(detailed, "database")
    assert "127.0.0.1" in detailed.json["components"]["database"]["error"]
    assert detailed.json["components"]["database"]["latency_ms"] >= 0
