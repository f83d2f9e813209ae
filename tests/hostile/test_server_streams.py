"""Event streams against the API as it ships: one user's many streams, replayed tickets, the access log.

Before issue 11 one user opening 8 streams took every slot of both web processes, so
the next user's stream got 503 ``too_many_streams``; a ticket opened streams for its
whole 60 s; and the ticket in the query string was written to the access log.
"""

from __future__ import annotations

from bench.hostile_server import open_streams, ticket_replay
from tests.chaos.servers import wait_until


def test_one_users_8_streams_do_not_lock_another_user_out(server_stack):
    api = server_stack.api
    greedy, other = api.new_user(), api.new_user()
    greedy_job = api.upload(greedy, b"%PDF-1.4\n%greedy\n").body["job_id"]
    other_job = api.upload(other, b"%PDF-1.4\n%other\n").body["job_id"]

    statuses = open_streams(server_stack.api_server.base_url, greedy, greedy_job, 8, then=(other, other_job))

    assert statuses[-1] == 200, statuses
    assert 429 in statuses[:-1], statuses  # the greedy user hears that they have their share
    assert set(statuses[:-1]) <= {200, 429}, statuses


def test_a_stream_ticket_opens_one_stream_and_stays_out_of_the_access_log(server_stack):
    api = server_stack.api
    user = api.new_user()
    job_id = api.upload(user, b"%PDF-1.4\n%ticket\n").body["job_id"]

    ticket, statuses = ticket_replay(server_stack.api_server.base_url, user, job_id)

    assert statuses == [200, 401], statuses
    # The refused replay is logged at once (the open stream when it next writes, up to 15 s on).
    wait_until(lambda: "events?ticket=" in server_stack.api_server.log(), 10, "the replay's access log line")
    log = server_stack.api_server.log()
    assert ticket not in log
    assert 'events?ticket=[redacted] HTTP/1.1" 401' in log
