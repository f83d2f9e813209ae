"""Server-Sent Events: a job's progress pushed to the client until the job ends.

A stream is a greenlet of the web process (gunicorn.conf.py), never a held database
connection: it reads the job row with a short-lived pooled connection every
SSE_POLL_SECONDS, comments ``: keepalive`` after SSE_HEARTBEAT_SECONDS of silence and
ends with a ``reconnect`` event after SSE_MAX_SECONDS, or at once when the process is
told to stop (app/shutdown.py), so no stream holds up a shutdown; a stream whose client
has hung up ends at its next look. Each process serves at most SSE_MAX_STREAMS streams,
and a user holds at most SSE_MAX_STREAMS_PER_USER on the whole platform
(app/api/stream_limits.py), so one user's streams cannot crowd out everyone else's:
past the user's share the answer is 429, past the process's 503, and the client polls.

``EventSource`` cannot send headers, so besides ``Authorization: Bearer`` the stream
accepts ``?ticket=``: a signed, single-use ticket for one user and one job, valid
SSE_TICKET_SECONDS, from ``POST /jobs/<id>/events/ticket`` (app/api/stream_tickets.py).
Long-lived tokens stay out of URLs, and the access log leaves tickets out (web_server.py).
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from functools import partial

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_jwt_extended import jwt_required, verify_jwt_in_request
from sqlalchemy.exc import SQLAlchemyError

from app import shutdown
from app.api.errors import error_response
from app.api.openapi import BEARER, api_spec, responses
from app.api.requests import current_user_id
from app.api.schemas.requests import EventsQuery
from app.api.schemas.responses import StreamTicket
from app.api.stream_limits import stream_slots
from app.api.stream_tickets import issue_ticket, redeem_ticket
from app.errors import ApiError
from app.extensions import db
from app.models import Job, JobStatus

log = logging.getLogger(__name__)

bp = Blueprint("events", __name__)

RECONNECT_MS = 3000  # the ``retry:`` EventSource waits before it reconnects
SUMMARY_COLUMNS = (
    Job.id, Job.owner_id, Job.status, Job.progress_percent, Job.current_step, Job.completed_chunks,
    Job.total_chunks, Job.error_code, Job.error_message, Job.updated_at,
)  # fmt: skip


def job_state(connection: sa.Connection | sa.orm.Session, job_id: str) -> sa.Row | None:
    return connection.execute(sa.select(*SUMMARY_COLUMNS).where(Job.id == job_id)).one_or_none()


def owned_state(job_id: str, user_id: int) -> sa.Row:
    """The caller's job summary row; someone else's job is as absent as a missing one."""
    row = job_state(db.session, job_id)
    if row is None or row.owner_id != user_id:
        raise ApiError("job_not_found", "No job with this id belongs to you.", 404)
    return row


def summary(row: sa.Row) -> dict:
    """The part of a job the stream reports."""
    error = {"code": row.error_code, "message": row.error_message} if row.error_code else None
    return {
        "job_id": row.id,
        "status": row.status,
        "progress_percent": row.progress_percent,
        "current_step": row.current_step,
        "completed_chunks": row.completed_chunks,
        "total_chunks": row.total_chunks,
        "error": error,
        "updated_at": row.updated_at.isoformat(),
    }


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@bp.post("/jobs/<job_id>/events/ticket")
@jwt_required()
@api_spec.validate(resp=responses(401, 404, HTTP_200=StreamTicket), security=BEARER, tags=["events"])
def ticket(job_id: str):
    """A short-lived, single-use ticket to open the job's event stream without a bearer token in the URL."""
    user_id = current_user_id()
    owned_state(job_id, user_id)
    issued = issue_ticket(user_id, job_id)
    return jsonify(
        ticket=issued,
        expires_in=current_app.config["SSE_TICKET_SECONDS"],
        url=url_for("api.events.stream", job_id=job_id, ticket=issued),
    )


@bp.get("/jobs/<job_id>/events")
@api_spec.validate(
    query=EventsQuery,
    resp=responses(401, 404, 429, 503, empty=(200,)),
    security=[BEARER, {}],  # or ?ticket=
    tags=["events"],
)
def stream(job_id: str):
    """Server-Sent Events: `progress` on changes, `end` when the job ends, `reconnect` on time-out or shutdown."""
    ticket_arg = request.args.get("ticket")
    if ticket_arg is not None:
        user_id = redeem_ticket(ticket_arg, job_id)
    else:
        verify_jwt_in_request()
        user_id = current_user_id()
    owned_state(job_id, user_id)
    config = current_app.config
    slots = stream_slots()
    refused, lease = slots.acquire(
        user_id, config["SSE_MAX_STREAMS"], config["SSE_MAX_STREAMS_PER_USER"], config["SSE_MAX_SECONDS"]
    )
    if refused is not None:
        return refuse_stream(refused, config["SSE_MAX_STREAMS_PER_USER"])
    events = job_events(
        db.engine,
        job_id,
        config["SSE_POLL_SECONDS"],
        config["SSE_HEARTBEAT_SECONDS"],
        config["SSE_MAX_SECONDS"],
        client_left=partial(has_hung_up, request.environ.get("gunicorn.socket")),
    )
    response = Response(events, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # proxies must pass each event on at once
    response.call_on_close(lambda: slots.release(user_id, lease))
    return response


def refuse_stream(limit: str, per_user: int) -> tuple[Response, int, dict[str, str]]:
    """429 when the user has their share of streams open, 503 when the process has all it serves."""
    if limit == "user":
        message = f"You have {per_user} event streams open here; close one, or poll GET /jobs/<id> instead."
        response, status = error_response("too_many_streams", message, 429)
    else:
        message = "This server streams all it can; poll GET /jobs/<id> instead, or try again later."
        response, status = error_response("too_many_streams", message, 503)
    return response, status, {"Retry-After": "5"}


def has_hung_up(client: socket.socket | None) -> bool:
    """Whether the client has closed its side of the connection (False when unknown)."""
    if client is None:
        return False
    timeout = client.gettimeout()
    client.settimeout(0)  # a look, not a wait (gevent's socket would wait for data despite MSG_DONTWAIT)
    try:
        return client.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False  # connected, nothing sent: as a stream's client should be
    except OSError:
        return True
    finally:
        client.settimeout(timeout)


def job_events(
    engine: sa.Engine,
    job_id: str,
    poll_seconds: float,
    heartbeat_seconds: float,
    max_seconds: float,
    client_left: Callable[[], bool] = lambda: False,
) -> Iterator[str]:
    """Yield ``progress`` on every change, ``end`` when the job ends, ``reconnect`` at time limit or shutdown.

    Runs after the request context is gone, so it reads through the engine, one short
    connection per look. It ends quietly once its client has hung up (``client_left``),
    so the stream's slot is free again within a look, not at the next write.
    """
    started = last_sent = time.monotonic()
    yield f"retry: {RECONNECT_MS}\n\n"
    last = None
    while True:
        try:
            with engine.connect() as connection:
                row = job_state(connection, job_id)
        except SQLAlchemyError as error:  # the next look may get through; the lifetime bounds it
            log.warning("Event stream of job %s could not read it: %s", job_id, error)
        else:
            if row is None:
                yield sse("error", {"error": {"code": "job_not_found", "message": "The job was deleted."}})
                return
            current = summary(row)
            if JobStatus(row.status).is_final:
                yield sse("end", current)
                return
            if current != last:
                yield sse("progress", current)
                last, last_sent = current, time.monotonic()
        now = time.monotonic()
        if now - started >= max_seconds:
            yield sse("reconnect", {"reason": "The stream reached its time limit; connect again to go on."})
            return
        if now - last_sent >= heartbeat_seconds:
            yield ": keepalive\n\n"
            last_sent = now
        if shutdown.stopping.wait(min(poll_seconds, max(0.0, max_seconds - (now - started)))):
            yield sse("reconnect", {"reason": "The server is shutting down; connect again to go on."})
            return
        if client_left():
            return
