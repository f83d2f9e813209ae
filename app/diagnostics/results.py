"""The result of one check, and the context the checks share."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.logging_setup import redact
from config import Config


class Status(enum.StrEnum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"  # a check it depends on failed


@dataclass
class CheckResult:
    """What one check found; ``fix`` says what to do when it did not pass."""

    name: str
    status: Status
    detail: str
    fix: str = ""


def passed(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.PASS, detail)


def warned(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.WARN, detail, fix)


def failed(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.FAIL, detail, fix)


def skipped(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.SKIP, detail)


def first_line(message: str) -> str:
    """The first line of a message, with any URL password hidden, at most 300 characters."""
    return redact((message.strip().splitlines() or [""])[0])[:300]


def describe(error: BaseException) -> str:
    """One line about an exception, with any URL password hidden."""
    return first_line(f"{type(error).__name__}: {str(error).strip()}")


@dataclass
class Context:
    """What the checks share: the configuration, a database engine, the timeout."""

    config: Config
    timeout: float
    engine: sa.Engine | None = None
    database_ok: bool = False
    redis_ok: bool = False
    schema_ok: bool = False
    notes: dict = field(default_factory=dict)
