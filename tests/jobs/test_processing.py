"""Chunk processing is idempotent and the job is finalised exactly once."""

from __future__ import annotations

import math
import secrets
from datetime import timedelta

import pytest

from app.analysis import Analyzer, AnalyzerError, ChunkAnalysis, registry
from app.extensions import db
from app.jobs.processing import analyze_chunk, begin_chunk, complete_chunk, pages_per_chunk, start_job
from app.jobs.uploads import create_job
from app.models import Chunk, Job, Sentence, User
from app.models.base import utcnow


@pytest.fixture
def job_id(app_context, shared_pdfs) -> str:
    user = User(email=f"proc-{secrets.token_hex(4)}@example.com", password_hash="x")
    db.session.add(user)
    db.session.commit()
    data = (shared_pdfs / "pdfjs__tracemonkey.pdf").read_bytes()
    return create_job(user.id, "tracemonkey.pdf", data).id


def sentence_count(job_id: str) -> int:
    return db.session.scalar(db.select(db.func.count()).where(Sentence.job_id == job_id))


def silence_heartbeat(job_id: str, index: int) -> None:
    db.session.execute(
        db.update(Chunk)
        .where(Chunk.job_id == job_id, Chunk.index == index)
        .values(heartbeat_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()


def run_chunk(job_id: str, index: int) -> bool:
    pages = begin_chunk(job_id, index)
    assert pages is not None
    return complete_chunk(job_id, index, analyze_chunk(job_id, index, *pages))


def test_a_redelivered_chunk_leaves_one_set_of_sentences(job_id):
    indexes = start_job(job_id)
    assert indexes == [0, 1, 2, 3, 4]
    assert start_job(job_id) == []  # a second message for the split job: its chunks have their own
    assert start_job(job_id, redelivered=True) == [0]  # its split task died: it takes back chunk 0

    pages = begin_chunk(job_id, 0)
    output = analyze_chunk(job_id, 0, *pages)
    # The first run seems dead (its heartbeat went silent); the redelivered run records the chunk.
    silence_heartbeat(job_id, 0)
    assert run_chunk(job_id, 0)
    assert not complete_chunk(job_id, 0, output)  # the late first run changes nothing
    assert begin_chunk(job_id, 0) is None

    after_first = sentence_count(job_id)
    assert after_first == len(output.sentences) > 0
    job = db.session.get(Job, job_id)
    assert job.completed_chunks == 1
    assert job.progress_percent == 20
    assert job.current_step == "Processed chunk 1/5"


def test_the_job_is_finalised_once_after_its_last_chunk(job_id):
    indexes = start_job(job_id)
    for index in reversed(indexes):
        assert run_chunk(job_id, index)

    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    assert job.status == "completed"
    assert job.completed_chunks == job.total_chunks == 5
    assert job.progress_percent == 100
    assert job.finished_at is not None
    assert start_job(job_id) == []
    assert begin_chunk(job_id, 4) is None


@pytest.mark.parametrize(
    ("page_count", "expected"),
    [(1, 3), (300, 3), (1000, 10), (3001, 31)],  # the suite runs with CHUNK_PAGES=3
)
def test_long_documents_get_larger_chunks_up_to_the_chunk_cap(
    app_context, app, monkeypatch, page_count, expected
):
    monkeypatch.setitem(app.config, "MAX_CHUNKS_PER_JOB", 100)
    assert pages_per_chunk(page_count) == expected
    assert math.ceil(page_count / expected) <= 100


class FailsOnPageOne(Analyzer):
    name = "fails_on_page_one"

    def analyze_chunk(self, sentences):
        if any(sentence.page == 1 for sentence in sentences):
            raise AnalyzerError("page_one", "Page one is refused.")
        return ChunkAnalysis(chunk={"ran": True})


def test_an_analyzer_failing_on_one_chunk_leaves_the_chunk_and_the_job_completed(job_id, monkeypatch):
    monkeypatch.setitem(registry._ANALYZERS, FailsOnPageOne.name, FailsOnPageOne())
    db.session.execute(db.update(Job).where(Job.id == job_id).values(analyses=["stats", FailsOnPageOne.name]))
    db.session.commit()
    for index in start_job(job_id):
        assert run_chunk(job_id, index)

    chunks = db.session.scalars(db.select(Chunk).where(Chunk.job_id == job_id).order_by(Chunk.index)).all()
    assert [(c.status, c.error_code) for c in chunks[:2]] == [
        ("completed", "analysis_failed"),
        ("completed", None),
    ]
    assert chunks[0].result["analysis_failures"][FailsOnPageOne.name]["code"] == "page_one"
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    assert job.status == "completed"
    assert job.results["analyses"]["stats"] == {"status": "completed"}
    assert job.results["analyses"][FailsOnPageOne.name]["status"] == "partial"
    first_page = db.session.scalars(
        db.select(Sentence.analysis).where(Sentence.job_id == job_id, Sentence.page == 1)
    )
    assert all("stats" in analysis for analysis in first_page)  # the chunk's other analyses were kept
