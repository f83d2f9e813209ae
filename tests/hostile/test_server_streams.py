"""Event streams against the API as it ships: one user's many streams, replayed tickets, the access log.

Before issue 11 one user opening 8 streams took every slot of both web processes, so
the next user's stream got 503 ``too_many_streams``; a ticket opened streams for its
whole 60 s; and the ticket in the query string was written to the access log.
"""

from __future__ import annotations

from bench.hostile_server import event_stream, open_streams, ticket_replay
from tests.chaos.servers import wait_until


def test_a_stream_ticket_opens_one_stream_and_stays_out_of_the_access_log(server_stack):
    api = server_stack.api
    user = api.new_user()
    job_id = api.upload(user, b"%PDF-1.4\n%ticket\n").body["job_id"]

    ticket, statuses = ticket_replay(server_stack.api_server.base_url, user, job_id)

    assert statuses == [200, 401], statuses
    # The stream's line is written as it ends: within a look (SSE_POLL_SECONDS) of the hang-up.
    wait_until(
        lambda: server_stack.api_server.log().count("events?ticket=") == 2, 10, "both access log lines"
    )
    log = server_stack.api_server.log()
    assert ticket not in log
    assert log.count("events?ticket=[redacted] HTTP/1.1") == 2


def test_one_users_8_streams_do_not_lock_another_user_out(server_stack):
    api = server_stack.api
    greedy, other = api.new_user(), api.new_user()
    greedy_job = api.upload(greedy, b"%PDF-1.4\n%greedy\n").body["job_id"]
    other_job = api.upload(other, b"%PDF-1.4\n%other\n").body["job_id"]

    statuses = open_streams(server_stack.api_server.base_url, greedy, greedy_job, 8, then=(other, other_job))

    assert statuses[-1] == 200, statuses
    # Their share on the whole platform (SSE_MAX_STREAMS_PER_USER, 4), whichever process serves each.
    assert statuses[:-1] == [200] * 4 + [429] * 4, statuses
    # Hung up, the streams give their slots back within a look: the user streams again.
    url = f"/api/v1/jobs/{greedy_job}/events"
    wait_until(lambda: open_streams_ok(server_stack.api_server.base_url, greedy, url), 10, "a stream again")


def open_streams_ok(base_url: str, auth: dict[str, str], path: str) -> bool:
    with event_stream(base_url, path, auth) as response:
        return response.status == 200
