"""Run a job: split it into chunks, process each chunk, finalise the job exactly once.

Each step is a short transaction through ``safe_commit``; no transaction stays open
while a PDF is read.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from contextlib import closing
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.analysis import (
    AnalysisStopped,
    SentenceInput,
    analyze_chunk_sentences,
    split_sentences,
    summarize_document,
)
from app.database import safe_commit
from app.extensions import db
from app.jobs.heartbeat import Heartbeat
from app.jobs.open_documents import document_for
from app.jobs.results import load_embeddings
from app.jobs.sentence_writer import insert_sentences
from app.models import Chunk, ChunkStatus, Job, JobStatus
from app.models.base import utcnow
from app.pdf import PdfError, TooMuchText, chunk_page_ranges

log = logging.getLogger(__name__)


class ChunkOutput(NamedTuple):
    sentences: list[dict]
    summary: dict


def start_job(job_id: str, redelivered: bool = False) -> list[int]:
    """Split a queued job into chunk rows and return the indexes to run, the first inline.

    The split counts as an attempt before the PDF is opened, so a PDF that kills its
    process while being split fails its job after MAX_CHUNK_ATTEMPTS deaths. A job
    message for a job already split comes back only when the run that held it ended
    early (*redelivered*: its worker died or shut down while running the first chunk
    inline), and takes that chunk back; the other chunks have messages of their own.
    """
    job = db.session.get(Job, job_id)
    if job is None or JobStatus(job.status).is_final:
        return []
    if job.status == JobStatus.PROCESSING:
        return [0] if redelivered else []
    if not begin_split(job_id, redelivered):
        return []
    try:
        with Heartbeat(job_id, None, current_app.config["HEARTBEAT_SECONDS"]):
            document = document_for(job_id)
            db.session.rollback()  # no transaction stays open while pdfium reads
            page_count = document.page_count(current_app.config["MAX_PAGES"])
    except PdfError as error:
        fail_job(job_id, error.code, str(error))
        return []
    ranges = chunk_page_ranges(page_count, pages_per_chunk(page_count))

    def split() -> list[int]:
        job = locked_job(job_id)
        if job is None or job.status not in (JobStatus.PENDING, JobStatus.QUEUED):
            return []
        job.page_count = page_count
        job.total_chunks = len(ranges)
        job.status = JobStatus.PROCESSING
        job.started_at = utcnow()
        job.heartbeat_at = None
        job.current_step = f"Split {page_count} pages into {len(ranges)} chunks"
        now = utcnow()
        db.session.add_all(
            Chunk(job_id=job_id, index=index, first_page=first, last_page=last, heartbeat_at=now)
            for index, (first, last) in enumerate(ranges)
        )
        return list(range(len(ranges)))

    return safe_commit(split)


def begin_split(job_id: str, redelivered: bool) -> bool:
    """Count a split attempt of a waiting job; False if another run splits it or attempts ran out.

    Like begin_chunk: a split whose beat is fresh belongs to a live run, unless this
    message was redelivered (the run that held it has ended).
    """
    config = current_app.config
    now = utcnow()
    max_attempts = config["MAX_CHUNK_ATTEMPTS"]
    # A pending job's message can arrive too: its publish timed out but reached the broker.
    this_job = (Job.id == job_id, Job.status.in_((JobStatus.PENDING, JobStatus.QUEUED)))
    not_splitting = db.or_(
        Job.heartbeat_at.is_(None),
        Job.heartbeat_at < now - timedelta(seconds=config["STALE_CHUNK_SECONDS"]),
        db.literal(redelivered),
    )
    statement = (
        db.update(Job)
        .where(*this_job, not_splitting, Job.attempts < max_attempts)
        .values(attempts=Job.attempts + 1, heartbeat_at=now, current_step="Splitting the PDF")
    )
    if safe_commit(lambda: db.session.execute(statement).rowcount):
        return True
    attempts = db.session.scalar(
        db.select(Job.attempts).where(*this_job, not_splitting, Job.attempts >= max_attempts)
    )
    if attempts is not None:
        fail_job(job_id, "worker_lost", split_attempts_message(attempts))
    return False


def split_attempts_message(attempts: int) -> str:
    return (
        f"Splitting the PDF stopped its worker {attempts} times "
        "(a crash, running out of memory or a restart); giving up on this document."
    )


def pages_per_chunk(page_count: int) -> int:
    """CHUNK_PAGES, grown for very long documents so a job has at most MAX_CHUNKS_PER_JOB chunks.

    Every chunk costs a task, two commits and a queue round trip; past a hundred or so
    chunks that overhead buys no more parallelism, only more work.
    """
    config = current_app.config
    return max(config["CHUNK_PAGES"], math.ceil(page_count / config["MAX_CHUNKS_PER_JOB"]))


def begin_chunk(job_id: str, index: int, redelivered: bool = False) -> tuple[int, int] | None:
    """Mark a chunk running and count the attempt; None when there is nothing to do.

    The attempt is committed before any work, so a PDF that kills its process is
    retried at most MAX_CHUNK_ATTEMPTS times and then fails its job. A chunk that is
    running with a fresh heartbeat is left to its worker, so a second message for it
    (republished by maintenance) does not start it twice; but a *redelivered* message
    comes back only once the run that held it ended (process died, worker shut down),
    so it takes the chunk over at once.
    """
    config = current_app.config
    max_attempts = config["MAX_CHUNK_ATTEMPTS"]
    now = utcnow()
    this_chunk = (Chunk.job_id == job_id, Chunk.index == index, Chunk.status != ChunkStatus.COMPLETED)
    not_running = db.or_(
        Chunk.status != ChunkStatus.RUNNING,
        Chunk.heartbeat_at < now - timedelta(seconds=config["STALE_CHUNK_SECONDS"]),
        db.literal(redelivered),
    )
    job_running = db.exists().where(Job.id == job_id, Job.status == JobStatus.PROCESSING)
    statement = (
        db.update(Chunk)
        .where(*this_chunk, not_running, Chunk.attempts < max_attempts, job_running)
        .values(status=ChunkStatus.RUNNING, attempts=Chunk.attempts + 1, started_at=now, heartbeat_at=now)
        .returning(Chunk.first_page, Chunk.last_page)
    )
    pages = safe_commit(lambda: db.session.execute(statement).one_or_none())
    if pages is not None:
        return tuple(pages)
    exhausted = db.session.scalars(
        db.select(Chunk).where(*this_chunk, not_running, Chunk.attempts >= max_attempts, job_running)
    ).one_or_none()
    if exhausted is not None:
        fail_job(job_id, "worker_lost", attempts_exhausted_message(exhausted), index)
    return None


def attempts_exhausted_message(chunk: Chunk) -> str:
    return (
        f"Pages {chunk.first_page}-{chunk.last_page} stopped their worker {chunk.attempts} times "
        "(a crash, running out of memory or a restart); giving up on this document."
    )


class ChunkStopped(AnalysisStopped):
    """The chunk's job ended (cancelled, failed or deleted) while the chunk ran."""


def release_chunk(job_id: str, index: int) -> None:
    """Put a chunk that stopped early back to pending, with nothing written.

    The job's ``updated_at`` moves too: an ended job's detail lists its chunks' statuses,
    and pollers holding its ETag (app/api/polling.py) must see the change. Job first,
    the lock order fail_job uses.
    """
    touch = db.update(Job).where(Job.id == job_id).values(updated_at=utcnow())
    statement = (
        db.update(Chunk)
        .where(Chunk.job_id == job_id, Chunk.index == index, Chunk.status == ChunkStatus.RUNNING)
        .values(status=ChunkStatus.PENDING)
    )

    def apply() -> None:
        db.session.execute(touch)
        if db.session.execute(statement).rowcount == 0:
            db.session.rollback()

    db.session.rollback()
    safe_commit(apply)


def stop_chunk(job_id: str, index: int) -> None:
    """Mark a running chunk cancelled because its job has ended; what it wrote before stays."""
    job_live = db.exists().where(Job.id == job_id, Job.status == JobStatus.PROCESSING)
    statement = (
        db.update(Chunk)
        .where(Chunk.job_id == job_id, Chunk.index == index, Chunk.status == ChunkStatus.RUNNING, ~job_live)
        .values(status=ChunkStatus.CANCELLED, finished_at=utcnow())
    )
    touch = db.update(Job).where(Job.id == job_id).values(updated_at=utcnow())  # pollers' ETags

    def apply() -> None:
        if db.session.execute(statement).rowcount:
            db.session.execute(touch)

    db.session.rollback()
    safe_commit(apply)


def analyze_chunk(
    job_id: str, index: int, first_page: int, last_page: int, should_stop: Callable[[], bool] = lambda: False
) -> ChunkOutput:
    """Extract, split and analyse the chunk's pages; touches no database rows.

    ``should_stop`` is asked at every page and between analysis batches; when it says yes, ChunkStopped.
    A page over MAX_PAGE_CHARS, or more sentences than the job has room for, raises TooMuchText
    before any analysis runs (complete_chunk enforces the job's total exactly).
    """
    config = current_app.config
    document = document_for(job_id)
    job = db.session.execute(
        db.select(Job.analyses, Job.sentence_count).where(Job.id == job_id)
    ).one_or_none()
    db.session.rollback()
    if job is None:
        raise ChunkStopped(f"Job {job_id} was deleted.")
    analyses, sentences_so_far = job
    room = config["MAX_JOB_SENTENCES"] - sentences_so_far
    sentences: list[dict] = []
    empty_pages = []
    chars = 0
    with closing(document.page_texts(first_page, last_page, config["MAX_PAGE_CHARS"])) as pages:
        for page, text in pages:
            if should_stop():
                raise ChunkStopped(f"Job {job_id} stopped at page {page}.")
            chars += len(text)
            spans = split_sentences(text)
            if not spans:
                empty_pages.append(page)
            if len(sentences) + len(spans) > room:
                raise too_many_sentences(config["MAX_JOB_SENTENCES"])
            for span in spans:
                sentences.append(
                    {
                        "job_id": job_id,
                        "chunk_index": index,
                        "position": len(sentences),
                        "page": page,
                        "start": span.start,
                        "end": span.end,
                        "text": span.text,
                    }
                )

    def stop_if_asked() -> None:
        if should_stop():
            raise ChunkStopped(f"Job {job_id} stopped during its analysis.")

    inputs = [SentenceInput(s["text"], s["page"]) for s in sentences]
    analysed = analyze_chunk_sentences(analyses or [], inputs, stop_check=stop_if_asked)
    for position, sentence in enumerate(sentences):
        sentence["analysis"] = analysed.per_sentence[position]
        for column, values in analysed.columns.items():
            sentence[column] = values[position]
    summary = {
        "sentence_count": len(sentences),
        "char_count": chars,
        "empty_pages": empty_pages,
        "analyses": analysed.chunk,
    }
    if analysed.failures:
        summary["analysis_failures"] = analysed.failures
    return ChunkOutput(sentences, summary)


def too_many_sentences(limit: int) -> TooMuchText:
    return TooMuchText(
        f"The document has more than {limit:,} sentences, the most one job may store; split it into smaller PDFs."
    )


def complete_chunk(job_id: str, index: int, output: ChunkOutput) -> bool:
    """Record the chunk's sentences, count it done and finalise the job after the last one.

    Sentences are written only in the transaction that flips the chunk to completed,
    so a chunk that runs twice cannot write them twice. Returns False when another run
    of the same chunk got there first or the job stopped meanwhile; raises TooMuchText,
    with nothing written, when the sentences would take the job over MAX_JOB_SENTENCES.
    """

    def apply() -> bool:
        done = db.session.execute(
            db.update(Chunk)
            .where(Chunk.job_id == job_id, Chunk.index == index, Chunk.status != ChunkStatus.COMPLETED)
            .values(
                status=ChunkStatus.COMPLETED,
                result=output.summary,
                finished_at=utcnow(),
                # The chunk's text is stored; the code says some of its analyses are missing.
                error_code="analysis_failed" if "analysis_failures" in output.summary else None,
            )
        )
        if done.rowcount == 0:
            db.session.rollback()
            return False
        stored = insert_sentences(output.sentences) + len(json.dumps(output.summary))
        return _count_chunk_done(job_id, len(output.sentences), stored)

    try:
        return safe_commit(apply)
    except IntegrityError:
        # The job was deleted while the chunk ran: its sentences have nothing to belong to.
        db.session.rollback()
        return False


def _count_chunk_done(job_id: str, sentences: int, stored_bytes: int) -> bool:
    """Advance the job's counters; the row lock it takes serialises finalisation and makes the
    sentence count exact however many chunks complete at once."""
    counted = db.session.execute(
        db.update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.PROCESSING)
        .values(
            completed_chunks=Job.completed_chunks + 1,
            sentence_count=Job.sentence_count + sentences,
            result_bytes=Job.result_bytes + stored_bytes,
        )
        .returning(Job.completed_chunks, Job.total_chunks, Job.sentence_count)
    ).one_or_none()
    if counted is None:
        db.session.rollback()
        return False
    completed, total, sentence_count = counted
    limit = current_app.config["MAX_JOB_SENTENCES"]
    if sentence_count > limit:
        db.session.rollback()
        raise too_many_sentences(limit)
    values: dict = {
        "progress_percent": completed * 100 // total,
        "current_step": f"Processed chunk {completed}/{total}",
    }
    if completed == total:
        values |= {
            "status": JobStatus.COMPLETED,
            "current_step": "Completed",
            "finished_at": utcnow(),
            "results": document_results(job_id),
        }
    db.session.execute(db.update(Job).where(Job.id == job_id).values(**values))
    return True


def document_results(job_id: str) -> dict:
    """Run the document-level step of the job's analyses over its chunks' figures."""
    analyses = db.session.scalar(db.select(Job.analyses).where(Job.id == job_id)) or []
    chunk_results = list(
        db.session.scalars(db.select(Chunk.result).where(Chunk.job_id == job_id).order_by(Chunk.index))
    )
    results, statuses = summarize_document(analyses, chunk_results, lambda: load_embeddings(job_id))
    return {"analyses": statuses} | results


def fail_job(job_id: str, code: str, message: str, chunk_index: int | None = None) -> bool:
    """Record a job's failure (and its chunk's) unless the job has already ended."""

    def apply() -> bool:
        job = locked_job(job_id)
        if job is None or JobStatus(job.status).is_final:
            return False
        if chunk_index is not None and (chunk := _get_chunk(job_id, chunk_index)) is not None:
            chunk.status = ChunkStatus.FAILED
            chunk.error_code = code
            chunk.finished_at = utcnow()
        job.fail(code, message)
        return True

    db.session.rollback()
    failed = safe_commit(apply)
    if failed:
        log.warning("Job %s failed (%s): %s", job_id, code, message)
    return failed


def locked_job(job_id: str) -> Job | None:
    """Load a job fresh and lock its row, so a concurrent cancel cannot be overwritten."""
    return db.session.get(Job, job_id, with_for_update=True, populate_existing=True)


def _get_chunk(job_id: str, index: int) -> Chunk | None:
    return db.session.execute(
        db.select(Chunk).where(Chunk.job_id == job_id, Chunk.index == index)
    ).scalar_one_or_none()
