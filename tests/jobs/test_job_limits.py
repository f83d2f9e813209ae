"""A job's sentence limit holds exactly, however many of its chunks complete at once."""

from __future__ import annotations

import secrets
import threading

import pytest

from app.extensions import db
from app.jobs.processing import analyze_chunk, begin_chunk, complete_chunk, start_job
from app.jobs.uploads import create_job
from app.models import Job, Sentence, User
from app.pdf import TooMuchText


@pytest.fixture
def job_id(app_context, shared_pdfs) -> str:
    user = User(email=f"limits-{secrets.token_hex(4)}@example.com", password_hash="x")
    db.session.add(user)
    db.session.commit()
    return create_job(user.id, "tracemonkey.pdf", (shared_pdfs / "pdfjs__tracemonkey.pdf").read_bytes()).id


def stored_sentences(job_id: str) -> int:
    return db.session.scalar(db.select(db.func.count()).where(Sentence.job_id == job_id))


def test_two_chunks_completing_at_once_cannot_take_the_job_over_the_sentence_limit(app, job_id, monkeypatch):
    start_job(job_id)
    outputs = [analyze_chunk(job_id, index, *begin_chunk(job_id, index)) for index in (0, 1)]
    sizes = [len(output.sentences) for output in outputs]
    monkeypatch.setitem(app.config, "MAX_JOB_SENTENCES", sum(sizes) - 1)  # room for either chunk, not both
    both_ready = threading.Barrier(2)
    outcomes: dict[int, object] = {}

    def complete(index: int) -> None:
        with app.app_context():
            both_ready.wait()
            try:
                outcomes[index] = complete_chunk(job_id, index, outputs[index])
            except TooMuchText as error:
                outcomes[index] = error.code

    threads = [threading.Thread(target=complete, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes.values(), key=str) == [True, "too_much_text"], outcomes
    winner = next(index for index, outcome in outcomes.items() if outcome is True)
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    assert job.sentence_count == stored_sentences(job_id) == sizes[winner]
    assert job.completed_chunks == 1
    assert job.result_bytes > sum(len(s["text"]) for s in outputs[winner].sentences)


def test_a_chunk_with_no_room_left_stops_before_its_analysis(app, job_id, monkeypatch):
    start_job(job_id)
    pages = begin_chunk(job_id, 0)
    monkeypatch.setitem(app.config, "MAX_JOB_SENTENCES", 5)

    with pytest.raises(TooMuchText, match="more than 5 sentences"):
        analyze_chunk(job_id, 0, *pages)
