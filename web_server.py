"""The API's gunicorn classes (gunicorn.conf.py): a gevent worker that stops quickly, an access log without tickets.

The worker class:

gunicorn's gevent worker looks at its stop flag once a second and, once stopping, waits
for every connection to close, kept-alive idle ones included (up to ``keepalive``
seconds): an idle API took over 3 s to stop. This one looks ten times a second and
gives a kept-alive connection that carries no request ``STOP_KEEPALIVE_LINGER`` seconds
(as the threaded worker did) for a request its client may already be sending, which is
answered with ``Connection: close``; then it closes it. Requests in flight keep the
whole ``graceful_timeout``; event streams end at once (app/shutdown.py).

The logger class writes the access log as gunicorn does, with the value of every
``ticket=`` in the request line, query string and Referer replaced: a stream ticket
(app/api/stream_tickets.py) opens a job's events, and logs go to more people and
places than the job's owner.

Kept apart from ``app`` so that gunicorn's master, which imports these classes, does
not import the application before gevent patches the standard library in each worker.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from functools import partial

import gevent
from gevent.pool import Pool
from gevent.server import StreamServer
from gunicorn.glogging import Logger
from gunicorn.sock import ssl_context
from gunicorn.workers.ggevent import GeventWorker

STOP_POLL_SECONDS = 0.1
STOP_KEEPALIVE_LINGER = 2.0
TICKET_VALUE = re.compile(r"(?<![^?&;/\s])(ticket=)[^&;\s\"]*", re.IGNORECASE)


class QuickStopGeventWorker(GeventWorker):
    """gunicorn's gevent worker that stops as soon as its requests in flight have ended."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.in_request: set[gevent.Greenlet] = set()

    def handle_request(self, listener_name, req, sock, addr):
        """Serve one request, remembering which connections are inside one."""
        current = gevent.getcurrent()
        self.in_request.add(current)
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            self.in_request.discard(current)

    def run(self) -> None:
        """Serve until told to stop; then wait for the requests in flight, not for idle connections."""
        servers = [self.start_server(listener) for listener in self.sockets]
        while self.alive:
            self.notify()
            gevent.sleep(STOP_POLL_SECONDS)
        for server in servers:
            server.close()  # no new connections
        self.serve_requests_in_flight(servers)
        self.exit_at_once()

    def serve_requests_in_flight(self, servers: list[StreamServer]) -> None:
        """Wait for the requests in flight (at most graceful_timeout); close idle connections after a linger."""
        stopped = time.monotonic()
        while any(server.pool.free_count() != server.pool.size for server in servers):
            waited = time.monotonic() - stopped
            if waited > self.cfg.graceful_timeout:
                self.log.warning("Worker graceful timeout (pid:%s)", self.pid)
                for server in servers:
                    server.stop(timeout=1)
                return
            if waited >= STOP_KEEPALIVE_LINGER:
                self.close_idle_connections(servers)
            self.notify()
            gevent.sleep(STOP_POLL_SECONDS)

    def exit_at_once(self) -> None:
        """Exit without tearing the interpreter down object by object.

        That teardown took 2 s of CPU on a busy two-core machine, longer than the stop
        itself. Nothing is lost: logs are flushed here, the metrics files are memory
        maps the kernel writes back, and the database sees its connections close.
        """
        self.log.info("Worker exiting (pid: %s)", self.pid)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    def start_server(self, listener) -> StreamServer:
        """Accept on one listening socket, each connection in a greenlet of a bounded pool (as GeventWorker)."""
        listener.setblocking(1)
        ssl_args = {"ssl_context": ssl_context(self.cfg)} if self.cfg.is_ssl else {}
        server = StreamServer(
            listener, handle=partial(self.handle, listener), spawn=Pool(self.worker_connections), **ssl_args
        )
        if self.cfg.workers > 1:
            server.max_accept = 1  # leave the next connection to another process
        server.start()
        return server

    def close_idle_connections(self, servers: list[StreamServer]) -> None:
        """End every connection that is not inside a request (kept alive, or still sending one)."""
        for server in servers:
            for greenlet in list(server.pool):
                if greenlet not in self.in_request:
                    greenlet.kill(block=False)


class AccessLogWithoutTickets(Logger):
    """gunicorn's logger; access log lines carry ``ticket=[redacted]`` instead of a stream ticket."""

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: redact_tickets(value) if isinstance(value, str) else value for key, value in atoms.items()
        }


def redact_tickets(text: str) -> str:
    """Replace the value of each ``ticket=`` query parameter in the text."""
    return TICKET_VALUE.sub(r"\1[redacted]", text) if "ticket=" in text.lower() else text
