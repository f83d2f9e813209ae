"""Read a job's stored analysis results back: embeddings for summaries and search."""

from __future__ import annotations

import numpy as np

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
