"""Read a job's stored analysis results back: embeddings for summaries and search."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import sqlalchemy as sa

from app.extensions import db
from app.models import Sentence

EMBEDDING_DTYPE = np.float32


def load_embeddings(job_id: str) -> tuple[np.ndarray, list[dict]]:
    """Return the job's sentence embeddings as one matrix, and each row's sentence."""
    rows = db.session.execute(
        db.select(Sentence.chunk_index, Sentence.position, Sentence.page, Sentence.text, Sentence.embedding)
        .where(Sentence.job_id == job_id, Sentence.embedding.is_not(None))
        .order_by(Sentence.chunk_index, Sentence.position)
    ).all()
    sentences = [
        {"chunk_index": chunk_index, "position": position, "page": page, "text": text}
        for chunk_index, position, page, text, _ in rows
    ]
    if not rows:
        return np.zeros((0, 0), dtype=EMBEDDING_DTYPE), sentences
    matrix = np.frombuffer(b"".join(row.embedding for row in rows), dtype=EMBEDDING_DTYPE)
    return matrix.reshape(len(rows), -1), sentences


def embedding_batches(job_id: str, rows: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield the job's embeddings in reading order, *rows* at a time: their places and their vectors.

    A place is a (chunk_index, position) pair; the rows come from a server-side cursor,
    so only one batch is in memory at a time.
    """
    query = (
        db.select(Sentence.chunk_index, Sentence.position, Sentence.embedding)
        .where(Sentence.job_id == job_id, Sentence.embedding.is_not(None))
        .order_by(Sentence.chunk_index, Sentence.position)
        .execution_options(stream_results=True, yield_per=rows)
    )
    for batch in db.session.execute(query).partitions():
        places = np.array([(row.chunk_index, row.position) for row in batch], dtype=np.int64)
        vectors = np.frombuffer(b"".join(row.embedding for row in batch), dtype=EMBEDDING_DTYPE)
        yield places, vectors.reshape(len(batch), -1)


def sentences_at(job_id: str, places: list[tuple[int, int]]) -> dict[tuple[int, int], dict]:
    """Return the job's sentences at the given (chunk_index, position) places, by place."""
    if not places:
        return {}
    rows = db.session.execute(
        db.select(Sentence.chunk_index, Sentence.position, Sentence.page, Sentence.text).where(
            Sentence.job_id == job_id, sa.tuple_(Sentence.chunk_index, Sentence.position).in_(places)
        )
    )
    return {
        (row.chunk_index, row.position): {
            "chunk_index": row.chunk_index,
            "position": row.position,
            "page": row.page,
            "text": row.text,
        }
        for row in rows
    }
