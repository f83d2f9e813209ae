"""Read a job's stored sentences: filtered pages of them, or all of them as a stream."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import Sentence

SENTIMENTS = ("positive", "negative", "neutral")
# How many rows a streamed read fetches from the server-side cursor at a time.
STREAM_BATCH = 500

_COLUMNS = (
    Sentence.chunk_index,
    Sentence.position,
    Sentence.page,
    Sentence.start,
    Sentence.end,
    Sentence.text,
    Sentence.sentiment,
    Sentence.has_pii,
    Sentence.language,
    Sentence.analysis,
)


@dataclass(frozen=True)
class SentenceFilter:
    """Which of a job's sentences to read; None means any."""

    min_page: int | None = None
    max_page: int | None = None
    sentiment: str | None = None
    has_pii: bool | None = None
    language: str | None = None

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        found = []
        if self.min_page is not None:
            found.append(Sentence.page >= self.min_page)
        if self.max_page is not None:
            found.append(Sentence.page <= self.max_page)
        if self.sentiment is not None:
            found.append(Sentence.sentiment == self.sentiment)
        if self.has_pii is not None:
            found.append(Sentence.has_pii.is_(self.has_pii))
        if self.language is not None:
            found.append(Sentence.language == self.language)
        return found


def sentence_view(row: sa.Row) -> dict:
    """One sentence as the API returns it: place, text, the filterable columns and every analysis."""
    return {
        "chunk_index": row.chunk_index,
        "position": row.position,
        "page": row.page,
        "start": row.start,
        "end": row.end,
        "text": row.text,
        "sentiment": row.sentiment,
        "has_pii": row.has_pii,
        "language": row.language,
        "analysis": row.analysis,
    }


def _select(job_id: str, where: SentenceFilter) -> sa.Select:
    return db.select(*_COLUMNS).where(Sentence.job_id == job_id, *where.conditions())


def count_sentences(job_id: str, where: SentenceFilter = SentenceFilter()) -> int:
    """How many of the job's sentences match."""
    query = db.select(sa.func.count()).where(Sentence.job_id == job_id, *where.conditions())
    return db.session.scalar(query) or 0


def sentence_page(
    job_id: str, offset: int, limit: int, where: SentenceFilter = SentenceFilter()
) -> list[dict]:
    """A slice of the matching sentences in reading order (chunk, then position)."""
    query = (
        _select(job_id, where).order_by(Sentence.chunk_index, Sentence.position).offset(offset).limit(limit)
    )
    return [sentence_view(row) for row in db.session.execute(query)]


def stream_sentences(job_id: str) -> Iterator[dict]:
    """Every sentence of the job in reading order, fetched in batches from a server-side cursor."""
    query = (
        _select(job_id, SentenceFilter())
        .order_by(Sentence.chunk_index, Sentence.position)
        .execution_options(stream_results=True, yield_per=STREAM_BATCH)
    )
    for row in db.session.execute(query):
        yield sentence_view(row)
