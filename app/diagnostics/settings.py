"""Checks of the configuration itself: variables, time limits, TLS, connection budget."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from app.diagnostics.results import CheckResult, Context, failed, passed, skipped, warned
from config import TLS_REQUIRED_HOST_SUFFIXES, env_int, visibility_timeout_problems

# Hosted Redis services that only accept TLS connections.
REDIS_TLS_HOST_SUFFIXES = (".upstash.io",)
# Connections kept free for superusers, migrations and a psql session.
CONNECTION_RESERVE = 5


def check_variables(context: Context) -> CheckResult:
    """Required variables present and well formed; secrets not default in production."""
    config = context.config
    problems = list(config.problems())
    if not config.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
        problems.append("Set DATABASE_URL to the PostgreSQL database (postgresql://user:password@host/db).")
    if not config.REDIS_URL:
        problems.append("Set REDIS_URL to the Redis broker (redis://host:6379/0).")
    if problems:
        return failed("variables", f"{len(problems)} problem(s) in the configuration", " ".join(problems))
    return passed("variables", f"DATABASE_URL, REDIS_URL and secrets set (APP_ENV {config.APP_ENV})")


def check_visibility_timeout(context: Context) -> CheckResult:
    """Redis must not hand a running chunk to a second worker."""
    celery = context.config.CELERY
    if not context.config.REDIS_URL:
        return skipped("visibility-timeout", "no Redis broker configured")
    problems = visibility_timeout_problems(celery, context.config.CHUNK_HARD_TIME_LIMIT)
    if problems:
        return failed(
            "visibility-timeout", problems[0], "Lower CHUNK_HARD_TIME_LIMIT or raise the visibility_timeout."
        )
    timeout = celery["broker_transport_options"].get("visibility_timeout")
    hard = context.config.CHUNK_HARD_TIME_LIMIT
    return passed("visibility-timeout", f"visibility_timeout {timeout} s > hard time limit {hard} s")


def check_tls(context: Context) -> CheckResult:
    """Hosts that only accept TLS get it: sslmode=require for Supabase, rediss:// where known."""
    problems = []
    database = urlsplit(context.config.SQLALCHEMY_DATABASE_URI)
    if (database.hostname or "").endswith(TLS_REQUIRED_HOST_SUFFIXES):
        sslmode = dict(parse_qsl(database.query)).get("sslmode")
        if sslmode not in {"require", "verify-ca", "verify-full"}:
            problems.append(f"Set sslmode=require in DATABASE_URL ({database.hostname} requires TLS).")
    redis_url = context.config.REDIS_URL or ""
    redis_host = urlsplit(redis_url).hostname or ""
    if redis_host.endswith(REDIS_TLS_HOST_SUFFIXES) and not redis_url.startswith("rediss://"):
        problems.append(f"Use rediss:// in REDIS_URL ({redis_host} requires TLS).")
    if problems:
        return failed("tls", "a host that requires TLS is reached without it", " ".join(problems))
    return passed("tls", "no host that requires TLS is reached without it")


def connection_budget(context: Context) -> tuple[int, str]:
    """Count the connections every web and worker process may open at once."""
    options = context.config.SQLALCHEMY_ENGINE_OPTIONS
    per_process = options.get("pool_size", 0) + options.get("max_overflow", 0)
    web = env_int("WEB_REPLICAS", 1) * env_int("WEB_CONCURRENCY", 2)
    workers = env_int("WORKER_REPLICAS", 1) * env_int("WORKER_CONCURRENCY", 2)
    total = (web + workers) * per_process
    return total, f"{web} web + {workers} worker processes x {per_process} (pool_size + max_overflow)"


def check_connection_budget(context: Context, max_connections: int) -> CheckResult:
    """The pools of every process fit in max_connections, with a reserve."""
    total, formula = connection_budget(context)
    detail = f"{formula} = {total} of max_connections {max_connections}"
    fix = (
        "Lower DB_POOL_SIZE/DB_MAX_OVERFLOW or the process counts (WEB_REPLICAS, WEB_CONCURRENCY,"
        " WORKER_REPLICAS, WORKER_CONCURRENCY), put a pooler (PgBouncer) in front,"
        " or raise max_connections."
    )
    if total > max_connections:
        return failed("connection-budget", detail, fix)
    if total > max_connections - CONNECTION_RESERVE:
        return warned("connection-budget", detail + f" (reserve {CONNECTION_RESERVE})", fix)
    return passed("connection-budget", detail)
