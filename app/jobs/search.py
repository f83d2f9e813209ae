"""Semantic search over a job's sentences: cosine similarity against the stored embeddings."""

from __future__ import annotations

import numpy as np

from app.analysis.embeddings import embed
from app.concurrency import run_in_thread
from app.jobs.results import load_embeddings


class NoEmbeddings(LookupError):
    """The job has no stored sentence embeddings to search."""


def rank(matrix: np.ndarray, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Return the rows most similar to the query, best first (rows and query L2-normalised)."""
    scores = matrix @ query
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    top = top[np.lexsort((top, -scores[top]))]  # best first; ties in document order
    return [(int(row), float(scores[row])) for row in top]


def search_sentences(job_id: str, query: str, k: int) -> list[dict]:
    """Return the job's *k* sentences closest in meaning to *query*, best first, with their scores."""
    matrix, sentences = load_embeddings(job_id)
    if not sentences:
        raise NoEmbeddings(f"Job {job_id} has no sentence embeddings.")
    # Loading the model (a first search) and embedding are CPU work: in a thread, not the event loop.
    query_vector = run_in_thread(embed, [query])[0]
    ranked = run_in_thread(rank, matrix, query_vector, k)
    return [{**sentences[row], "score": round(score, 4)} for row, score in ranked]
