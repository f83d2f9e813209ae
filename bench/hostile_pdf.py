"""Issue 11's attacks with hostile PDFs and repeated retries: what each costs the worker and the database.

Run by bench/hostile.py (``--area pdf``) against a platform started as it ships. The
PDFs come from tests/hostile/pdfs.py (written byte by byte, never downloaded); each
attack uses only uploads, polls, retries and the database, so the same figures come
from the commit before issue 11. Peak RSS is sampled from /proc while the job runs
(VmHWM of every process of the worker's tree, the PDF sandbox's helpers included,
before they die), after the peaks are reset.
"""

from __future__ import annotations

import threading
import time

import requests

from bench.hostile_target import Target, tally
from tests.hostile import pdfs

RETRIES = 12
RETRIED_PDF_BYTES = 49 * 1024 * 1024
SAMPLE_SECONDS = 0.05


class PeakSampler:
    """Track the highest VmHWM of any process of the worker's tree while the block runs."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.peak_mb = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakSampler:
        self.target.reset_peaks()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.is_set():
            for pid in self.target.worker_pids():
                self.peak_mb = max(self.peak_mb, self.target.peak_rss_mb(pid))
            self._done.wait(SAMPLE_SECONDS)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def database_mb(target: Target) -> float:
    return target.sql("SELECT pg_database_size(current_database())")[0][0] / 1024 / 1024


def run_pdf(target: Target, pdf: bytes, timeout: float) -> dict[str, object]:
    """Upload the PDF as a new user and follow its job to the end; then check the worker still serves."""
    _, _, token, _ = target.new_user()
    size_before = database_mb(target)
    with PeakSampler(target) as peaks:
        started = time.monotonic()
        accepted = target.upload(token, pdf, "hostile.pdf", analyses="stats")
        if accepted.status_code != 202:
            return {"pdf_bytes": len(pdf), "upload_status": accepted.status_code}
        job_id = accepted.json()["job_id"]
        job = target.wait_job(token, job_id, timeout)
        seconds = time.monotonic() - started
    rows = target.sql("SELECT count(*) FROM sentences WHERE job_id = %s", job_id)[0][0]
    next_job = run_normal_job(target, token)
    return {
        "pdf_bytes": len(pdf),
        "status": job.get("status"),
        "error_code": (job.get("error") or {}).get("code"),
        "seconds": round(seconds, 1),
        "peak_worker_rss_mb": round(peaks.peak_mb),
        "sentence_rows": rows,
        "database_growth_mb": round(database_mb(target) - size_before),
        "next_job": next_job,
    }


def run_normal_job(target: Target, token: str) -> str:
    """The status of an ordinary one-page job run right after: the worker must still serve."""
    accepted = target.upload(token, pdfs.normal_page(), "normal.pdf", analyses="stats")
    if accepted.status_code != 202:
        return f"upload {accepted.status_code}"
    return str(target.wait_job(token, accepted.json()["job_id"], timeout=120).get("status"))


def attack_nested_form_xobjects(target: Target) -> dict[str, object]:
    """A 2,398-byte PDF of nested Form XObjects (each draws the next 10 times, 6 levels)."""
    return run_pdf(target, pdfs.nested_forms(), timeout=600)


def attack_flate_bomb(target: Target) -> dict[str, object]:
    """A 0.5 MB flate stream inflating to 200 MB of text operators."""
    return run_pdf(target, pdfs.flate_bomb(), timeout=600)


def attack_page_references(target: Target) -> dict[str, object]:
    """A 61 KB PDF: 10,000 page references to one page of 200 sentences."""
    return run_pdf(target, pdfs.page_references(10_000, 200), timeout=900)


def attack_retries_of_a_failed_job(target: Target) -> dict[str, object]:
    """12 retries of a failed 49 MB job."""
    _, _, token, _ = target.new_user()
    broken = b"%PDF-1.7\n" + b"\0" * (RETRIED_PDF_BYTES - 9)  # fails as corrupt_pdf, on any version
    accepted = target.upload(token, broken, "broken.pdf", analyses="stats")
    if accepted.status_code != 202:
        return {"upload_status": accepted.status_code}
    job_id = accepted.json()["job_id"]
    first = target.wait_job(token, job_id, timeout=300)
    statuses: list[int] = []
    runs = 0
    started = time.monotonic()
    for _ in range(RETRIES):
        reply = requests.post(
            f"{target.api_url}/api/v1/jobs/{job_id}/retry", headers=bearer(token), timeout=60
        )
        statuses.append(reply.status_code)
        if reply.status_code == 202:
            runs += 1
            target.wait_job(token, job_id, timeout=300)
    return {
        "pdf_mb": RETRIED_PDF_BYTES // (1024 * 1024),
        "first_run": f"{first.get('status')} {(first.get('error') or {}).get('code')}",
        "statuses": tally(statuses),
        "runs_again": runs,
        "seconds": round(time.monotonic() - started, 1),
    }


ATTACKS = [
    attack_nested_form_xobjects,
    attack_flate_bomb,
    attack_page_references,
    attack_retries_of_a_failed_job,
]
