"""GET /jobs/<id>/events: progress over Server-Sent Events, stream tickets, limits."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous.timed import TimestampSigner

from app import shutdown
from bench.textpdf import make_text_pdf
from tests.api.test_job_control import queued_job, set_status
from tests.support import auth_headers, upload

FAST = {"SSE_POLL_SECONDS": 0.02, "SSE_HEARTBEAT_SECONDS": 30.0, "SSE_MAX_SECONDS": 30.0}


def events_of(chunks: Iterable[bytes | str]) -> Iterator[tuple[str, object]]:
    """Parse a text/event-stream body as it arrives: (event name, data) pairs; comments as ("comment", text)."""
    buffer = ""
    for chunk in chunks:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
            if block.startswith(":"):
                yield "comment", block[1:].strip()
            elif "retry" in fields:
                yield "retry", int(fields["retry"])
            else:
                yield fields["event"], json.loads(fields["data"])


@pytest.fixture
def fast_streams(idle_client, monkeypatch):
    """The idle app's streams look every 20 ms."""
    for name, value in FAST.items():
        monkeypatch.setitem(idle_client.application.config, name, value)
    return idle_client


def ticket_for(client, headers: dict[str, str], job_id: str) -> dict:
    response = client.post(f"/api/v1/jobs/{job_id}/events/ticket", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_stream_follows_a_processed_job_to_its_end(client, worker):
    headers = auth_headers(client)
    job_id = upload(client, headers, make_text_pdf(1, chars_per_page=600, seed=83)).json["job_id"]
    issued = ticket_for(client, headers, job_id)
    assert issued["expires_in"] == 60
    assert parse_qs(urlsplit(issued["url"]).query)["ticket"] == [issued["ticket"]]

    response = client.get(issued["url"], buffered=False)  # no Authorization header: the ticket is enough
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    received = list(events_of(response.response))
    response.close()

    assert received[0] == ("retry", 3000)
    name, final = received[-1]
    assert name == "end"
    assert final["status"] == "completed"
    assert final["progress_percent"] == 100
    assert final["completed_chunks"] == final["total_chunks"] == 1
    assert all(name == "progress" for name, _ in received[1:-1])


def test_progress_events_follow_changes_until_the_job_ends(fast_streams, run_sql):
    headers, job_id = queued_job(fast_streams)
    response = fast_streams.get(f"/api/v1/jobs/{job_id}/events", headers=headers, buffered=False)
    events = events_of(response.response)
    assert next(events) == ("retry", 3000)
    name, first = next(events)
    assert (name, first["status"]) == ("progress", "queued")

    run_sql(
        "UPDATE jobs SET status = 'processing', progress_percent = 40, updated_at = now() WHERE id = :id",
        id=job_id,
    )
    name, second = next(events)
    assert (name, second["status"], second["progress_percent"]) == ("progress", "processing", 40)

    set_status(run_sql, job_id, "cancelled")
    name, last = next(events)
    assert (name, last["status"]) == ("end", "cancelled")
    assert list(events) == []  # the stream closes after the end
    response.close()


def test_stream_holds_no_database_connection_between_looks(fast_streams):
    from app.extensions import db

    headers, job_id = queued_job(fast_streams)
    response = fast_streams.get(f"/api/v1/jobs/{job_id}/events", headers=headers, buffered=False)
    events = events_of(response.response)
    next(events), next(events)
    with fast_streams.application.app_context():
        assert db.engine.pool.checkedout() == 0
    response.close()


def test_quiet_stream_sends_keepalives_then_asks_to_reconnect(fast_streams, monkeypatch):
    config = fast_streams.application.config
    monkeypatch.setitem(config, "SSE_HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setitem(config, "SSE_MAX_SECONDS", 0.5)
    headers, job_id = queued_job(fast_streams)
    started = time.monotonic()
    response = fast_streams.get(f"/api/v1/jobs/{job_id}/events", headers=headers, buffered=False)
    received = list(events_of(response.response))
    response.close()

    names = [name for name, _ in received]
    assert names[:2] == ["retry", "progress"]
    assert ("comment", "keepalive") in received
    assert names[-1] == "reconnect"
    assert names.count("progress") == 1  # nothing changed: no repeats
    assert time.monotonic() - started < 25  # bounded: ended by SSE_MAX_SECONDS, not by the job


def test_stream_asks_to_reconnect_at_once_when_the_server_stops(fast_streams, monkeypatch):
    # A look every minute: only the stop can end the wait between looks early.
    monkeypatch.setitem(fast_streams.application.config, "SSE_POLL_SECONDS", 60.0)
    headers, job_id = queued_job(fast_streams)
    response = fast_streams.get(f"/api/v1/jobs/{job_id}/events", headers=headers, buffered=False)
    events = events_of(response.response)
    assert [next(events)[0], next(events)[0]] == ["retry", "progress"]

    stopping = time.monotonic()
    shutdown.stopping.set()  # as gunicorn.conf.py does when the worker gets SIGTERM
    try:
        name, data = next(events)
        rest = list(events)
    finally:
        shutdown.stopping.clear()
        response.close()

    assert (name, data) == ("reconnect", {"reason": "The server is shutting down; connect again to go on."})
    assert rest == []
    assert time.monotonic() - stopping < 5


def test_expired_ticket_is_refused(idle_client, monkeypatch):
    headers, job_id = queued_job(idle_client)
    with monkeypatch.context() as clock:
        clock.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3600)
        issued = ticket_for(idle_client, headers, job_id)
    response = idle_client.get(issued["url"])
    assert response.status_code == 401
    assert response.json["error"]["code"] == "ticket_expired"


@pytest.mark.parametrize("tamper", ["forged", "other_job", "empty"])
def test_bad_ticket_is_refused(idle_client, tamper):
    headers, job_id = queued_job(idle_client)
    _, other_job = queued_job(idle_client)
    ticket = ticket_for(idle_client, headers, job_id)["ticket"]
    ticket, target = {
        "forged": (ticket[:-4] + ("AAAA" if not ticket.endswith("AAAA") else "BBBB"), job_id),
        "other_job": (ticket, other_job),
        "empty": ("", job_id),
    }[tamper]
    response = idle_client.get(
        f"/api/v1/jobs/{target}/events", query_string={"ticket": ticket}, headers=headers
    )
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_ticket"


def test_stream_without_credentials_is_unauthorized(idle_client):
    _, job_id = queued_job(idle_client)
    response = idle_client.get(f"/api/v1/jobs/{job_id}/events")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_someone_elses_job_has_no_stream_and_no_ticket(idle_client):
    _, job_id = queued_job(idle_client)
    stranger = auth_headers(idle_client)
    for response in (
        idle_client.get(f"/api/v1/jobs/{job_id}/events", headers=stranger),
        idle_client.post(f"/api/v1/jobs/{job_id}/events/ticket", headers=stranger),
    ):
        assert response.status_code == 404
        assert response.json["error"]["code"] == "job_not_found"


def test_streams_past_the_limit_are_refused_until_one_closes(fast_streams, monkeypatch):
    monkeypatch.setitem(fast_streams.application.config, "SSE_MAX_STREAMS", 1)
    headers, job_id = queued_job(fast_streams)
    other_headers, other_job = queued_job(fast_streams)
    first = fast_streams.get(f"/api/v1/jobs/{job_id}/events", headers=headers, buffered=False)
    assert first.status_code == 200

    refused = fast_streams.get(f"/api/v1/jobs/{other_job}/events", headers=other_headers)
    assert refused.status_code == 503
    assert refused.json["error"]["code"] == "too_many_streams"
    assert refused.headers["Retry-After"] == "5"

    first.close()
    again = fast_streams.get(f"/api/v1/jobs/{other_job}/events", headers=other_headers, buffered=False)
    assert again.status_code == 200
    again.close()


def test_one_users_streams_past_their_share_are_refused_not_everyone_elses(fast_streams, monkeypatch):
    monkeypatch.setitem(fast_streams.application.config, "SSE_MAX_STREAMS_PER_USER", 2)
    headers, job_id = queued_job(fast_streams)
    url = f"/api/v1/jobs/{job_id}/events"
    held = [fast_streams.get(url, headers=headers, buffered=False) for _ in range(2)]
    assert [response.status_code for response in held] == [200, 200]

    refused = fast_streams.get(url, headers=headers)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "too_many_streams"
    assert refused.headers["Retry-After"] == "5"
    other_headers, other_job = queued_job(fast_streams)
    other = fast_streams.get(f"/api/v1/jobs/{other_job}/events", headers=other_headers, buffered=False)
    assert other.status_code == 200

    for response in (*held, other):
        response.close()
    again = fast_streams.get(url, headers=headers, buffered=False)
    assert again.status_code == 200
    again.close()


def test_a_ticket_opens_one_stream_only(fast_streams):
    headers, job_id = queued_job(fast_streams)
    issued = ticket_for(fast_streams, headers, job_id)
    first = fast_streams.get(issued["url"], buffered=False)
    assert first.status_code == 200
    first.close()

    replayed = fast_streams.get(issued["url"])
    assert replayed.status_code == 401
    assert replayed.json["error"]["code"] == "ticket_used"
    fresh = fast_streams.get(ticket_for(fast_streams, headers, job_id)["url"], buffered=False)
    assert fresh.status_code == 200
    fresh.close()


def test_while_redis_is_down_streams_count_shares_per_process_and_tickets_wait(
    broker_down_client, monkeypatch
):
    for name, value in FAST.items():
        monkeypatch.setitem(broker_down_client.application.config, name, value)
    monkeypatch.setitem(broker_down_client.application.config, "SSE_MAX_STREAMS_PER_USER", 1)
    headers, job_id = queued_job(broker_down_client)  # kept pending for the sweeper
    url = f"/api/v1/jobs/{job_id}/events"
    first = broker_down_client.get(url, headers=headers, buffered=False)
    assert first.status_code == 200
    assert broker_down_client.get(url, headers=headers).status_code == 429
    first.close()

    replayable = broker_down_client.get(ticket_for(broker_down_client, headers, job_id)["url"])
    assert replayable.status_code == 503
    assert replayable.json["error"]["code"] == "unavailable"
