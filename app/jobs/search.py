"""Semantic search over a job's sentences: cosine similarity against the stored embeddings.

The embeddings are read and scored in batches of ``SEARCH_BATCH_ROWS`` while a running
top k is kept, so a search holds a few megabytes whatever the job's size (a job may
have 200,000 sentences: 300 MB of vectors, if read at once); only the k winners' texts
are read at the end.
"""

from __future__ import annotations

from contextlib import closing
from itertools import chain

import numpy as np

from app.analysis.embeddings import embed
from app.concurrency import run_in_thread
from app.jobs.results import embedding_batches, sentences_at

SEARCH_BATCH_ROWS = 1024  # 1.5 MB of 384-dimension vectors; a search peaks at about 8 MB


class NoEmbeddings(LookupError):
    """The job has no stored sentence embeddings to search."""


class RunningTopK:
    """The k best-scoring rows seen so far, best first; ties keep reading order."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.seen = 0
        self.scores = np.zeros(0, dtype=np.float32)
        self.places = np.zeros((0, 2), dtype=np.int64)  # (chunk_index, position)
        self.order = np.zeros(0, dtype=np.int64)  # reading-order rank of each kept row

    def add(self, places: np.ndarray, scores: np.ndarray) -> None:
        """Score the next rows in reading order against the ones kept."""
        order = np.arange(self.seen, self.seen + len(scores))
        self.seen += len(scores)
        scores = np.concatenate([self.scores, scores])
        places = np.concatenate([self.places, places])
        order = np.concatenate([self.order, order])
        keep = np.lexsort((order, -scores))[: self.k]
        self.scores, self.places, self.order = scores[keep], places[keep], order[keep]

    def best(self) -> list[tuple[tuple[int, int], float]]:
        """Each kept row's place and score, best first."""
        return [((int(c), int(p)), float(s)) for (c, p), s in zip(self.places, self.scores, strict=True)]


def search_sentences(job_id: str, query: str, k: int) -> list[dict]:
    """Return the job's *k* sentences closest in meaning to *query*, best first, with their scores."""
    top = RunningTopK(k)
    with closing(embedding_batches(job_id, SEARCH_BATCH_ROWS)) as batches:
        first = next(batches, None)
        if first is None:
            raise NoEmbeddings(f"Job {job_id} has no sentence embeddings.")
        # Loading the model (a first search) and embedding are CPU work: in a thread, not the event loop.
        query_vector = run_in_thread(embed, [query])[0]
        for places, vectors in chain([first], batches):
            top.add(places, vectors @ query_vector)
    best = top.best()
    sentences = sentences_at(job_id, [place for place, _ in best])
    return [{**sentences[place], "score": round(score, 4)} for place, score in best]
