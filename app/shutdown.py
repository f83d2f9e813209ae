"""Whether this process has been told to stop, for requests that would otherwise outlive it.

gunicorn.conf.py sets ``stopping`` when a worker gets SIGTERM, SIGQUIT, SIGINT or
SIGABRT. An event stream (app/api/events.py) waits on it between looks, so it ends at
once with a ``reconnect`` event instead of holding the worker's graceful shutdown for
up to SSE_MAX_SECONDS. The event is set from a signal handler of the main thread; no
code of that thread waits on it, so setting it there cannot deadlock.
"""

from __future__ import annotations

import threading

stopping = threading.Event()
