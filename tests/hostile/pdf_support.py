"""What the hostile-PDF tests look at: a worker's pool processes and sandboxes, jobs run to their end."""

from __future__ import annotations

from pathlib import Path

from tests.chaos.processes import children
from tests.support import Worker


def pool_processes(worker: Worker) -> set[int]:
    """The worker's pool processes (the image's ENTRYPOINT execs celery, so they are its children)."""
    return set(children(worker.process.pid))


def sandbox_helpers(worker: Worker) -> set[int]:
    """The PDF sandbox helpers of the worker's pool processes."""
    return {helper for pool in pool_processes(worker) for helper in children(pool)}


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_job(stack, pdf: bytes, name: str, timeout: float = 60, analyses: str | None = None):
    """Upload as a new user and wait for the job to end; return its row."""
    reply = stack.api.upload(stack.api.new_user(), pdf, name, analyses)
    assert reply.status == 202, reply
    stack.database.wait_for_jobs([reply.body["job_id"]], timeout)
    return stack.database.job(reply.body["job_id"])


def sentence_rows(stack, job_id: str) -> int:
    return stack.database.value("SELECT count(*) FROM sentences WHERE job_id = %s", job_id)
