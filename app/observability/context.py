"""The request id and job id of the work in progress, read by the log formatters."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
job_id_var: ContextVar[str | None] = ContextVar("job_id", default=None)


def current_request_id() -> str | None:
    """Return the id of the HTTP request (or of the upload a task came from), if any."""
    return request_id_var.get()


def current_job_id() -> str | None:
    """Return the id of the job being handled, if any."""
    return job_id_var.get()


@contextmanager
def job_context(job_id: str) -> Iterator[None]:
    """Tag the log lines of the block with a job id."""
    token = job_id_var.set(job_id)
    try:
        yield
    finally:
        job_id_var.reset(token)
