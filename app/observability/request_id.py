"""Give every request an id, return it, and carry it with the tasks the request publishes.

The id comes from ``X-Request-ID`` when the client (or a proxy) sends a sane one, else
a fresh uuid4. Celery messages carry it in a header, so the worker's log lines for a
job share the id of the upload that created it.
"""

from __future__ import annotations

import logging
import uuid

from celery.signals import before_task_publish, task_postrun, task_prerun
from flask import Flask, Response, g, request

from app.observability.context import current_request_id, job_id_var, request_id_var

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
TASK_HEADER = "docjobs_request_id"
MAX_REQUEST_ID_LENGTH = 128
JOB_TASKS = ("docjobs.process_job", "docjobs.process_chunk")


def accept_request_id(value: str | None) -> str:
    """Keep a client's id of 1-128 printable ASCII characters; otherwise make a new one."""
    if value and len(value) <= MAX_REQUEST_ID_LENGTH and all("!" <= ch <= "~" for ch in value):
        return value
    return uuid.uuid4().hex


def init_request_ids(app: Flask) -> None:
    """Bind a request id (and the job id of job routes) for each request; connect the task signals."""

    @app.before_request
    def bind_request_id() -> None:
        g.request_id = accept_request_id(request.headers.get(REQUEST_ID_HEADER))
        g.context_tokens = [request_id_var.set(g.request_id)]
        job_id = (request.view_args or {}).get("job_id")
        if job_id:
            g.context_tokens.append(job_id_var.set(str(job_id)))

    @app.after_request
    def return_request_id(response: Response) -> Response:
        if "request_id" in g:
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response

    @app.teardown_request
    def unbind_request_id(_: BaseException | None) -> None:
        for token in reversed(g.pop("context_tokens", [])):
            token.var.reset(token)

    before_task_publish.connect(add_request_id_header, weak=False, dispatch_uid="docjobs-request-id")
    task_prerun.connect(bind_task_context, weak=False, dispatch_uid="docjobs-task-context")
    task_postrun.connect(unbind_task_context, weak=False, dispatch_uid="docjobs-task-context")


def add_request_id_header(headers: dict | None = None, **_: object) -> None:
    """Send the current request id along with a task being published."""
    request_id = current_request_id()
    if request_id and headers is not None:
        headers[TASK_HEADER] = request_id


def bind_task_context(task: object = None, args: tuple | None = None, **_: object) -> None:
    """In the worker: bind the publishing request's id and the task's job id, and say so in the log."""
    task_request = getattr(task, "request", None)
    request_id = getattr(task_request, TASK_HEADER, None) or (
        getattr(task_request, "headers", None) or {}
    ).get(TASK_HEADER)
    name = getattr(task, "name", "")
    job_id = str(args[0]) if name in JOB_TASKS and args else None
    request_id_var.set(request_id)
    job_id_var.set(job_id)
    log.log(logging.INFO if job_id else logging.DEBUG, "Task %s started", name)


def unbind_task_context(**_: object) -> None:
    """Forget the task's ids once it returns, so the next task starts clean."""
    request_id_var.set(None)
    job_id_var.set(None)
