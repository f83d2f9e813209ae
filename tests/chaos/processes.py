"""Workers as process trees: start them, find the process running a chunk, kill them outright."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from celery import Celery

from app.jobs.queue import PROCESS_CHUNK_TASK, PROCESS_JOB_TASK
from tests.support import Worker


def children(pid: int) -> list[int]:
    """The direct children of a process, read from /proc."""
    found: list[int] = []
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        with suppress(OSError):
            found += [int(child) for child in listing.read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    """Children, grandchildren and so on: a worker's pool processes."""
    found = []
    pending = children(pid)
    while pending:
        child = pending.pop()
        found.append(child)
        pending += children(child)
    return found


def is_alive(pid: int) -> bool:
    """Tell whether a process still runs; a zombie (dead, not yet reaped by its parent) does not."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def kill_worker_outright(worker: Worker) -> None:
    """SIGKILL a worker's main process and every process under it, as a crashed machine would."""
    main = worker.process.pid
    os.kill(main, signal.SIGSTOP)  # frozen, it cannot fork a replacement while the tree is killed
    for pid in [*descendants(main), main]:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.process.wait(10)


@contextmanager
def worker_tree(env: dict[str, str]) -> Iterator[Worker]:
    """A worker as its image starts it, killed outright with its whole process tree when the block ends.

    Graceful shutdown is not under test here.
    """
    with Worker.shipped(env) as worker:
        try:
            yield worker
        finally:
            if worker.process.poll() is None:
                kill_worker_outright(worker)


def pid_running_chunk(broker_url: str, job_id: str, index: int) -> int | None:
    """Ask the one worker on this broker (Celery remote control) which process runs this chunk.

    The job task runs a job's first chunk itself; every other chunk has a task of its own.
    """
    control = Celery(broker=broker_url, set_as_current=False)
    try:
        active = control.control.inspect(timeout=1.0, limit=1).active() or {}
    finally:
        control.close()
    for tasks in active.values():
        for task in tasks:
            if task["name"] == PROCESS_CHUNK_TASK and list(task["args"]) == [job_id, index]:
                return task["worker_pid"]
            if task["name"] == PROCESS_JOB_TASK and list(task["args"]) == [job_id] and index == 0:
                return task["worker_pid"]
    return None
