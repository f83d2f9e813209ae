"""PostgreSQL drops the workers' connections, or restarts, while a job writes its progress.

These run on a PostgreSQL cluster of the module's own, so it can be restarted and its
connections terminated without touching the suite's shared server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bench.textpdf import make_text_pdf
from tests.chaos.probes import assert_completed_exactly_once, mid_job
from tests.chaos.servers import PostgresCluster, migrate, wait_until
from tests.chaos.stack import Stack, module_workdir
from tests.support import admin_execute

TERMINATE_OTHERS = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
TERMINATE_COPIES = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
    " WHERE datname = current_database() AND state = 'active' AND query LIKE 'COPY sentences%%'"
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    postgres = PostgresCluster()
    try:
        postgres.init()
        postgres.start()
        yield postgres
    finally:
        postgres.remove()


@pytest.fixture(scope="module")
def stack(cluster: PostgresCluster) -> Iterator[Stack]:
    name, workdir = module_workdir(__name__)
    admin_execute("CREATE DATABASE docjobs", url=cluster.url())
    migrate(cluster.url("docjobs"))
    with Stack.running(name, cluster.url("docjobs"), workdir) as running:
        yield running


@pytest.mark.timeout(120)
def test_a_job_completes_while_its_database_connections_are_terminated_again_and_again(stack):
    # 50 dense chunks at the shipped CHUNK_PAGES (10): seconds of work, room for many cuts.
    pdf = make_text_pdf(500, chars_per_page=10_000, seed=100)
    headers = stack.api.new_user()
    cuts = 0
    # Lost connections are the worker's own to recover from: the reaper, which would mask a
    # chunk dropped on the floor, waits a minute as in production.
    with stack.fast_worker(STALE_CHUNK_SECONDS=60):
        job_id = stack.api.upload(headers, pdf, "terminated.pdf").body["job_id"]
        wait_until(lambda: mid_job(stack.database, job_id), 30, "the job runs")
        chaos_ends = time.monotonic() + 10
        while stack.database.job(job_id).status == "processing" and time.monotonic() < chaos_ends:
            # Every backend but this one: workers, heartbeats, beat's tasks and the API.
            cuts += stack.database.value(TERMINATE_OTHERS) > 0
            time.sleep(0.1)
        stack.database.wait_for_jobs([job_id], timeout=60)

    assert cuts >= 10, "the job ended before its connections were cut often enough"
    assert_completed_exactly_once(stack.database, job_id, pdf)


@pytest.mark.timeout(60)
def test_a_connection_cut_while_a_chunk_copies_its_sentences_is_retried_at_once(stack):
    pdf = make_text_pdf(200, chars_per_page=10_000, seed=102)
    headers = stack.api.new_user()
    cut_copies = 0
    with stack.fast_worker(STALE_CHUNK_SECONDS=60):  # as in production: no quick rescue by the reaper
        job_id = stack.api.upload(headers, pdf, "cut-copy.pdf").body["job_id"]
        chaos_ends = time.monotonic() + 20
        while (
            cut_copies < 3
            and time.monotonic() < chaos_ends
            and stack.database.job(job_id).status != "completed"
        ):
            cut_copies += stack.database.value(TERMINATE_COPIES)
        stack.database.wait_for_jobs([job_id], timeout=15)

    assert cut_copies >= 1, "no chunk was caught writing its sentences"
    assert_completed_exactly_once(stack.database, job_id, pdf)


@pytest.mark.timeout(90)
def test_a_job_completes_across_a_database_crash_and_restart(stack, cluster):
    pdf = make_text_pdf(300, seed=101)  # 30 chunks at the shipped CHUNK_PAGES (10)
    headers = stack.api.new_user()
    with stack.fast_worker():
        job_id = stack.api.upload(headers, pdf, "restarted.pdf").body["job_id"]
        wait_until(lambda: mid_job(stack.database, job_id), 30, "the job runs")
        stack.database.close()
        cluster.stop("immediate")  # a crash: no checkpoint, recovery on start
        time.sleep(6)  # a restart as long as a managed database's, past a commit's own retries
        cluster.start()
        stack.database.wait_for_jobs([job_id], timeout=60)

    assert_completed_exactly_once(stack.database, job_id, pdf)
