"""Issue 11's attacks on the web server: huge and deep JSON, slow clients, event streams and tickets.

Run by bench/hostile.py (``--area server``); tests/hostile/test_server_*.py run the same
attacks and assert their outcome. Plain HTTP and the standard library only, so the old
commit is measured the same way: an attack reports what happened, whatever the platform
answers.
"""

from __future__ import annotations

import http.client
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import TypeVar
from urllib.parse import urlsplit

import requests

from bench.hostile_target import Target
from bench.slow_clients import p95, sample_latencies, slow_clients
from bench.textpdf import make_text_pdf

HUGE_JSON_BYTES = 48 * 1024 * 1024
DEEP_JSON_LEVELS = 200_000
SLOW_CLIENTS = 200
SLOW_INTERVAL_SECONDS = 2.0
LATENCY_SAMPLES = 20
T = TypeVar("T")


class Answer:
    """A status and the error code of a raw HTTP answer (0 and "" when none came)."""

    def __init__(self, status: int = 0, body: bytes = b"", seconds: float = 0.0) -> None:
        self.status, self.seconds = status, seconds
        try:
            self.code = json.loads(body).get("error", {}).get("code", "")
        except (ValueError, AttributeError):
            self.code = ""

    def __repr__(self) -> str:
        return f"{self.status} {self.code}".strip()


def post_raw(api_url: str, path: str, body: Iterator[bytes], headers: dict[str, str]) -> Answer:
    """POST a body piece by piece; stop sending once the server answers or hangs up, and read its answer."""
    address = urlsplit(api_url)
    started = time.monotonic()
    connection = socket.create_connection((address.hostname, address.port), timeout=60)
    try:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        connection.sendall(f"POST {path} HTTP/1.1\r\nHost: {address.hostname}\r\n{head}\r\n".encode())
        with suppress(OSError):  # the server may refuse and close before the body is all sent
            for piece in body:
                connection.sendall(piece)
                if answered(connection):
                    break
        return read_answer(connection, started)
    finally:
        connection.close()


def answered(connection: socket.socket) -> bool:
    """Whether the server has started to answer (or closed), without waiting."""
    connection.setblocking(False)
    try:
        connection.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return False
    finally:
        connection.setblocking(True)
    return True


def read_answer(connection: socket.socket, started: float) -> Answer:
    try:
        response = http.client.HTTPResponse(connection)
        response.begin()
        return Answer(response.status, response.read(), time.monotonic() - started)
    except (OSError, http.client.HTTPException):
        return Answer(seconds=time.monotonic() - started)


def pieces(data: bytes, size: int = 256 * 1024) -> Iterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


def chunked(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """The body in HTTP/1.1 chunked transfer coding."""
    for piece in pieces(data, size):
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def huge_json_array(size: int = HUGE_JSON_BYTES) -> bytes:
    """A JSON array of small numbers, `size` bytes long."""
    count = (size - 2) // 2
    return b"[" + b"1," * (count - 1) + b"1]"


def post_json(api_url: str, path: str, data: bytes, *, chunked_body: bool = False) -> Answer:
    """POST JSON with Content-Length, or chunked without one."""
    if chunked_body:
        headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        return post_raw(api_url, path, chunked(data), headers)
    headers = {"Content-Type": "application/json", "Content-Length": str(len(data))}
    return post_raw(api_url, path, pieces(data), headers)


def web_peak_growth_mb(target: Target, work: Callable[[], T]) -> tuple[T, float]:
    """Run work; return its result and the largest VmHWM growth of a web process meanwhile (MB)."""
    target.reset_peaks()
    before = {pid: target.peak_rss_mb(pid) for pid in target.web_pids()}
    result = work()
    return result, round(max(target.peak_rss_mb(pid) - peak for pid, peak in before.items()), 1)


def attack_huge_json(target: Target) -> dict[str, object]:
    """48 MB JSON array to /auth/login, unauthenticated: status, seconds, web peak RSS growth."""
    answer, growth = web_peak_growth_mb(
        target, lambda: post_json(target.api_url, "/api/v1/auth/login", huge_json_array())
    )
    chunked_answer = post_json(target.api_url, "/api/v1/auth/login", huge_json_array(), chunked_body=True)
    return {
        "status": repr(answer),
        "seconds": round(answer.seconds, 2),
        "web_peak_growth_mb": growth,
        "chunked_status": repr(chunked_answer),
        "chunked_seconds": round(chunked_answer.seconds, 2),
    }


def attack_huge_json_4_parallel(target: Target) -> dict[str, object]:
    """Four 48 MB JSON arrays to /auth/login at once: statuses, seconds, web peak RSS growth."""
    body = huge_json_array()
    answers: list[Answer] = []

    def four_at_once() -> None:
        threads = [
            threading.Thread(
                target=lambda: answers.append(post_json(target.api_url, "/api/v1/auth/login", body))
            )
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    _, growth = web_peak_growth_mb(target, four_at_once)
    return {
        "statuses": ", ".join(sorted(repr(answer) for answer in answers)),
        "slowest_seconds": round(max(answer.seconds for answer in answers), 2),
        "web_peak_growth_mb": growth,
    }


def attack_deep_json(target: Target) -> dict[str, object]:
    """JSON nested 200,000 deep (and 30,000 deep, inside 64 KB) to /auth/login: statuses."""
    deepest = post_json(target.api_url, "/api/v1/auth/login", b"[" * DEEP_JSON_LEVELS)
    within_limit = post_json(target.api_url, "/api/v1/auth/login", b"[" * 30_000)
    return {"status_200k_deep": repr(deepest), "status_30k_deep": repr(within_limit)}


def attack_upload_memory(target: Target) -> dict[str, object]:
    """One 50 MB upload: the web process's peak RSS growth (limit 3 x 50 + 50 = 200 MB)."""
    _, _, token, _ = target.new_user()
    pdf = b"%PDF-1.4\n" + secrets.token_bytes(50 * 1024 * 1024 - 20) + b"\n%%EOF\n"
    reply, growth = web_peak_growth_mb(target, lambda: target.upload(token, pdf, analyses="stats"))
    return {"status": reply.status_code, "web_peak_growth_mb": growth}


def attack_slowloris(target: Target) -> dict[str, object]:
    """10 sockets sending a POST body 1 byte every 5 s: /health latency meanwhile."""
    health = f"{target.api_url}/api/v1/health"
    idle = [seconds for seconds, _ in sample_latencies(health, 10)]
    with slow_clients(target.api_url, 10, 5.0, "body"):
        time.sleep(1)
        attacked = sample_latencies(health, 10)
    return {
        "idle_p95_s": round(p95(idle), 3),
        "attacked_p95_s": round(p95([seconds for seconds, _ in attacked]), 3),
        "unanswered": sum(1 for _, status in attacked if status == 0),
    }


def attack_slow_connections(target: Target) -> dict[str, object]:
    """200 connections sending a byte every 2 s, with a first search and 4 logins: p95 of health and poll, stream."""
    email, password, token, _ = target.new_user()
    auth = {"Authorization": f"Bearer {token}"}
    searched = completed_job(target, token, "embeddings")
    watched = target.upload(token, make_text_pdf(2, seed=7), analyses="stats").json()["job_id"]
    return measure_slow_connections(
        target.api_url, auth, searched, watched, {"email": email, "password": password}
    )


def completed_job(target: Target, token: str, analyses: str) -> str | None:
    reply = target.upload(token, make_text_pdf(1, chars_per_page=800, seed=31), analyses=analyses)
    job_id = reply.json().get("job_id")
    return job_id if job_id and target.wait_job(token, job_id, 120).get("status") == "completed" else None


def measure_slow_connections(
    api_url: str,
    auth: dict[str, str],
    searched_job: str | None,
    watched_job: str,
    credentials: dict[str, str],
) -> dict[str, object]:
    """p95 of /health and of a poll idle and under 200 slow connections while a first search and 4 logins run."""
    health = f"{api_url}/api/v1/health"
    poll = f"{api_url}/api/v1/jobs/{watched_job}?sentences_limit=1"
    idle = latency_pair(health, poll, auth)
    busy: list[threading.Thread] = []
    with (
        slow_clients(api_url, SLOW_CLIENTS // 2, SLOW_INTERVAL_SECONDS, "headers") as in_headers,
        slow_clients(api_url, SLOW_CLIENTS // 2, SLOW_INTERVAL_SECONDS, "body") as in_body,
    ):
        time.sleep(1)
        outcomes: dict[str, object] = {}
        if searched_job is not None:
            busy.append(in_thread(lambda: outcomes.update(search=search(api_url, auth, searched_job))))
        for number in range(4):
            busy.append(
                in_thread(lambda n=number: outcomes.update({f"login{n}": login(api_url, credentials)}))
            )
        attacked = latency_pair(health, poll, auth)
        for thread in busy:
            thread.join(60)
        stream_seconds = first_event_seconds(api_url, auth, watched_job)
        held = in_headers.open_count() + in_body.open_count()
    logins = sorted(str(outcomes.get(f"login{n}")) for n in range(4))
    return {
        "slow_connections_held": held,
        "idle_health_p95_s": idle["health"],
        "idle_poll_p95_s": idle["poll"],
        "health_p95_s": attacked["health"],
        "poll_p95_s": attacked["poll"],
        "unanswered": attacked["unanswered"],
        "search_status": outcomes.get("search"),
        "login_statuses": ", ".join(logins),
        "stream_first_event_s": stream_seconds,
    }


def latency_pair(health: str, poll: str, auth: dict[str, str]) -> dict[str, float]:
    """p95 of /health and of a poll, sampled side by side."""
    found: dict[str, list[tuple[float, int]]] = {}
    threads = [
        in_thread(lambda: found.update(health=sample_latencies(health, LATENCY_SAMPLES))),
        in_thread(lambda: found.update(poll=sample_latencies(poll, LATENCY_SAMPLES, headers=auth))),
    ]
    for thread in threads:
        thread.join()
    unanswered = sum(1 for samples in found.values() for _, status in samples if status not in (200, 304))
    return {
        "health": round(p95([seconds for seconds, _ in found["health"]]), 3),
        "poll": round(p95([seconds for seconds, _ in found["poll"]]), 3),
        "unanswered": unanswered,
    }


def in_thread(work: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def search(api_url: str, auth: dict[str, str], job_id: str) -> int:
    """Status of a search of the job (GET with q; POST with a JSON body where GET is not the method)."""
    url = f"{api_url}/api/v1/jobs/{job_id}/search"
    reply = requests.get(url, params={"q": "a measured query"}, headers=auth, timeout=60)
    if reply.status_code == 405:
        reply = requests.post(url, json={"q": "a measured query"}, headers=auth, timeout=60)
    return reply.status_code


def login(api_url: str, credentials: dict[str, str]) -> int:
    return requests.post(f"{api_url}/api/v1/auth/login", json=credentials, timeout=60).status_code


@contextmanager
def event_stream(
    api_url: str, path: str, headers: dict[str, str] | None = None
) -> Iterator[http.client.HTTPResponse]:
    """An open GET of an event stream; its response, closed at the end of the block."""
    address = urlsplit(api_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        yield connection.getresponse()
    finally:
        with suppress(OSError):
            connection.sock and connection.sock.shutdown(socket.SHUT_RDWR)
        connection.close()


def first_event_seconds(api_url: str, auth: dict[str, str], job_id: str) -> float | None:
    """Seconds from opening the job's stream to its first event (None if it did not open)."""
    started = time.monotonic()
    try:
        with event_stream(api_url, f"/api/v1/jobs/{job_id}/events", auth) as response:
            if response.status != 200:
                return None
            for line in response:
                if line.startswith(b"event:"):
                    return round(time.monotonic() - started, 3)
    except (OSError, http.client.HTTPException):
        pass
    return None


def attack_streams_of_one_user(target: Target) -> dict[str, object]:
    """One user opens 8 event streams, then another user opens one: statuses."""
    first, second = target.new_user()[2], target.new_user()[2]
    # Long jobs: a stream stays open while its job runs (the platform's worker takes them at once).
    first_job = target.upload(first, make_text_pdf(400, seed=41), analyses="stats").json()["job_id"]
    second_job = target.upload(second, make_text_pdf(400, seed=43), analyses="stats").json()["job_id"]
    statuses = open_streams(target.api_url, bearer(first), first_job, 8, then=(bearer(second), second_job))
    return {"first_user_8_streams": ", ".join(map(str, statuses[:-1])), "second_user_stream": statuses[-1]}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def open_streams(
    api_url: str, auth: dict[str, str], job_id: str, count: int, then: tuple[dict[str, str], str]
) -> list[int]:
    """Statuses of `count` streams held open at once by one user, then of one stream of another."""
    with ExitStack() as stack:
        statuses = []
        for _ in range(count):
            response = stack.enter_context(event_stream(api_url, f"/api/v1/jobs/{job_id}/events", auth))
            statuses.append(response.status)
        other_auth, other_job = then
        other = stack.enter_context(event_stream(api_url, f"/api/v1/jobs/{other_job}/events", other_auth))
        statuses.append(other.status)
        return statuses


def ticket_replay(api_url: str, auth: dict[str, str], job_id: str) -> tuple[str, list[int]]:
    """A stream ticket, and the statuses of opening the stream with it twice."""
    issued = requests.post(f"{api_url}/api/v1/jobs/{job_id}/events/ticket", headers=auth, timeout=30).json()
    statuses = []
    for _ in range(2):
        with event_stream(api_url, issued["url"]) as response:
            statuses.append(response.status)
    return issued["ticket"], statuses


def attack_ticket_replay(target: Target) -> dict[str, object]:
    """A stream ticket used twice within its 60 s: statuses."""
    token = target.new_user()[2]
    job_id = target.upload(token, make_text_pdf(1, seed=47), analyses="stats").json()["job_id"]
    _, statuses = ticket_replay(target.api_url, bearer(token), job_id)
    return {"first_use": statuses[0], "replay": statuses[1]}


def attack_ticket_in_log(target: Target) -> dict[str, object]:
    """Open a stream with a ticket: does the ticket appear in the web log?"""
    token = target.new_user()[2]
    job_id = target.upload(token, make_text_pdf(1, seed=53), analyses="stats").json()["job_id"]
    ticket, _ = ticket_replay(target.api_url, bearer(token), job_id)
    time.sleep(0.5)  # the access log line is written as the stream closes
    log = (target.workdir / "web.log").read_text(errors="replace")
    return {"ticket_in_web_log": ticket in log, "ticket_lines": log.count(ticket)}


ATTACKS = [
    attack_upload_memory,  # first: the web processes are fresh
    attack_huge_json,
    attack_huge_json_4_parallel,
    attack_deep_json,
    attack_slowloris,
    attack_slow_connections,
    attack_streams_of_one_user,
    attack_ticket_replay,
    attack_ticket_in_log,
]
