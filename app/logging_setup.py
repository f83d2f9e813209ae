"""Process-wide logging and the one-time report of the effective configuration."""

from __future__ import annotations

import logging
import re

from flask import Flask

from config import DEV_SECRET

log = logging.getLogger("app.config")

SECRET_NAMES = ("SECRET_KEY", "JWT_SECRET_KEY")
REPORTED = (
    "SQLALCHEMY_DATABASE_URI",
    "REDIS_URL",
    "RATELIMIT_STORAGE_URI",
    "MAX_UPLOAD_BYTES",
    "MAX_PAGES",
    "CHUNK_PAGES",
    "CHUNK_SOFT_TIME_LIMIT",
    "CHUNK_HARD_TIME_LIMIT",
    "UPLOAD_RATE_LIMIT",
    "CELERY_QUEUE",
)
_URL_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")


def redact(value: object) -> str:
    """Hide the password in a URL-like value."""
    return _URL_PASSWORD.sub(r"\1***@", str(value))


def configure_logging() -> None:
    """Send INFO logs to stderr unless the host (gunicorn, celery, pytest) set logging up."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def log_effective_config(app: Flask) -> None:
    """Log the settings that decide how the platform behaves, with secrets hidden."""
    settings = {name: redact(app.config.get(name)) for name in REPORTED}
    for name in SECRET_NAMES:
        settings[name] = "(default)" if app.config[name] == DEV_SECRET else "(set)"
    settings["broker"] = redact(app.config["CELERY"]["broker_url"])
    log.info("Effective configuration: %s", ", ".join(f"{k}={v}" for k, v in settings.items()))
