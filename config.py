"""Configuration, read from the environment with development defaults.

With nothing set, the platform runs on a SQLite file and an embedded filesystem
Celery broker under ``instance/``, so it starts with Python alone, as a development
setup. Once it is pointed at a real database or Redis it runs as production unless
``APP_ENV`` says ``development`` or ``test``, and production refuses default secrets.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from limits import parse_many

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))

DEV_SECRET = "dev-only-secret-not-for-production-use"  # noqa: S105 - production refuses it
MIN_SECRET_LENGTH = 32  # bytes: HMAC-SHA256 keys shorter than the hash are weak
RELAXED_ENVIRONMENTS = ("development", "test")  # APP_ENV values that accept the default secrets
RATE_LIMIT_SETTINGS = (
    "UPLOAD_RATE_LIMIT",
    "UPLOAD_ADDRESS_RATE_LIMIT",
    "LOGIN_ACCOUNT_RATE_LIMIT",
    "LOGIN_ADDRESS_RATE_LIMIT",
    "REGISTER_RATE_LIMIT",
    "SEARCH_RATE_LIMIT",
    "RETRY_RATE_LIMIT",
)
MIN_WORKER_MEMORY_LIMIT_MB = 256  # the PDF sandbox idles at 25 MB and holds the upload
TLS_REQUIRED_HOST_SUFFIXES = (".supabase.co", ".pooler.supabase.com")
RAILWAY_PRIVATE_SUFFIX = ".railway.internal"  # resolves only inside Railway's private network
ORIGIN_PATTERN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


def env_str(name: str, default: str | None = None) -> str | None:
    """Return the variable, or the default when it is unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(name: str, default: int) -> int:
    """Return the variable as an int; a malformed value is a start-up error."""
    raw = env_str(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}.") from None


def env_float(name: str, default: float) -> float:
    """Return the variable as a float; a malformed value is a start-up error."""
    raw = env_str(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}.") from None


def env_bool(name: str, default: bool) -> bool:
    """Return the variable as a bool (1/true/yes/on are true)."""
    raw = env_str(name)
    if raw is None:
        return default
    return raw.lower() in {"1", "true", "yes", "on"}


def env_list(name: str) -> list[str]:
    """Return the comma-separated variable as a list of its non-blank items."""
    return [item.strip() for item in (env_str(name) or "").split(",") if item.strip()]


def rate_limit_problems(limits: dict[str, str]) -> list[str]:
    """Check that each rate limit is in Flask-Limiter's notation, e.g. ``10/hour`` or ``5 per minute``."""
    found = []
    for name, value in limits.items():
        try:
            parse_many(value)
        except ValueError:
            found.append(f"{name} must be a rate such as 10/hour or 30/minute; got {value!r}.")
    return found


def cors_origin_problems(origins: list[str]) -> list[str]:
    """Check that CORS_ORIGINS holds exact origins (scheme://host[:port]) or a lone ``*``."""
    if "*" in origins:
        return [] if origins == ["*"] else ["CORS_ORIGINS: use `*` alone or list exact origins, not both."]
    found = []
    for origin in origins:
        if not ORIGIN_PATTERN.fullmatch(origin):
            found.append(
                f"CORS_ORIGINS entries are origins like https://app.example.com"
                f" (scheme and host, no path or trailing slash); got {origin!r}."
            )
    return found


def normalize_database_url(url: str) -> str:
    """Use the psycopg2 driver for ``postgres(ql)://`` URLs and require TLS where the host needs it."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            url = "postgresql+psycopg2://" + url[len(scheme) :]
    parts = urlsplit(url)
    host = parts.hostname or ""
    if url.startswith("postgresql") and host.endswith(TLS_REQUIRED_HOST_SUFFIXES):
        query = dict(parse_qsl(parts.query))
        query.setdefault("sslmode", "require")
        url = urlunsplit(parts._replace(query=urlencode(query)))
    return url


def normalize_redis_url(url: str) -> str:
    """Give ``rediss://`` URLs the certificate policy that Celery insists on."""
    parts = urlsplit(url)
    if parts.scheme == "rediss":
        query = dict(parse_qsl(parts.query))
        query.setdefault("ssl_cert_reqs", "required")
        url = urlunsplit(parts._replace(query=urlencode(query)))
    return url


def url_host(host: str) -> str:
    """Bracket an IPv6 address for use in a URL."""
    return f"[{host}]" if ":" in host else host


def database_url_from_env() -> str | None:
    """Return DATABASE_URL, else a URL built from PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE."""
    url = env_str("DATABASE_URL")
    host = env_str("PGHOST")
    if url or not host:
        return url
    user = quote(env_str("PGUSER", "postgres"), safe="")
    password = env_str("PGPASSWORD")
    auth = f"{user}:{quote(password, safe='')}" if password else user
    port = env_str("PGPORT", "5432")
    return f"postgresql://{auth}@{url_host(host)}:{port}/{quote(env_str('PGDATABASE', 'postgres'), safe='')}"


def redis_url_from_env() -> str | None:
    """Return REDIS_URL, else a URL built from REDISHOST, REDISPORT, REDISUSER and REDISPASSWORD."""
    url = env_str("REDIS_URL")
    host = env_str("REDISHOST")
    if url or not host:
        return url
    password = env_str("REDISPASSWORD")
    auth = f"{quote(env_str('REDISUSER', ''), safe='')}:{quote(password, safe='')}@" if password else ""
    return f"redis://{auth}{url_host(host)}:{env_str('REDISPORT', '6379')}/0"


def private_host_problems(url: str | None, variable: str) -> list[str]:
    """Explain a Railway private host that does not resolve here (e.g. under `railway run`)."""
    host = urlsplit(url or "").hostname or ""
    if not host.endswith(RAILWAY_PRIVATE_SUFFIX):
        return []
    try:
        socket.getaddrinfo(host, None)
    except OSError:
        public = variable.removesuffix("_URL") + "_PUBLIC_URL"
        return [f"{host} does not resolve outside Railway; for `railway run`, set {variable}=${public}."]
    return []


def connection_budget(
    web_replicas: int,
    web_processes: int,
    worker_replicas: int,
    worker_concurrency: int,
    pool_size: int,
    max_overflow: int,
) -> int:
    """Return the most PostgreSQL connections a deployment can hold: every process may fill its pool."""
    processes = web_replicas * web_processes + worker_replicas * worker_concurrency
    return processes * (pool_size + max_overflow)


def app_environment() -> str:
    """Return ``production``, ``development`` or ``test``: what the secret checks apply to.

    Only an explicit ``APP_ENV=development`` or ``test`` relaxes them. Unset, a process
    pointed at a database or Redis of its own (``DATABASE_URL``/``PGHOST``,
    ``REDIS_URL``/``REDISHOST``) is production, so a deploy that forgot ``APP_ENV``
    does not start on the public development secret; with neither, it is the local
    development setup. Any other value (``staging``) counts as production.
    """
    named = (env_str("APP_ENV") or "").lower()
    if (env_str("FLASK_ENV") or "").lower() == "production":
        return "production"
    if named:
        return named if named in RELAXED_ENVIRONMENTS else "production"
    return "production" if database_url_from_env() or redis_url_from_env() else "development"


def secret_problems(secrets: dict[str, str | None]) -> list[str]:
    """Refuse missing, default, short or shared secrets (production only), each with its fix."""
    found = []
    for name, value in secrets.items():
        if not value:
            found.append(f"Set {name} to a random value of at least {MIN_SECRET_LENGTH} bytes.")
        elif value == DEV_SECRET or len(value.encode()) < MIN_SECRET_LENGTH:
            found.append(
                f"Set {name} to a random value of at least {MIN_SECRET_LENGTH} bytes;"
                " production refuses the default and short ones."
            )
    given = [(name, value) for name, value in secrets.items() if value]
    for index, (name, value) in enumerate(given):
        for other, other_value in given[index + 1 :]:
            if value == other_value:
                found.append(f"Give {name} and {other} different values; one must not reveal the other.")
    if found:
        found.append(
            'Generate each with: python -c "import secrets; print(secrets.token_urlsafe(48))".'
            " For a local setup on PostgreSQL or Redis, set APP_ENV=development instead."
        )
    return found


# Celery retries a transient failure after 1, 2, 4 ... seconds (see app/tasks.py).
MAX_RETRY_COUNTDOWN = 2**3


def celery_settings(config: Config) -> dict:
    """Build the Celery settings for the Redis broker, or the embedded local one.

    Delivery is at least once: a chunk is acknowledged only after it ran
    (``task_acks_late``), and a chunk whose worker process died is given back
    (``task_reject_on_worker_lost``). Duplicate runs are harmless because every
    chunk write is idempotent (app/jobs/processing.py).
    """
    settings: dict = {
        # Progress lives in the database; results on the backend would only expire.
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # Chunks are long: one at a time per process, so idle processes take the rest.
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": config.CHUNK_SOFT_TIME_LIMIT,
        "task_time_limit": config.CHUNK_HARD_TIME_LIMIT,
        # One bad PDF cannot grow a process forever: children are recycled.
        "worker_max_tasks_per_child": config.WORKER_MAX_TASKS_PER_CHILD,
        "worker_max_memory_per_child": config.WORKER_MAX_MEMORY_PER_CHILD_MB * 1024,  # KiB
        # On SIGTERM, running chunks get this long to finish; then the worker stops them
        # and their unacknowledged messages go back to the queue at once (Celery >= 5.5),
        # instead of after the visibility timeout.
        "worker_soft_shutdown_timeout": config.WORKER_SOFT_SHUTDOWN_SECONDS,
        # An idle worker stops at once; the grace is for running chunks only.
        "worker_enable_soft_shutdown_on_idle": False,
        "broker_connection_retry_on_startup": True,
        "broker_connection_retry": True,
        "broker_connection_max_retries": None,  # keep reconnecting after a Redis restart
        # An upload must not hang while the broker is down: fail the publish fast.
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
        "worker_hijack_root_logger": False,
    }
    if config.REDIS_URL:
        # Redis hands an unacknowledged task to another worker after visibility_timeout;
        # it must outlast the longest run (hard limit plus a retry's countdown), or a
        # long chunk would run twice at once. Celery reads it from both option sets.
        transport = {
            "visibility_timeout": config.CHUNK_HARD_TIME_LIMIT + MAX_RETRY_COUNTDOWN + 600,
            "socket_timeout": 10,
            "socket_connect_timeout": 5,
            "retry_on_timeout": True,
        }
        settings |= {
            # A worker takes a message only when a process is free to run it, so every
            # message a dead worker held is a running chunk, which the reaper requeues;
            # none waits in its memory for the visibility timeout.
            "worker_disable_prefetch": True,
            "broker_url": config.REDIS_URL,
            "broker_transport_options": transport,
            "result_backend_transport_options": dict(transport),
        }
    else:
        queue_dir = INSTANCE_DIR / "broker"
        for sub in ("queue", "processed", "control"):
            (queue_dir / sub).mkdir(parents=True, exist_ok=True)
        settings |= {
            "broker_url": "filesystem://",
            "broker_transport_options": {
                "data_folder_in": str(queue_dir / "queue"),
                "data_folder_out": str(queue_dir / "queue"),
                "processed_folder": str(queue_dir / "processed"),
                "control_folder": str(queue_dir / "control"),
                "store_processed": False,
                "polling_interval": 0.1,  # the default second per task makes small jobs crawl
            },
        }
    return settings


def visibility_timeout_problems(celery: dict, hard_limit: int) -> list[str]:
    """Check that Redis will not redeliver a chunk that is still running."""
    if not celery["broker_url"].startswith("redis"):
        return []
    broker = celery["broker_transport_options"].get("visibility_timeout")
    backend = celery.get("result_backend_transport_options", {}).get("visibility_timeout")
    if broker is None or broker != backend:
        return ["Set visibility_timeout identically in broker and result backend transport options."]
    if broker <= hard_limit + MAX_RETRY_COUNTDOWN:
        return [f"visibility_timeout ({broker} s) must exceed CHUNK_HARD_TIME_LIMIT plus retry countdown."]
    return []


class Config:
    """Settings for a running platform, read once from the environment."""

    def __init__(self) -> None:
        self.APP_ENV = app_environment()
        self.PRODUCTION = self.APP_ENV == "production"
        self.SECRET_KEY = env_str("SECRET_KEY", None if self.PRODUCTION else DEV_SECRET)
        self.JWT_SECRET_KEY = env_str("JWT_SECRET_KEY", None if self.PRODUCTION else DEV_SECRET)
        self.JWT_ACCESS_TOKEN_EXPIRES = env_int("JWT_ACCESS_TOKEN_SECONDS", 3600)
        self.JWT_REFRESH_TOKEN_EXPIRES = env_int("JWT_REFRESH_TOKEN_SECONDS", 30 * 24 * 3600)
        # Tokens travel in the Authorization header only: no cookie, so no CSRF claim (a random
        # one would also keep a re-sent refresh token from getting the same successor).
        self.JWT_COOKIE_CSRF_PROTECT = False
        # A refresh token is good for one refresh (app/accounts/sessions.py). Presented again
        # within this many seconds, it gets the same successor (two commands refreshing at
        # once); later, it signs its whole sign-in out, since someone else holds a copy.
        self.REFRESH_REUSE_GRACE_SECONDS = env_float("REFRESH_REUSE_GRACE_SECONDS", 10)
        # Each process reloads the signed-out sign-ins from the database this often, so an
        # access token stops working at most this long (plus a request) after its logout.
        self.TOKEN_REVOCATION_CHECK_SECONDS = env_float("TOKEN_REVOCATION_CHECK_SECONDS", 30)
        # Forwarded-for hops appended by proxies we trust (Railway's edge: 1, set in the
        # images); the address before them is the client's. Entries further left are
        # whatever the client wrote, and ignored.
        self.TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0)

        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        default_db = f"sqlite:///{INSTANCE_DIR / 'docjobs.sqlite3'}"
        self.SQLALCHEMY_DATABASE_URI = normalize_database_url(database_url_from_env() or default_db)
        self.SQLALCHEMY_ENGINE_OPTIONS = self._engine_options()

        redis_url = redis_url_from_env()
        self.REDIS_URL = normalize_redis_url(redis_url) if redis_url else None

        self.MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_MB", 50) * 1024 * 1024
        # Werkzeug answers 413 itself past this; a little slack for multipart framing.
        self.MAX_CONTENT_LENGTH = self.MAX_UPLOAD_BYTES + 64 * 1024
        # Every other body (JSON) is refused past this before it is read in full or parsed.
        self.MAX_JSON_BODY_BYTES = env_int("MAX_JSON_BODY_KB", 64) * 1024
        self.MAX_PAGES = env_int("MAX_PAGES", 10_000)
        # A page's text, and a job's sentences, beyond which the job fails with too_much_text:
        # a dense real page holds under 10,000 characters; a 3,000-page book under 100,000 sentences.
        self.MAX_PAGE_CHARS = env_int("MAX_PAGE_CHARS", 100_000)
        self.MAX_JOB_SENTENCES = env_int("MAX_JOB_SENTENCES", 200_000)
        # Per user: bytes of PDFs and stored results, and jobs waiting or processing at once.
        self.USER_STORAGE_MB = env_int("USER_STORAGE_MB", 1024)
        self.MAX_ACTIVE_JOBS = env_int("MAX_ACTIVE_JOBS", 20)
        self.CHUNK_PAGES = env_int("CHUNK_PAGES", 10)
        self.MAX_CHUNKS_PER_JOB = env_int("MAX_CHUNKS_PER_JOB", 100)
        self.CHUNK_SOFT_TIME_LIMIT = env_int("CHUNK_SOFT_TIME_LIMIT", 25 * 60)
        self.CHUNK_HARD_TIME_LIMIT = env_int("CHUNK_HARD_TIME_LIMIT", 30 * 60)
        # A chunk whose process died this many times (crash, OOM, kill) fails its job.
        self.MAX_CHUNK_ATTEMPTS = env_int("MAX_CHUNK_ATTEMPTS", 3)
        # Running chunks beat every HEARTBEAT_SECONDS; silent for STALE_CHUNK_SECONDS
        # means their worker is gone. Maintenance (every worker, one run per interval,
        # app/jobs/maintenance_schedule.py) looks every interval.
        self.HEARTBEAT_SECONDS = env_float("HEARTBEAT_SECONDS", 10)
        self.STALE_CHUNK_SECONDS = env_float("STALE_CHUNK_SECONDS", 60)
        self.MAINTENANCE_INTERVAL_SECONDS = env_float("MAINTENANCE_INTERVAL_SECONDS", 15)
        # Pending uploads older than this are enqueued by the sweeper (the broker was down).
        self.PENDING_GRACE_SECONDS = env_float("PENDING_GRACE_SECONDS", 5)
        # Queued work that waited this long is looked up in the broker, and published
        # again if its message is gone (Redis lost its data, a worker died holding it).
        self.REQUEUE_AFTER_SECONDS = env_float("REQUEUE_AFTER_SECONDS", 30)
        self.WORKER_MAX_TASKS_PER_CHILD = env_int("WORKER_MAX_TASKS_PER_CHILD", 200)
        self.WORKER_MAX_MEMORY_PER_CHILD_MB = env_int("WORKER_MAX_MEMORY_PER_CHILD_MB", 1024)
        self.WORKER_SOFT_SHUTDOWN_SECONDS = env_float("WORKER_SOFT_SHUTDOWN_SECONDS", 20)
        # Address space of each worker process's PDF sandbox (app/pdf/sandbox.py), where pdfium
        # parses, extracts and renders; a PDF that needs more fails with resource_limit.
        self.WORKER_MEMORY_LIMIT_MB = env_int("WORKER_MEMORY_LIMIT_MB", 1536)
        self.CELERY_QUEUE = env_str("CELERY_QUEUE", "docjobs")

        self.UPLOAD_RATE_LIMIT = env_str("UPLOAD_RATE_LIMIT", "10/hour")
        # Per client address, whatever accounts it uses: signing up more accounts does not
        # buy more uploads (app/api/throttles.py).
        self.UPLOAD_ADDRESS_RATE_LIMIT = env_str("UPLOAD_ADDRESS_RATE_LIMIT", "30/hour")
        # A retry runs the job again: as costly as an upload, without the upload's limit.
        self.RETRY_RATE_LIMIT = env_str("RETRY_RATE_LIMIT", "10/hour")
        # Failed sign-ins per account (its normalised email, known or not) and sign-in
        # attempts per address; sign-ups per address.
        self.LOGIN_ACCOUNT_RATE_LIMIT = env_str("LOGIN_ACCOUNT_RATE_LIMIT", "10/minute")
        self.LOGIN_ADDRESS_RATE_LIMIT = env_str("LOGIN_ADDRESS_RATE_LIMIT", "30/minute")
        self.REGISTER_RATE_LIMIT = env_str("REGISTER_RATE_LIMIT", "5/hour")
        # Each search embeds its query on the web process's CPU (about 10 ms, seconds for the first).
        self.SEARCH_RATE_LIMIT = env_str("SEARCH_RATE_LIMIT", "60/minute")
        self.RATELIMIT_STORAGE_URI = env_str("RATELIMIT_STORAGE_URI", self.REDIS_URL or "memory://")
        self.RATELIMIT_KEY_PREFIX = env_str("RATELIMIT_KEY_PREFIX", "docjobs")
        self.RATELIMIT_HEADERS_ENABLED = False  # Retry-After is set on 429s only
        # Uploads must keep working while Redis is down: count in memory meanwhile.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.RATELIMIT_SWALLOW_ERRORS = True
        self.HEALTH_TIMEOUT_SECONDS = env_float("HEALTH_TIMEOUT_SECONDS", 5.0)
        # Analyses of an upload that names none; unset means every registered analyzer.
        self.DEFAULT_ANALYSES = env_list("DEFAULT_ANALYSES") or None
        # /metrics answers only "Authorization: Bearer <METRICS_TOKEN>" when it is set;
        # production refuses to start without it.
        self.METRICS_TOKEN = env_str("METRICS_TOKEN")
        # One JSON object per log line in production (for log collectors), text on a laptop.
        self.LOG_FORMAT = env_str("LOG_FORMAT", "json" if self.PRODUCTION else "text")
        # Poll hints (app/api/polling.py): a waiting job's grows from the min to the max.
        self.POLL_QUEUED_MIN_MS = env_int("POLL_QUEUED_MIN_MS", 500)
        self.POLL_QUEUED_MAX_MS = env_int("POLL_QUEUED_MAX_MS", 5000)
        self.POLL_PROCESSING_MS = env_int("POLL_PROCESSING_MS", 1000)
        # Rendered details of ended jobs kept per process, so repeated full polls skip the render.
        self.POLL_CACHE_MB = env_int("POLL_CACHE_MB", 32)
        # Progress streams (app/api/events.py); each open stream is a greenlet of a web process.
        self.SSE_POLL_SECONDS = env_float("SSE_POLL_SECONDS", 1.0)
        self.SSE_HEARTBEAT_SECONDS = env_float("SSE_HEARTBEAT_SECONDS", 15.0)
        self.SSE_MAX_SECONDS = env_float("SSE_MAX_SECONDS", 300.0)
        self.SSE_TICKET_SECONDS = env_int("SSE_TICKET_SECONDS", 60)
        self.SSE_MAX_STREAMS = env_int("SSE_MAX_STREAMS", 100)  # per web process
        # One user's share of a process's streams: a few open tabs, never everyone's streams.
        self.SSE_MAX_STREAMS_PER_USER = env_int("SSE_MAX_STREAMS_PER_USER", 4)
        # Only bench/poll.py sets this: it adds the bare endpoint the poll is compared with.
        self.BENCH_ENDPOINTS = env_bool("BENCH_ENDPOINTS", False)
        # Browser origins allowed to call /api/v1 (app/api/cors.py); none by default.
        self.CORS_ORIGINS = env_list("CORS_ORIGINS")
        self.CORS_MAX_AGE = env_int("CORS_MAX_AGE", 600)
        # Railway terminates TLS, so production pins browsers to HTTPS; 0 sends no HSTS.
        self.HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600 if self.PRODUCTION else 0)

        self.CELERY = celery_settings(self) | {"task_default_queue": self.CELERY_QUEUE}

    def _engine_options(self) -> dict:
        if not self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            return {}
        return {
            "pool_size": env_int("DB_POOL_SIZE", 10),
            "max_overflow": env_int("DB_MAX_OVERFLOW", 5),
            "pool_recycle": env_int("DB_POOL_RECYCLE", 3600),
            "pool_pre_ping": env_bool("DB_POOL_PRE_PING", True),
            "connect_args": {"connect_timeout": env_int("DB_CONNECT_TIMEOUT", 5)},
        }

    def problems(self) -> list[str]:
        """List what stops this configuration from starting, each with its fix."""
        found = []
        if self.PRODUCTION:
            found += secret_problems(
                {name: getattr(self, name) for name in ("SECRET_KEY", "JWT_SECRET_KEY", "METRICS_TOKEN")}
            )
        if self.TRUSTED_PROXY_HOPS < 0:
            found.append("TRUSTED_PROXY_HOPS must be 0 (no proxy) or the number of proxies in front.")
        if self.REFRESH_REUSE_GRACE_SECONDS < 0 or self.TOKEN_REVOCATION_CHECK_SECONDS <= 0:
            found.append(
                "REFRESH_REUSE_GRACE_SECONDS must be 0 or more, TOKEN_REVOCATION_CHECK_SECONDS above 0."
            )
        found += rate_limit_problems({name: getattr(self, name) for name in RATE_LIMIT_SETTINGS})
        if self.CHUNK_PAGES < 1 or self.MAX_CHUNKS_PER_JOB < 1:
            found.append("CHUNK_PAGES and MAX_CHUNKS_PER_JOB must be at least 1.")
        found += self.job_limit_problems()
        if self.CHUNK_SOFT_TIME_LIMIT >= self.CHUNK_HARD_TIME_LIMIT:
            found.append("CHUNK_SOFT_TIME_LIMIT must be below CHUNK_HARD_TIME_LIMIT.")
        if self.STALE_CHUNK_SECONDS <= 2 * self.HEARTBEAT_SECONDS:
            found.append("STALE_CHUNK_SECONDS must be more than twice HEARTBEAT_SECONDS.")
        if self.REQUEUE_AFTER_SECONDS <= MAX_RETRY_COUNTDOWN:
            # A retry waits in its worker's hands this long; sooner it would look lost.
            found.append(
                f"REQUEUE_AFTER_SECONDS must be more than {MAX_RETRY_COUNTDOWN} (a retry's longest wait)."
            )
        found += visibility_timeout_problems(self.CELERY, self.CHUNK_HARD_TIME_LIMIT)
        found += cors_origin_problems(self.CORS_ORIGINS)
        found += private_host_problems(self.SQLALCHEMY_DATABASE_URI, "DATABASE_URL")
        found += private_host_problems(self.REDIS_URL, "REDIS_URL")
        return found

    def job_limit_problems(self) -> list[str]:
        """Check the limits on what one PDF, job and user may cost."""
        found = []
        for name in ("MAX_PAGE_CHARS", "MAX_JOB_SENTENCES", "USER_STORAGE_MB", "MAX_ACTIVE_JOBS"):
            if getattr(self, name) < 1:
                found.append(f"{name} must be at least 1.")
        # The sandbox holds the uploaded PDF and pdfium's structures for it, on ~25 MB of its own.
        needed = max(MIN_WORKER_MEMORY_LIMIT_MB, 3 * self.MAX_UPLOAD_BYTES // (1024 * 1024))
        if needed > self.WORKER_MEMORY_LIMIT_MB:
            found.append(f"WORKER_MEMORY_LIMIT_MB must be at least {needed} (and 3 x MAX_UPLOAD_MB).")
        return found


class TestConfig(Config):
    """Settings for the test suite; the suite points DATABASE_URL and REDIS_URL at real servers."""

    __test__ = False  # not a pytest test class
    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.UPLOAD_RATE_LIMIT = env_str("UPLOAD_RATE_LIMIT", "1000/hour")
