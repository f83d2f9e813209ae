"""CPU-bound work of a web request runs in a real thread, so the other requests of its process go on.

The API serves requests as greenlets (gunicorn's gevent worker, gunicorn.conf.py): one
that computes for a second without waiting on the network holds up every other request
of its process for that second. Password hashing (about 0.1 s) and loading and running
the embedding model (up to a few seconds on a first search) go through
``run_in_thread`` instead: the greenlet waits while a thread of gevent's pool computes.
hashlib and ONNX Runtime release the GIL while they compute, so the event loop keeps
serving meanwhile. Outside gevent (the worker, the test client, flask commands) the
function is simply called.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def serving_greenlets() -> bool:
    """Whether this process serves requests as greenlets (gevent has patched the standard library)."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("socket")


def run_in_thread(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Return ``function(*args, **kwargs)``, computed in a real thread when requests are greenlets."""
    if not serving_greenlets():
        return function(*args, **kwargs)
    import gevent

    return gevent.get_hub().threadpool.apply(function, args, kwargs)


def wait_cooperatively(connection, timeout: float | None = None) -> None:
    """psycopg2's wait callback under gevent: wait for the server in the event loop, not the process.

    As psycogreen's, and in addition a connection attempt gives up after its
    ``connect_timeout`` (DB_CONNECT_TIMEOUT): libpq ignores that setting once the
    connection is made without blocking, so an unanswering server held a request, and
    /health, until TCP gave up, minutes later, instead of 5 s.
    """
    import psycopg2
    from gevent.socket import wait_read, wait_write
    from psycopg2 import extensions

    connecting = connection.status == extensions.STATUS_SETUP
    deadline = connect_deadline(connection) if connecting else None
    while (state := poll_naming_server(connection, connecting)) != extensions.POLL_OK:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            connection.close()
            raise psycopg2.OperationalError(
                f"{server_of(connection)} failed: timeout expired while connecting (DB_CONNECT_TIMEOUT)"
            )
        wait = wait_read if state == extensions.POLL_READ else wait_write
        try:
            wait(connection.fileno(), timeout=remaining)
        except TimeoutError:
            continue  # the loop's next look raises


def poll_naming_server(connection, connecting: bool) -> int:
    """Poll the connection; a failed connection attempt says which server it tried, as a blocking one does."""
    import psycopg2

    try:
        return connection.poll()
    except psycopg2.OperationalError as error:
        if not connecting:
            raise
        raise psycopg2.OperationalError(f"{server_of(connection)} failed: {error}") from error


def server_of(connection) -> str:
    return f'connection to server at "{connection.info.host}", port {connection.info.port}'


def connect_deadline(connection) -> float | None:
    """When a connection attempt must have succeeded, from its connect_timeout (None: no limit)."""
    seconds = int(connection.info.dsn_parameters.get("connect_timeout") or 0)
    return time.monotonic() + seconds if seconds > 0 else None
