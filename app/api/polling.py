"""Cheap polling of one job: an ETag from its row, 304s that render nothing, a hint for the next poll.

The job detail changes only when the job row does: sentences and chunk results are
written in the transaction that advances the job's counters, and every update of the
row moves ``updated_at`` (the column's ``onupdate`` applies to Core ``update()`` too).
So a tag over the row's version columns, the representation and the query's page of
sentences identifies the body; a conditional poll checks it with one primary-key
SELECT of a few columns and answers 304 before any result is read or rendered.

An ended job's body (no poll hint, results that no longer change) is rendered once per
tag and kept in a small per-process LRU (POLL_CACHE_MB), so unconditional polls of
finished jobs cost the same SELECT plus sending the bytes.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Protocol

from flask import Response, current_app, jsonify, request

from app.extensions import db
from app.models import Job, JobStatus
from app.models.base import utcnow

# Bump when the job detail's shape changes, so tags issued before a deploy stop matching.
REPRESENTATION = "1"
CACHE_CONTROL = "private, no-cache"  # browsers may keep the body but must revalidate each poll

VERSION_COLUMNS = (
    Job.id,
    Job.owner_id,
    Job.status,
    Job.progress_percent,
    Job.completed_chunks,
    Job.updated_at,
)


class JobVersion(Protocol):
    """What identifies a version of a job's detail: a Job, or a row of VERSION_COLUMNS."""

    id: str
    status: str
    progress_percent: int
    completed_chunks: int
    updated_at: datetime


def job_etag(job: JobVersion, variant: str) -> str:
    """The opaque (weak) tag of a job's detail as rendered for `variant` (the query's sentence page)."""
    key = "|".join(
        (REPRESENTATION, job.id, job.updated_at.isoformat(), job.status, str(job.progress_percent),
         str(job.completed_chunks), variant)
    )  # fmt: skip
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


def poll_after_ms(job: JobVersion, now: datetime | None = None) -> int | None:
    """When to poll next: soon while processing, later the longer a job waits; None once it ended.

    A waiting job's ``updated_at`` is when it started to wait (upload or enqueue), so the
    hint starts at POLL_QUEUED_MIN_MS and adds a tenth of the time waited, up to the max.
    """
    status = JobStatus(job.status)
    if status.is_final:
        return None
    config = current_app.config
    if status == JobStatus.PROCESSING:
        return config["POLL_PROCESSING_MS"]
    since = job.updated_at if job.updated_at.tzinfo else job.updated_at.replace(tzinfo=UTC)
    waited_ms = max(0.0, ((now or utcnow()) - since).total_seconds() * 1000)
    return min(config["POLL_QUEUED_MAX_MS"], config["POLL_QUEUED_MIN_MS"] + int(waited_ms / 10))


class RenderedBodies:
    """A byte-bounded LRU of rendered job details by ETag, shared by a process's threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, etag: str) -> bytes | None:
        with self._lock:
            body = self._bodies.get(etag)
            if body is not None:
                self._bodies.move_to_end(etag)
            return body

    def put(self, etag: str, body: bytes) -> None:
        if len(body) > self.max_bytes // 4:  # one huge page of sentences must not flush the rest
            return
        with self._lock:
            if etag in self._bodies:
                return
            self._bodies[etag] = body
            self._size += len(body)
            while self._size > self.max_bytes:
                _, evicted = self._bodies.popitem(last=False)
                self._size -= len(evicted)


_bodies_lock = threading.Lock()


def rendered_bodies() -> RenderedBodies:
    """The app's cache of ended jobs' bodies, created on first use."""
    with _bodies_lock:
        cache = current_app.extensions.get("job_detail_bodies")
        if cache is None:
            cache = RenderedBodies(current_app.config["POLL_CACHE_MB"] * 1024 * 1024)
            current_app.extensions["job_detail_bodies"] = cache
        return cache


def answer_from_version(job_id: str, owner_id: int, variant: str) -> Response | None:
    """Answer a poll from the job's version columns alone, when that suffices.

    304 when If-None-Match names the current version; an ended job's cached body when
    there is one; else None, and the caller renders the detail (a missing job or someone
    else's included: the full path answers its 404).
    """
    row = db.session.execute(db.select(*VERSION_COLUMNS).where(Job.id == job_id)).one_or_none()
    if row is None or row.owner_id != owner_id:
        return None
    etag = job_etag(row, variant)
    if request.if_none_match and request.if_none_match.contains_weak(etag):
        not_modified = Response(status=304, mimetype="application/json")  # the API's headers, not a page's
        return _with_poll_headers(not_modified, etag, poll_after_ms(row))
    if JobStatus(row.status).is_final and (body := rendered_bodies().get(etag)) is not None:
        return _with_poll_headers(Response(body, mimetype="application/json"), etag, None)
    return None


def poll_response(job: Job, variant: str, body: dict) -> Response:
    """The job's detail with its ETag and, while it is live, the poll hint in the body and header."""
    hint = poll_after_ms(job)
    if hint is not None:
        body["poll_after_ms"] = hint
    etag = job_etag(job, variant)
    response = jsonify(body)
    if hint is None and current_app.config["POLL_CACHE_MB"] > 0:
        rendered_bodies().put(etag, response.get_data())
    return _with_poll_headers(response, etag, hint)


def _with_poll_headers(response: Response, etag: str, hint_ms: int | None) -> Response:
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = CACHE_CONTROL
    if hint_ms is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(hint_ms / 1000)))
    return response
