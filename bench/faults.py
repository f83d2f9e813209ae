"""Recovery times after faults, with the platform in the shape and settings that ship.

The same faults as tests/chaos/test_shipped_defaults.py, timed instead of bounded: the
API as Dockerfile.web starts it and workers as their image's ENTRYPOINT starts them,
nothing shortened, on a private Redis (so it can be stopped) and a fresh database.

- kill: a worker's whole process tree SIGKILLed mid-job (an out-of-memory kill), a new
  worker started; from that worker being ready until every chunk the dead one held is
  running again, and until the job completed.
- redis-down: Redis stopped while uploads arrive, then started again (empty); from its
  return until every upload is running, and until all completed.
- redis-restart: Redis restarted without persistence while a job's chunks wait in the
  queue; from its return until every lost chunk is running again, and until done.

The bound for each "running again" is STALE_CHUNK_SECONDS + 2 x MAINTENANCE_INTERVAL_SECONDS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench.textpdf import make_text_pdf
from config import Config
from tests.chaos.probes import Database, mid_job
from tests.chaos.processes import kill_worker_outright
from tests.chaos.servers import migrate
from tests.chaos.stack import Stack
from tests.support import admin_execute, database_url

RESULTS = Path(__file__).resolve().parent / "results" / "faults.json"
DATABASE = "docjobs_bench_faults"


def seconds_until(condition: Callable[[], bool], timeout: float = 600) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"not within {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - start


def chunk_states(database: Database, job_id: str) -> dict[int, tuple[str, int]]:
    rows = database.rows("SELECT index, status, attempts FROM chunks WHERE job_id = %s", job_id)
    return {row.index: (row.status, row.attempts) for row in rows}


def all_started(database: Database, job_ids: list[str]) -> bool:
    statuses = database.rows("SELECT status FROM jobs WHERE id = ANY(%s)", job_ids)
    return all(row.status in ("processing", "completed") for row in statuses)


def completed(database: Database, job_ids: list[str]) -> bool:
    statuses = database.rows("SELECT status FROM jobs WHERE id = ANY(%s)", job_ids)
    return len(statuses) == len(job_ids) and all(row.status == "completed" for row in statuses)


def measure_kill(stack: Stack, pages: int) -> dict:
    with stack.worker() as worker:
        job_id = stack.api.upload(stack.api.new_user(), make_text_pdf(pages, seed=901)).body["job_id"]
        seconds_until(partial(mid_job, stack.database, job_id), 120)
        kill_worker_outright(worker)
    held = {
        i: attempts
        for i, (status, attempts) in chunk_states(stack.database, job_id).items()
        if status == "running"
    }

    def running_again() -> bool:
        now = chunk_states(stack.database, job_id)
        return all(now[i][1] > attempts or now[i][0] != "running" for i, attempts in held.items())

    with stack.worker():
        rerun = seconds_until(running_again)
        done = rerun + seconds_until(partial(completed, stack.database, [job_id]))
    return {"held_chunks": len(held), "held_running_again_s": rerun, "job_completed_s": done}


def measure_redis_down(stack: Stack, uploads: int) -> dict:
    headers = stack.api.new_user()
    with stack.worker():
        with stack.redis.down():
            job_ids = [
                stack.api.upload(headers, make_text_pdf(12, seed=910 + n)).body["job_id"]
                for n in range(uploads)
            ]
        running = seconds_until(partial(all_started, stack.database, job_ids))
        done = running + seconds_until(partial(completed, stack.database, job_ids))
    return {"uploads": uploads, "uploads_running_s": running, "uploads_completed_s": done}


def measure_redis_restart(stack: Stack, pages: int) -> dict:
    with stack.worker(concurrency=1) as worker:
        job_id = stack.api.upload(stack.api.new_user(), make_text_pdf(pages, seed=920)).body["job_id"]
        seconds_until(partial(mid_job, stack.database, job_id), 120)
        stack.redis.restart(down_for=2)
        waiting = [
            i for i, (status, _) in chunk_states(stack.database, job_id).items() if status == "pending"
        ]

        def lost_ones_started() -> bool:
            now = chunk_states(stack.database, job_id)
            return all(now[i][0] != "pending" for i in waiting)

        rerun = seconds_until(lost_ones_started)
        done = rerun + seconds_until(partial(completed, stack.database, [job_id]))
        assert worker.process.poll() is None, "the worker exited"
    return {"lost_chunks": len(waiting), "lost_chunks_running_s": rerun, "job_completed_s": done}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pages", type=int, default=300, help="pages of the killed job")
    parser.add_argument("--uploads", type=int, default=5, help="uploads while Redis is down")
    args = parser.parse_args(argv)
    os.environ.setdefault("INSTANCE_DIR", tempfile.mkdtemp(prefix="docjobs-bench-faults-"))
    workdir = Path(os.environ["INSTANCE_DIR"])
    defaults = Config()
    bound = defaults.STALE_CHUNK_SECONDS + 2 * defaults.MAINTENANCE_INTERVAL_SECONDS

    admin_execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    admin_execute(f'CREATE DATABASE "{DATABASE}"')
    try:
        migrate(database_url(DATABASE))
        with Stack.running("faults", database_url(DATABASE), workdir) as stack:
            results = {
                "bound_s": bound,
                "kill": measure_kill(stack, args.pages),
                "redis_down": measure_redis_down(stack, args.uploads),
                "redis_restart": measure_redis_restart(stack, args.pages),
            }
    finally:
        admin_execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')

    print(f"Recovery at the shipped defaults (bound for 'running again': {bound:.0f} s)")
    kill, down, restart = results["kill"], results["redis_down"], results["redis_restart"]
    print(f"  worker killed mid-job ({kill['held_chunks']} chunks held):"
          f" running again {kill['held_running_again_s']:.1f} s, job completed {kill['job_completed_s']:.1f} s after a new worker was ready")  # fmt: skip
    print(f"  {down['uploads']} uploads while Redis was down: running {down['uploads_running_s']:.1f} s,"
          f" completed {down['uploads_completed_s']:.1f} s after Redis came back")  # fmt: skip
    print(f"  Redis restarted empty ({restart['lost_chunks']} queued chunks lost): running again"
          f" {restart['lost_chunks_running_s']:.1f} s, job completed {restart['job_completed_s']:.1f} s after it came back")  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
