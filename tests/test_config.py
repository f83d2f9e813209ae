"""Configuration from the environment: URL rewriting, TLS, production refusals, redaction."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from app import create_app
from app.logging_setup import log_effective_config, redact
from config import Config, TestConfig, normalize_database_url, normalize_redis_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/x", "postgresql+psycopg2://u:p@db:5432/x"),
        ("postgresql://u:p@db/x", "postgresql+psycopg2://u:p@db/x"),
        (
            "postgresql://u:p@db.abc.supabase.co/x",
            "postgresql+psycopg2://u:p@db.abc.supabase.co/x?sslmode=require",
        ),
        (
            "postgres://u:p@aws-0.pooler.supabase.com:6543/x?sslmode=verify-full",
            "postgresql+psycopg2://u:p@aws-0.pooler.supabase.com:6543/x?sslmode=verify-full",
        ),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_urls_are_normalised(given, expected):
    assert normalize_database_url(given) == expected


def test_rediss_urls_get_a_certificate_policy():
    assert (
        normalize_redis_url("rediss://:pw@host:6380/0") == "rediss://:pw@host:6380/0?ssl_cert_reqs=required"
    )
    assert normalize_redis_url("redis://host:6379/0") == "redis://host:6379/0"


def test_nothing_set_means_sqlite_and_the_embedded_broker(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "REDIS_URL", "RATELIMIT_STORAGE_URI"):
        monkeypatch.delenv(name, raising=False)
    config = Config()
    assert config.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
    assert config.CELERY["broker_url"] == "filesystem://"
    assert config.RATELIMIT_STORAGE_URI == "memory://"


def test_postgres_engine_uses_the_pool_design(monkeypatch):
    monkeypatch.setenv("DB_POOL_SIZE", "4")
    options = TestConfig().SQLALCHEMY_ENGINE_OPTIONS
    assert options["pool_size"] == 4
    assert (options["max_overflow"], options["pool_recycle"], options["pool_pre_ping"]) == (5, 3600, True)


def test_redis_visibility_timeout_outlasts_the_hard_time_limit():
    config = TestConfig()
    visibility = config.CELERY["broker_transport_options"]["visibility_timeout"]
    assert visibility > config.CHUNK_HARD_TIME_LIMIT
    assert config.CELERY["task_acks_late"] and config.CELERY["worker_prefetch_multiplier"] == 1


@pytest.mark.parametrize("variable", ["SECRET_KEY", "JWT_SECRET_KEY"])
def test_production_refuses_a_default_secret_and_names_it(monkeypatch, variable):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 40)
    monkeypatch.delenv(variable)
    with pytest.raises(RuntimeError, match=f"Set {variable}"):
        create_app(Config())


def test_production_starts_with_real_secrets(monkeypatch):
    monkeypatch.setenv("FLASK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 40)
    assert create_app(Config()).config["PRODUCTION"] is True


def test_malformed_numbers_are_refused_by_name(monkeypatch):
    monkeypatch.setenv("CHUNK_PAGES", "ten")
    with pytest.raises(ValueError, match="CHUNK_PAGES"):
        Config()


def test_effective_configuration_is_logged_without_passwords(monkeypatch, caplog):
    monkeypatch.setenv("REDIS_URL", "redis://:hunter2-redis@127.0.0.1:6379/15")
    flask_app = Flask(__name__)
    flask_app.config.from_object(TestConfig())
    with caplog.at_level(logging.INFO, logger="app.config"):
        log_effective_config(flask_app)
    logged = caplog.text
    assert "Effective configuration" in logged
    assert "hunter2" not in logged
    assert redact("postgresql://user:pw@host/db") == "postgresql://user:***@host/db"


def test_start_up_refuses_a_visibility_timeout_that_a_long_chunk_could_outlive():
    from config import visibility_timeout_problems

    config = TestConfig()
    assert visibility_timeout_problems(config.CELERY, config.CHUNK_HARD_TIME_LIMIT) == []
    short = config.CELERY | {
        "broker_transport_options": {"visibility_timeout": 60},
        "result_backend_transport_options": {"visibility_timeout": 60},
    }
    assert "must exceed" in visibility_timeout_problems(short, config.CHUNK_HARD_TIME_LIMIT)[0]
    lopsided = config.CELERY | {"result_backend_transport_options": {}}
    assert "identically" in visibility_timeout_problems(lopsided, config.CHUNK_HARD_TIME_LIMIT)[0]


def test_workers_recycle_children_and_shut_down_softly():
    celery = TestConfig().CELERY
    assert celery["worker_max_tasks_per_child"] > 0
    assert celery["worker_max_memory_per_child"] > 0
    assert celery["worker_soft_shutdown_timeout"] > 0
    assert celery["worker_enable_soft_shutdown_on_idle"] is False  # idle workers stop at once
    assert celery["worker_disable_prefetch"] is True  # a dead worker held only running chunks
