"""Configuration from the environment: URL rewriting, TLS, production refusals, redaction."""

from __future__ import annotations

import logging
import secrets

import pytest
from flask import Flask

from app import create_app
from app.logging_setup import log_effective_config, redact
from config import DEV_SECRET, Config, TestConfig, normalize_database_url, normalize_redis_url
from tests.support import TEST_REDIS_URL, database_url

TEST_DATABASE = database_url("docjobs_config_test")  # never connected to: only its presence counts


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


SECRETS = ("SECRET_KEY", "JWT_SECRET_KEY", "METRICS_TOKEN")
SERVER_VARIABLES = ("DATABASE_URL", "REDIS_URL", "PGHOST", "REDISHOST")


@pytest.fixture
def real_secrets(monkeypatch) -> dict[str, str]:
    """Production secrets as a deployment sets them: random, long enough, all different."""
    values = {name: secrets.token_urlsafe(48) for name in SECRETS}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def environment_without_app_env(monkeypatch, **variables: str) -> None:
    """Only the given server variables set, and no APP_ENV or FLASK_ENV."""
    for name in (*SERVER_VARIABLES, "APP_ENV", "FLASK_ENV", "RATELIMIT_STORAGE_URI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    "variable",
    [{"DATABASE_URL": TEST_DATABASE}, {"REDIS_URL": TEST_REDIS_URL}, {"PGHOST": "db"}, {"REDISHOST": "r"}],
)
def test_unset_app_env_with_a_server_configured_is_production(monkeypatch, variable):
    environment_without_app_env(monkeypatch, **variable)
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    config = Config()
    assert (config.APP_ENV, config.PRODUCTION) == ("production", True)
    with pytest.raises(RuntimeError, match="Set SECRET_KEY") as refused:
        create_app(config)
    assert "Set JWT_SECRET_KEY" in str(refused.value) and "Set METRICS_TOKEN" in str(refused.value)
    assert "APP_ENV=development" in str(refused.value)  # what a developer on a local database sets


def test_nothing_set_is_a_development_setup_that_starts_without_secrets(monkeypatch):
    environment_without_app_env(monkeypatch)
    config = Config()
    assert (config.APP_ENV, config.PRODUCTION, config.SECRET_KEY) == ("development", False, DEV_SECRET)
    assert config.problems() == []


@pytest.mark.parametrize("app_env", ["development", "test", "Development"])
def test_explicit_development_or_test_accepts_the_default_secrets(monkeypatch, app_env):
    environment_without_app_env(monkeypatch, DATABASE_URL=TEST_DATABASE, APP_ENV=app_env)
    config = Config()
    assert not config.PRODUCTION
    assert config.problems() == []


@pytest.mark.parametrize("app_env", ["production", "staging", "prod"])
def test_any_other_app_env_is_production(monkeypatch, app_env):
    environment_without_app_env(monkeypatch, APP_ENV=app_env)
    assert Config().PRODUCTION


@pytest.mark.parametrize("variable", SECRETS)
@pytest.mark.parametrize("value", [None, DEV_SECRET, "s" * 31, "é" * 15])  # é is 2 bytes: 30 bytes
def test_production_refuses_a_missing_default_or_short_secret_and_names_it(
    monkeypatch, real_secrets, variable, value
):
    monkeypatch.setenv("APP_ENV", "production")
    if value is None:
        monkeypatch.delenv(variable)
    else:
        monkeypatch.setenv(variable, value)
    with pytest.raises(RuntimeError, match=f"Set {variable} to a random value of at least 32 bytes"):
        create_app(Config())


@pytest.mark.parametrize(
    ("first", "second"), [("SECRET_KEY", "JWT_SECRET_KEY"), ("JWT_SECRET_KEY", "METRICS_TOKEN")]
)
def test_production_refuses_one_value_for_two_secrets(monkeypatch, real_secrets, first, second):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv(second, real_secrets[first])
    with pytest.raises(RuntimeError, match=f"Give {first} and {second} different values"):
        create_app(Config())


def test_production_starts_with_real_secrets(monkeypatch, real_secrets):
    monkeypatch.delenv("APP_ENV")
    monkeypatch.setenv("FLASK_ENV", "production")
    assert create_app(Config()).config["PRODUCTION"] is True


def test_a_token_signed_with_the_development_secret_is_refused_in_production(monkeypatch, real_secrets, app):
    from flask_jwt_extended import create_access_token

    with app.app_context():  # the suite's app runs on the development secret
        forged = create_access_token(identity="1", additional_claims={"fam": "any"})
    monkeypatch.setenv("APP_ENV", "production")
    production = create_app(Config())
    response = production.test_client().get("/api/v1/jobs", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("LOGIN_ACCOUNT_RATE_LIMIT", "ten a minute", "LOGIN_ACCOUNT_RATE_LIMIT must be a rate"),
        ("REGISTER_RATE_LIMIT", "5/fortnight", "REGISTER_RATE_LIMIT must be a rate"),
        ("TRUSTED_PROXY_HOPS", "-1", "TRUSTED_PROXY_HOPS must be 0"),
        ("TOKEN_REVOCATION_CHECK_SECONDS", "0", "TOKEN_REVOCATION_CHECK_SECONDS above 0"),
    ],
)
def test_malformed_account_settings_are_refused_by_name(monkeypatch, variable, value, problem):
    monkeypatch.setenv(variable, value)
    assert any(problem in found for found in Config().problems()), Config().problems()


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
