"""Process-wide logging and the one-time report of the effective configuration."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask

from app.observability.context import current_job_id, current_request_id
from config import DEV_SECRET

log = logging.getLogger("app.config")

SECRET_NAMES = ("SECRET_KEY", "JWT_SECRET_KEY")
REPORTED = (
    "APP_ENV",
    "SQLALCHEMY_DATABASE_URI",
    "REDIS_URL",
    "RATELIMIT_STORAGE_URI",
    "MAX_UPLOAD_BYTES",
    "MAX_PAGES",
    "CHUNK_PAGES",
    "CHUNK_SOFT_TIME_LIMIT",
    "CHUNK_HARD_TIME_LIMIT",
    "UPLOAD_RATE_LIMIT",
    "UPLOAD_ADDRESS_RATE_LIMIT",
    "LOGIN_ACCOUNT_RATE_LIMIT",
    "LOGIN_ADDRESS_RATE_LIMIT",
    "REGISTER_RATE_LIMIT",
    "TRUSTED_PROXY_HOPS",
    "CELERY_QUEUE",
)
_URL_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")


def redact(value: object) -> str:
    """Hide the password in a URL-like value."""
    return _URL_PASSWORD.sub(r"\1***@", str(value))


# What every LogRecord has; anything else on a record came from ``extra=`` and is logged too.
STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "request_id",
    "job_id",
}


def stamp_context(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """Wrap a record factory so every record keeps the request id and job id current when it was made."""

    def make_record(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = current_request_id()
        record.job_id = current_job_id()
        return record

    make_record.stamps_context = True
    return make_record


def log_context(record: logging.LogRecord) -> dict[str, str]:
    """Return the request id and job id a record was made under, leaving out the unknown ones."""
    context = {"request_id": getattr(record, "request_id", None), "job_id": getattr(record, "job_id", None)}
    return {key: str(value) for key, value in context.items() if value}


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object on one line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = {k: v for k, v in vars(record).items() if k not in STANDARD_ATTRIBUTES}
        entry |= extra | log_context(record)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """A readable line for a terminal, with the request id and job id when there are some."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = log_context(record)
        if not context:
            return line
        first, newline, rest = line.partition("\n")
        tags = " ".join(f"{key}={value}" for key, value in context.items())
        return f"{first} [{tags}]{newline}{rest}"


def configure_logging(log_format: str = "text") -> None:
    """Send INFO logs to stderr, as JSON lines or text, unless the host (pytest) set logging up."""
    if not getattr(logging.getLogRecordFactory(), "stamps_context", False):
        logging.setLogRecordFactory(stamp_context(logging.getLogRecordFactory()))
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def log_effective_config(app: Flask) -> None:
    """Log the settings that decide how the platform behaves, with secrets hidden."""
    settings = {name: redact(app.config.get(name)) for name in REPORTED}
    for name in SECRET_NAMES:
        settings[name] = "(default)" if app.config[name] == DEV_SECRET else "(set)"
    settings["broker"] = redact(app.config["CELERY"]["broker_url"])
    log.info("Effective configuration: %s", ", ".join(f"{k}={v}" for k, v in settings.items()))
