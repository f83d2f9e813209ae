"""Turn jobs and their results into the JSON the API returns."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import url_for

from app.extensions import db
from app.jobs.sentences import sentence_page
from app.models import Chunk, Job, JobStatus

TOP_KEYWORDS = 10


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
    """A job with its counts, analyses and links; once it ended, its per-chunk results too.

    Completed jobs add their summary and top keywords; completed or cancelled ones a page
    of their sentences (a cancelled job keeps what its chunks wrote before it stopped).
    While a job runs, polls get the job row and one small sum: they are frequent and must stay cheap.
    """
    detail = job_summary(job) | {"analyses": analysis_statuses(job), "links": job_links(job.id)}
    if not JobStatus(job.status).is_final:
        return detail | {"sentence_count": _written_sentence_count(job.id)}
    chunks = chunk_views(job.id)
    detail |= {
        "sentence_count": sentences_in(chunks),
        "chunks": chunks,
        "chunk_results": chunks,  # the name the results API documents; the same list
    }
    if job.status == JobStatus.COMPLETED:
        detail |= document_highlights(job.results or {})
    if job.status in (JobStatus.COMPLETED, JobStatus.CANCELLED):
        detail["sentences"] = sentence_page(job.id, sentence_offset, sentence_limit)
        detail["sentences_offset"] = sentence_offset
    return detail


def analysis_statuses(job: Job) -> dict[str, dict]:
    """Each requested analysis with its status: as the document step recorded it, else pending or not run."""
    recorded = (job.results or {}).get("analyses", {})
    unknown = {"status": "not_run" if JobStatus(job.status).is_final else "pending"}
    return {name: recorded.get(name, unknown) for name in job.analyses or []}


def document_highlights(results: dict) -> dict:
    """The summary, the top keywords and the other small document-level results of a completed job."""
    rest = {name: value for name, value in results.items() if name not in {"analyses", "summary", "keywords"}}
    return {
        "summary": results.get("summary"),
        "keywords": (results.get("keywords") or [])[:TOP_KEYWORDS],
        "document": rest,
    }


def job_links(job_id: str) -> dict[str, str]:
    """Where the rest of a job's results are."""
    this = url_for("api.jobs.get_job", job_id=job_id)
    return {
        "self": this,
        "sentences": url_for("api.results.list_sentences", job_id=job_id),
        "search": f"{this}/search",
        "export": url_for("api.results.export", job_id=job_id),
        "chunks": url_for("api.results.list_chunks", job_id=job_id),
    }


def chunk_views(job_id: str) -> list[dict]:
    """The job's chunks in page order, each with its status and result."""
    return [_chunk_view(chunk) for chunk in _chunks(job_id)]


def sentences_in(chunks: list[dict]) -> int:
    """How many sentences the completed ones of these chunk views wrote."""
    return sum(c["result"]["sentence_count"] for c in chunks if c["result"])


def _written_sentence_count(job_id: str) -> int:
    written = Chunk.result["sentence_count"].as_integer()
    return db.session.scalar(
        db.select(sa.func.coalesce(sa.func.sum(written), 0)).where(Chunk.job_id == job_id)
    )


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
