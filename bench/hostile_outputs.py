"""Issue 11's attacks on what the platform gives back: CSV exports, /health, /metrics, search.

Run by bench/hostile.py (``--area outputs``) against a platform started as it ships.
Each attack uses only what any checkout has (upload, poll, export, search, /health,
/metrics and the database), so the same figures come from the commit before issue 11.
"""

from __future__ import annotations

import csv
import http.client
import io
import random
import string
import time
from urllib.parse import urlsplit

import numpy as np
import psycopg2
import requests

from bench.hostile_target import Target, tally
from bench.textpdf import make_pages_pdf
from tests.support import admin_execute

FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(1,2)", '=HYPERLINK("http://x","y")']
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
RANDOM_METHODS = 500
SEARCH_SENTENCES = 200_000  # the sentences-per-job cap of issue 11
SEARCH_FLOOD = 70  # searches by one user in a row, over the default 60/minute
EMBEDDING_BYTES = 384 * 4


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def completed_job(target: Target, pdf: bytes, analyses: str) -> tuple[str, str]:
    """Upload a PDF as a new user and wait for its job; return the token and the job id."""
    _, _, token, _ = target.new_user()
    accepted = target.upload(token, pdf, "hostile.pdf", analyses=analyses)
    accepted.raise_for_status()
    job_id = accepted.json()["job_id"]
    job = target.wait_job(token, job_id, timeout=300)
    if job.get("status") != "completed":
        raise RuntimeError(f"the job ended {job.get('status')}: {job.get('error')}")
    return token, job_id


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def live_formulas(cells: list[str]) -> list[str]:
    """Cells a spreadsheet would evaluate: text starting with a trigger (a negative number is a number)."""
    return [cell for cell in cells if cell.startswith(FORMULA_TRIGGERS) and not is_number(cell)]


def attack_csv_formulas(target: Target) -> dict[str, object]:
    """A PDF whose sentences start with =cmd|' /C calc'!A0, +SUM(…), -2+3, @SUM(…), =HYPERLINK(…), exported as CSV."""
    token, job_id = completed_job(target, make_pages_pdf([*FORMULAS, "A harmless sentence."]), "stats")
    export = requests.get(
        f"{target.api_url}/api/v1/jobs/{job_id}/export",
        params={"format": "csv"},
        headers=bearer(token),
        timeout=60,
    )
    rows = list(csv.DictReader(io.StringIO(export.text))) if export.ok else []
    cells = [cell for row in rows for cell in row.values()]
    live = live_formulas(cells)
    return {
        "export_status": export.status_code,
        "rows": len(rows),
        "formula_cells": len(live),
        "quoted_cells": sum(cell.startswith("'") and cell[1:].startswith(FORMULA_TRIGGERS) for cell in cells),
    }


def on_server(target: Target, statement: str) -> None:
    """Run a statement on the platform's database server, from its maintenance database."""
    admin_execute(statement, target.env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres")


def attack_health_database_down(target: Target) -> dict[str, object]:
    """/health while PostgreSQL refuses the platform's connections, unauthenticated and with the metrics token."""
    database = target.sql("SELECT current_database()")[0][0]
    on_server(target, f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
    try:
        on_server(
            target, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
        )
        public = requests.get(f"{target.api_url}/api/v1/health", timeout=30)
        token = target.env.get("METRICS_TOKEN", "")
        detailed = requests.get(f"{target.api_url}/api/v1/health", headers=bearer(token), timeout=30)
    finally:
        on_server(target, f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    address = urlsplit(target.env["DATABASE_URL"])
    secrets_in = {"host": address.hostname, "port": str(address.port or 5432), "database": database}
    return {
        "status": public.status_code,
        "public_bytes": len(public.content),
        "public_reveals": ", ".join(name for name, value in secrets_in.items() if value in public.text)
        or "nothing",
        "with_token_reveals": ", ".join(n for n, v in secrets_in.items() if v in detailed.text) or "nothing",
    }


def metrics_bytes(target: Target) -> int:
    reply = requests.get(
        f"{target.api_url}/metrics", headers=bearer(target.env.get("METRICS_TOKEN", "")), timeout=30
    )
    reply.raise_for_status()
    return len(reply.content)


def attack_metrics_random_methods(target: Target) -> dict[str, object]:
    """500 requests with random HTTP methods, then /metrics."""
    rng = random.Random(11)
    before = metrics_bytes(target)
    address = urlsplit(target.api_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    statuses: list[int] = []
    try:
        for _ in range(RANDOM_METHODS):
            connection.request(
                "".join(rng.choices(string.ascii_uppercase, k=rng.randint(4, 10))), "/api/v1/jobs"
            )
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        connection.close()
    return {
        "statuses": tally(statuses),
        "metrics_kb_before": round(before / 1024, 1),
        "metrics_kb_after": round(metrics_bytes(target) / 1024, 1),
    }


def add_synthetic_sentences(target: Target, job_id: str, count: int) -> None:
    """Give the job *count* more sentences with unit embeddings (chunks from 1000 on: no real one clashes)."""
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((16, EMBEDDING_BYTES // 4)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    target.sql(
        'INSERT INTO sentences (job_id, chunk_index, position, page, start, "end", text, analysis, embedding)'
        " SELECT %s, 1000 + i / 1000, i %% 1000, 1 + i / 1000, 0, 20, 'Synthetic sentence ' || i, '{}',"
        " (%s::bytea[])[i %% 16 + 1] FROM generate_series(0, %s - 1) AS i",
        job_id,
        [psycopg2.Binary(vector.tobytes()) for vector in vectors],
        count,
    )


def search(target: Target, token: str, job_id: str, query: str) -> requests.Response:
    return requests.get(
        f"{target.api_url}/api/v1/jobs/{job_id}/search",
        params={"q": query, "k": 10},
        headers=bearer(token),
        timeout=300,
    )


def attack_search_large_job(target: Target) -> dict[str, object]:
    """One search of a job of 200,000 sentences with embeddings: peak web memory and time."""
    token, job_id = completed_job(
        target, make_pages_pdf(["The contract sets the payment terms."]), "embeddings"
    )
    # Each web process loads the model on its first search: warm them all, so the peak is the search's.
    warm = [search(target, token, job_id, f"warm up {number}").status_code for number in range(6)]
    add_synthetic_sentences(target, job_id, SEARCH_SENTENCES)
    target.reset_peaks()
    baseline = {pid: target.peak_rss_mb(pid) for pid in target.web_pids()}
    started = time.monotonic()
    reply = search(target, token, job_id, "payment terms")
    seconds = time.monotonic() - started
    growth = max(target.peak_rss_mb(pid) - rss for pid, rss in baseline.items())
    return {
        "warm_up_statuses": ", ".join(map(str, sorted(set(warm)))),
        "status": reply.status_code,
        "sentences": target.sql("SELECT count(*) FROM sentences WHERE job_id = %s", job_id)[0][0],
        "seconds": round(seconds, 2),
        "web_peak_growth_mb": round(growth, 1),
        "web_peak_rss_mb": round(max(target.peak_rss_mb(pid) for pid in target.web_pids()), 1),
    }


def attack_search_flood(target: Target) -> dict[str, object]:
    """70 searches in a row by one user."""
    token, job_id = completed_job(
        target, make_pages_pdf(["The contract sets the payment terms."]), "embeddings"
    )
    started = time.monotonic()
    statuses = [search(target, token, job_id, f"query {n}").status_code for n in range(SEARCH_FLOOD)]
    return {
        "statuses": tally(statuses),
        "seconds": round(time.monotonic() - started, 1),
    }


ATTACKS = [
    attack_csv_formulas,
    attack_metrics_random_methods,
    attack_search_flood,
    attack_search_large_job,
    attack_health_database_down,
]
