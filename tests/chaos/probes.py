"""Read the platform's own tables and check that a job's work was done exactly once.

The expected sentences come from the PDF itself, read here with the same pure
functions the workers use, so a chunk that lost or repeated work cannot vouch for itself.
"""

from __future__ import annotations

import time
from contextlib import suppress
from typing import Any

import psycopg2
import psycopg2.extras

from app.analysis import split_sentences
from app.pdf import chunk_page_ranges, extract_page_texts, open_pdf

FINAL_STATUSES = ("completed", "failed", "cancelled")


class Database:
    """Direct SQL on the stack's database; a terminated connection is simply opened again."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._connection: Any = None

    def rows(self, statement: str, *params: object) -> list[Any]:
        for attempt in range(10):
            try:
                if self._connection is None or self._connection.closed:
                    self._connection = psycopg2.connect(self.url, connect_timeout=5)
                    self._connection.autocommit = True
                with self._connection.cursor(cursor_factory=psycopg2.extras.NamedTupleCursor) as cursor:
                    cursor.execute(statement, params)
                    return cursor.fetchall() if cursor.description else []
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                self.close()
                if attempt == 9:
                    raise
                time.sleep(0.2)  # the chaos may be aimed at this connection too, or the server restarting
        raise AssertionError("the loop returns or raises")

    def value(self, statement: str, *params: object) -> Any:
        found = self.rows(statement, *params)
        return found[0][0] if found else None

    def close(self) -> None:
        if self._connection is not None:
            with suppress(psycopg2.Error):
                self._connection.close()
            self._connection = None

    def job(self, job_id: str) -> Any:
        return self.rows("SELECT * FROM jobs WHERE id = %s", job_id)[0]

    def chunks(self, job_id: str) -> list[Any]:
        return self.rows(
            "SELECT index, status, attempts, error_code, (result->>'sentence_count')::int AS sentence_count"
            " FROM chunks WHERE job_id = %s ORDER BY index",
            job_id,
        )

    def wait_for_jobs(self, job_ids: list[str], timeout: float) -> dict[str, str]:
        """Wait until every job ended; return each job's final status."""
        deadline = time.monotonic() + timeout
        while True:
            statuses = dict(self.rows("SELECT id, status FROM jobs WHERE id = ANY(%s)", list(job_ids)))
            if len(statuses) == len(set(job_ids)) and all(s in FINAL_STATUSES for s in statuses.values()):
                return statuses
            if time.monotonic() > deadline:
                unfinished = {job_id: s for job_id, s in statuses.items() if s not in FINAL_STATUSES}
                raise AssertionError(f"{len(unfinished)} job(s) did not end within {timeout} s: {unfinished}")
            time.sleep(0.1)


def mid_job(database: Database, job_id: str) -> bool:
    """Some chunks are done and some are running: the moment a kill does the most damage."""
    done, running = database.rows(
        "SELECT count(*) FILTER (WHERE status = 'completed') AS done,"
        " count(*) FILTER (WHERE status = 'running') AS running"
        " FROM chunks WHERE job_id = %s",
        job_id,
    )[0]
    return done >= 1 and running >= 1


def expected_sentence_counts(pdf: bytes, ranges: list[tuple[int, int]]) -> list[int]:
    """How many sentences each page range of the PDF holds, counted without the platform."""
    document = open_pdf(pdf)
    try:
        assert ranges == chunk_page_ranges(len(document), ranges[0][1] - ranges[0][0] + 1), ranges
        return [
            sum(len(split_sentences(text)) for _, text in extract_page_texts(document, first, last))
            for first, last in ranges
        ]
    finally:
        document.close()


def assert_completed_exactly_once(database: Database, job_id: str, pdf: bytes) -> None:
    """The job completed, every chunk once, and every sentence of the PDF is stored exactly once."""
    ranges = [
        (row.first_page, row.last_page)
        for row in database.rows(
            "SELECT first_page, last_page FROM chunks WHERE job_id = %s ORDER BY index", job_id
        )
    ]
    assert ranges, f"job {job_id} has no chunks"
    expected = expected_sentence_counts(pdf, ranges)
    job = database.job(job_id)
    assert (job.status, job.error_code) == ("completed", None), job
    assert job.total_chunks == job.completed_chunks == len(expected), job
    assert job.progress_percent == 100, job
    chunks = database.chunks(job_id)
    assert [(c.index, c.status) for c in chunks] == [(i, "completed") for i in range(len(expected))], chunks
    assert [c.sentence_count for c in chunks] == expected, f"chunk results of job {job_id}"
    stored = database.rows(
        "SELECT chunk_index, count(*) AS n, count(DISTINCT position) AS distinct_positions,"
        " min(position) AS first, max(position) AS last"
        " FROM sentences WHERE job_id = %s GROUP BY chunk_index ORDER BY chunk_index",
        job_id,
    )
    found = {row.chunk_index: (row.n, row.distinct_positions, row.first, row.last) for row in stored}
    wanted = {index: (n, n, 0, n - 1) for index, n in enumerate(expected) if n}
    assert found == wanted, f"stored sentences of job {job_id} per chunk: (count, distinct, first, last)"
