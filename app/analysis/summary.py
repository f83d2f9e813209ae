"""An extractive summary: the document's most central sentences, in document order.

A sentence's centrality is its mean cosine similarity to every sentence of the document.
With L2-normalised embeddings that is ``e_i · Σ_j e_j / N``: one matrix-vector product,
O(N·d), where the full similarity matrix would be O(N²).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.analysis.base import Analyzer, DocumentInput

SUMMARY_SENTENCES = 5
MIN_WORDS = 4  # headings, page numbers and captions make poor summary sentences


def centrality(matrix: np.ndarray) -> np.ndarray:
    """Return each row's mean cosine similarity to all rows (rows L2-normalised)."""
    return matrix @ matrix.sum(axis=0) / max(len(matrix), 1)


def central_sentences(texts: Sequence[str], matrix: np.ndarray, count: int) -> list[tuple[int, float]]:
    """Return the indexes and scores of the *count* most central sentences, in document order.

    Sentences of fewer than ``MIN_WORDS`` words are passed over unless too few others remain.
    """
    if len(texts) == 0 or count <= 0:
        return []
    scores = centrality(matrix)
    eligible = np.array([len(text.split()) >= MIN_WORDS for text in texts])
    if eligible.sum() < count:
        eligible[:] = True
    ranked = np.argsort(np.where(eligible, -scores, np.inf), kind="stable")[:count]
    return [(int(index), float(scores[index])) for index in sorted(ranked)]


class SummaryAnalyzer(Analyzer):
    name = "summary"
    requires = ("embeddings",)
    description = f"the {SUMMARY_SENTENCES} most central sentences of the document, in order, with pages"

    def summarize(self, document: DocumentInput) -> list[dict]:
        matrix, sentences = document.load_embeddings()
        picked = central_sentences([s["text"] for s in sentences], matrix, SUMMARY_SENTENCES)
        return [{**sentences[index], "score": round(score, 4)} for index, score in picked]
