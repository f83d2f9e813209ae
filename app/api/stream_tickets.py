"""Stream tickets: a signed, single-use permission for one user to open one job's event stream.

``EventSource`` cannot send headers, so the stream URL carries ``?ticket=``. A ticket
names the user and the job, is signed with SECRET_KEY, expires after
SSE_TICKET_SECONDS and opens one stream: its random id is claimed in Redis (``SET NX``
for the ticket's lifetime), shared by every web process, so a ticket read from a log,
a proxy or a browser history opens nothing. Without Redis (the local default) the ids
are claimed in this process. When Redis does not answer, a ticket cannot be checked and
the stream is refused with 503; the client polls GET /jobs/<id> meanwhile.
"""

from __future__ import annotations

import secrets
import threading
import time

import redis
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.api.stream_limits import stream_redis
from app.errors import ApiError

TICKET_SALT = "job-events-ticket"  # a ticket signs nothing else with SECRET_KEY
CLAIM_KEY = "{prefix}:stream-ticket:{ticket_id}"


class LocalClaims:
    """Ticket ids claimed in this process, each forgotten once its ticket has expired."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}

    def claim(self, ticket_id: str, seconds: float) -> bool:
        now = time.monotonic()
        with self._lock:
            self._expiry = {key: until for key, until in self._expiry.items() if until > now}
            if ticket_id in self._expiry:
                return False
            self._expiry[ticket_id] = now + seconds
            return True


def serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TICKET_SALT)


def issue_ticket(user_id: int, job_id: str) -> str:
    """A signed, timestamped, single-use ticket that lets `user_id` open the stream of `job_id`."""
    return serializer().dumps({"user": user_id, "job": job_id, "id": secrets.token_urlsafe(16)})


def redeem_ticket(ticket: str, job_id: str) -> int:
    """The user a ticket for this job was issued to, using the ticket up; 401 if it is not valid (any more)."""
    lifetime = current_app.config["SSE_TICKET_SECONDS"]
    try:
        claims = serializer().loads(ticket, max_age=lifetime)
    except SignatureExpired:
        raise ApiError(
            "ticket_expired", "The stream ticket has expired; get a new one from POST .../events/ticket.", 401
        ) from None
    except BadSignature:
        claims = None
    if (
        not isinstance(claims, dict)
        or claims.get("job") != job_id
        or not isinstance(claims.get("user"), int)
        or not isinstance(claims.get("id"), str)
    ):
        raise ApiError("invalid_ticket", "The stream ticket is not valid for this job.", 401)
    if not claim(claims["id"], lifetime):
        raise ApiError(
            "ticket_used", "This stream ticket has been used; get a new one from POST .../events/ticket.", 401
        )
    return claims["user"]


def claim(ticket_id: str, seconds: int) -> bool:
    """Mark a ticket id as used; False if it already was."""
    client = stream_redis()
    if client is None:
        return local_claims().claim(ticket_id, seconds)
    key = CLAIM_KEY.format(prefix=current_app.config["RATELIMIT_KEY_PREFIX"], ticket_id=ticket_id)
    try:
        return bool(client.set(key, 1, nx=True, ex=max(1, seconds)))
    except redis.RedisError:
        raise ApiError(
            "unavailable",
            "Stream tickets cannot be checked right now; poll GET /api/v1/jobs/<id> instead.",
            503,
        ) from None


_claims_lock = threading.Lock()


def local_claims() -> LocalClaims:
    """This process's claimed ticket ids, for a platform without Redis."""
    with _claims_lock:
        return current_app.extensions.setdefault("stream_ticket_claims", LocalClaims())
