"""Railway's variables: PG* and REDIS* fallbacks, private hosts under `railway run`, the pool budget."""

from __future__ import annotations

import socket

import pytest

from app import create_app
from config import Config, connection_budget

PG_VARIABLES = {
    "PGHOST": "postgres.railway.internal",
    "PGPORT": "5433",
    "PGUSER": "rail way",
    "PGPASSWORD": "p@ss:w/rd",
    "PGDATABASE": "railway",
}
REDIS_VARIABLES = {
    "REDISHOST": "redis.railway.internal",
    "REDISPORT": "6380",
    "REDISUSER": "default",
    "REDISPASSWORD": "s3cr@t",
}


@pytest.fixture
def railway_env(monkeypatch):
    """Railway's split variables, without DATABASE_URL or REDIS_URL."""
    for name in ("DATABASE_URL", "REDIS_URL", "RATELIMIT_STORAGE_URI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (PG_VARIABLES | REDIS_VARIABLES).items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.fixture
def resolvable(monkeypatch):
    """Answer DNS for *.railway.internal as Railway's private network does."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if str(host).endswith(".railway.internal"):
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fd12::1", 0, 0, 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_database_url_is_built_from_pg_variables_with_quoted_credentials(railway_env):
    assert Config().SQLALCHEMY_DATABASE_URI == (
        "postgresql+psycopg2://rail%20way:p%40ss%3Aw%2Frd@postgres.railway.internal:5433/railway"
    )


def test_redis_url_is_built_from_redis_variables(railway_env):
    config = Config()
    assert config.REDIS_URL == "redis://default:s3cr%40t@redis.railway.internal:6380/0"
    assert config.CELERY["broker_url"] == config.REDIS_URL


def test_redis_without_a_password_has_no_credentials(railway_env):
    railway_env.delenv("REDISPASSWORD")
    assert Config().REDIS_URL == "redis://redis.railway.internal:6380/0"


def test_explicit_urls_win_over_the_split_variables(railway_env):
    railway_env.setenv("DATABASE_URL", "postgres://u:p@db.example.com/x")
    railway_env.setenv("REDIS_URL", "redis://cache.example.com:6379/2")
    config = Config()
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg2://u:p@db.example.com/x"
    assert config.REDIS_URL == "redis://cache.example.com:6379/2"


def test_private_hosts_that_resolve_are_accepted(railway_env, resolvable):
    assert Config().problems() == []


def test_an_unresolvable_private_database_host_names_the_public_url(railway_env):
    problems = Config().problems()
    assert (
        "postgres.railway.internal does not resolve outside Railway; for `railway run`,"
        " set DATABASE_URL=$DATABASE_PUBLIC_URL." in problems
    )
    assert any("REDIS_URL=$REDIS_PUBLIC_URL" in problem for problem in problems)
    with pytest.raises(RuntimeError, match=r"DATABASE_PUBLIC_URL"):
        create_app(Config())


def test_other_hosts_are_not_resolved_at_start(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("only *.railway.internal hosts are looked up")

    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@nowhere.invalid/x")
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert not any("resolve" in problem for problem in Config().problems())


def test_connection_budget_counts_every_pool_at_its_fullest():
    # 2 web replicas × 2 gunicorn processes, 3 worker replicas × 2 pool processes, 5 + 5 each.
    budget = connection_budget(
        web_replicas=2, web_processes=2, worker_replicas=3, worker_concurrency=2, pool_size=5, max_overflow=5
    )
    assert budget == (2 * 2 + 3 * 2) * 10
