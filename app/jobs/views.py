"""Turn jobs and their results into the JSON the API returns."""

from __future__ import annotations

from datetime import datetime

from app.extensions import db
from app.models import Chunk, Job, JobStatus, Sentence


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def job_summary(job: Job) -> dict:
    """The fields of a job that listing and polling need."""
    error = {"code": job.error_code, "message": job.error_message} if job.error_code else None
    return {
        "job_id": job.id,
        "status": job.status,
        "progress_percent": job.progress_percent,
        "current_step": job.current_step,
        "filename": job.filename,
        "size_bytes": job.size_bytes,
        "sha256": job.sha256,
        "page_count": job.page_count,
        "total_chunks": job.total_chunks,
        "completed_chunks": job.completed_chunks,
        "error": error,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "updated_at": _iso(job.updated_at),
    }


def job_detail(job: Job, sentence_offset: int, sentence_limit: int) -> dict:
    """A job; once it ended, its per-chunk results and, if completed or cancelled, a page of its sentences.

    While a job runs, polls get the job row alone: they are frequent and must stay cheap.
    A cancelled job keeps the sentences its chunks wrote before it stopped.
    """
    detail = job_summary(job)
    if not JobStatus(job.status).is_final:
        return detail
    detail["chunks"] = [_chunk_view(chunk) for chunk in _chunks(job.id)]
    if job.status in (JobStatus.COMPLETED, JobStatus.CANCELLED):
        detail["sentences"] = _sentences(job.id, sentence_offset, sentence_limit)
        detail["sentence_count"] = sum(c["result"]["sentence_count"] for c in detail["chunks"] if c["result"])
        detail["sentences_offset"] = sentence_offset
    return detail


def _chunks(job_id: str) -> list[Chunk]:
    return list(db.session.scalars(db.select(Chunk).where(Chunk.job_id == job_id).order_by(Chunk.index)))


def _chunk_view(chunk: Chunk) -> dict:
    return {
        "index": chunk.index,
        "pages": [chunk.first_page, chunk.last_page],
        "status": chunk.status,
        "attempts": chunk.attempts,
        "result": chunk.result,
        "error_code": chunk.error_code,
    }


def _sentences(job_id: str, offset: int, limit: int) -> list[dict]:
    rows = db.session.execute(
        db.select(Sentence.page, Sentence.start, Sentence.end, Sentence.text, Sentence.analysis)
        .where(Sentence.job_id == job_id)
        .order_by(Sentence.chunk_index, Sentence.position)
        .offset(offset)
        .limit(limit)
    )
    return [
        {"page": page, "start": start, "end": end, "text": text, "analysis": analysis}
        for page, start, end, text, analysis in rows
    ]
