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
