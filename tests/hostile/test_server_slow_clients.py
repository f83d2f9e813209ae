"""Slow clients against the API as it ships: 200 connections trickling a byte every 2 s.

Before issue 11 ten sockets sending a POST body a byte every 5 s took every thread of
gunicorn's gthread workers and /health timed out for everyone. Now (the gevent worker,
gunicorn.conf.py) the p95 of /health and of a poll must stay within 1 s of idle, also
while a first search loads the embedding model and 4 logins hash passwords in the web
process, and an event stream must still deliver its first event within 2 s.
"""

from __future__ import annotations

import json
import secrets

from bench.hostile_server import measure_slow_connections
from bench.textpdf import make_text_pdf
from tests.chaos.servers import wait_until
from tests.support import PASSWORD

WITHIN_IDLE_SECONDS = 1.0  # issue 11's bound on the p95
STREAM_SECONDS = 2.0  # issue 11's bound on a stream's delivery
FINAL = {"completed", "failed", "cancelled"}


def test_200_slow_connections_leave_health_polls_streams_search_and_logins_answering(server_stack):
    api = server_stack.api
    credentials = {"email": f"slow-{secrets.token_hex(4)}@example.com", "password": PASSWORD}
    assert api.call("POST", "/api/v1/auth/register", body=json.dumps(credentials).encode()).status == 201
    login = api.call("POST", "/api/v1/auth/login", body=json.dumps(credentials).encode())
    auth = {"Authorization": f"Bearer {login.body['access_token']}"}
    searched = api.upload(auth, make_text_pdf(1, chars_per_page=800, seed=31), analyses="embeddings").body[
        "job_id"
    ]
    with server_stack.worker(concurrency=1):
        wait_until(lambda: api.job(auth, searched).body["status"] in FINAL, 120, "the searched job ends", 0.2)
    assert api.job(auth, searched).body["status"] == "completed"
    watched = api.upload(auth, make_text_pdf(2, seed=7)).body["job_id"]  # stays queued: no worker now

    figures = measure_slow_connections(server_stack.api_server.base_url, auth, searched, watched, credentials)

    assert figures["slow_connections_held"] >= 100, figures  # the trickled bodies at least stay open
    assert figures["unanswered"] == 0, figures
    assert figures["health_p95_s"] <= figures["idle_health_p95_s"] + WITHIN_IDLE_SECONDS, figures
    assert figures["poll_p95_s"] <= figures["idle_poll_p95_s"] + WITHIN_IDLE_SECONDS, figures
    assert figures["search_status"] == 200, figures
    assert figures["login_statuses"] == "200, 200, 200, 200", figures
    assert figures["stream_first_event_s"] is not None, figures
    assert figures["stream_first_event_s"] <= STREAM_SECONDS, figures
    server_stack.assert_no_server_errors()
