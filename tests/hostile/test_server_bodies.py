"""Request bodies against the API as it ships: huge, chunked and deep JSON, and a 50 MB upload.

Before issue 11 a 48 MB JSON array to /auth/login was parsed in full (the web process
grew by 1.2 GB) and JSON nested 200,000 deep answered 500. JSON bodies are now refused
past 64 KB before they are read, and deep ones are a 400; uploads keep their own limit
and cost the web process at most 3 times their size plus 50 MB (issue 11).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from bench.hostile_server import huge_json_array, post_json
from bench.procstats import peak_rss_mb
from tests.chaos.processes import children

LOGIN = "/api/v1/auth/login"
UPLOAD_MB = 50


def web_workers(stack) -> list[int]:
    """The gunicorn master's worker processes."""
    return children(stack.api_server.process.pid)


def reset_peaks(pids: list[int]) -> None:
    """Start each process's VmHWM again from its present size (Linux: clear_refs 5)."""
    for pid in pids:
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def test_a_50_mb_upload_costs_a_fresh_web_process_at_most_three_times_its_size(server_stack):
    user = server_stack.api.new_user()
    pdf = b"%PDF-1.4\n" + secrets.token_bytes(UPLOAD_MB * 1024 * 1024 - 20) + b"\n%%EOF\n"
    workers = web_workers(server_stack)
    reset_peaks(workers)
    before = {pid: peak_rss_mb(pid) for pid in workers}

    reply = server_stack.api.upload(user, pdf)

    assert reply.status == 202, reply
    growth = max(peak_rss_mb(pid) - before[pid] for pid in workers)
    assert growth <= 3 * UPLOAD_MB + 50, f"a web process grew by {growth:.0f} MB for a {UPLOAD_MB} MB upload"


def test_a_48_mb_json_body_is_refused_before_it_is_read(server_stack):
    workers = web_workers(server_stack)
    reset_peaks(workers)
    before = {pid: peak_rss_mb(pid) for pid in workers}

    answer = post_json(server_stack.api_server.base_url, LOGIN, huge_json_array())

    assert (answer.status, answer.code) == (413, "too_large")
    growth = max(peak_rss_mb(pid) - before[pid] for pid in workers)
    assert growth < 48, f"a web process grew by {growth:.0f} MB: the body was read"


def test_a_chunked_json_body_is_refused_once_it_passes_the_limit(server_stack):
    answer = post_json(server_stack.api_server.base_url, LOGIN, huge_json_array(), chunked_body=True)
    assert (answer.status, answer.code) == (413, "too_large")


def test_a_small_chunked_json_body_is_read(server_stack):
    body = b'{"email": "nobody@example.com", "password": "not-the-password"}'
    answer = post_json(server_stack.api_server.base_url, LOGIN, body, chunked_body=True)
    assert (answer.status, answer.code) == (401, "invalid_credentials")


def test_json_nested_too_deeply_is_a_400_never_a_500(server_stack):
    base_url = server_stack.api_server.base_url
    deepest = post_json(base_url, LOGIN, b"[" * 200_000)  # the body: over the size limit too
    within_limit = post_json(base_url, LOGIN, b"[" * 30_000)
    assert (deepest.status, deepest.code) == (413, "too_large")
    assert (within_limit.status, within_limit.code) == (400, "invalid_json")
    server_stack.assert_no_server_errors()
