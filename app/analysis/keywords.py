"""Keyphrases of each chunk with YAKE, merged into the document's keyphrases.

YAKE scores are lower-is-better and only comparable within one text, so each chunk's
phrases are rescaled to ``best / score`` (the chunk's best phrase scores 1.0). The
document score of a phrase is the sum of its chunk scores over the number of chunks:
a phrase that is a top phrase in many chunks outranks one that tops a single chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from app.analysis.base import Analyzer, ChunkAnalysis, DocumentInput, SentenceInput

CHUNK_TOP = 10
DOCUMENT_TOP = 20
# YAKE has no score of exactly zero in practice; the floor only guards the division.
_SCORE_FLOOR = 1e-12


def _phrase_key(phrase: str) -> str:
    return " ".join(phrase.casefold().split())


def rescale(scored: Sequence[tuple[str, float]]) -> list[dict]:
    """Turn YAKE's (phrase, lower-is-better score) pairs into phrases scored in (0, 1], best first."""
    if not scored:
        return []
    best = max(min(score for _, score in scored), _SCORE_FLOOR)
    ranked = sorted(scored, key=lambda pair: pair[1])
    return [
        {"phrase": phrase, "score": round(best / max(score, _SCORE_FLOOR), 4)} for phrase, score in ranked
    ]


def merge_keyphrases(chunks: Sequence[Sequence[dict]], top: int = DOCUMENT_TOP) -> list[dict]:
    """Merge chunks' keyphrases case-insensitively; phrases recurring across chunks rank higher."""
    totals: dict[str, float] = {}
    surface: dict[str, tuple[float, str]] = {}  # the spelling of a phrase's best occurrence
    for phrases in chunks:
        for item in phrases:
            key = _phrase_key(item["phrase"])
            totals[key] = totals.get(key, 0.0) + item["score"]
            if item["score"] > surface.get(key, (-1.0, ""))[0]:
                surface[key] = (item["score"], item["phrase"])
    count = max(len(chunks), 1)
    ranked = sorted(totals.items(), key=lambda pair: (-pair[1], pair[0]))[:top]
    return [{"phrase": surface[key][1], "score": round(total / count, 4)} for key, total in ranked]


class KeywordsAnalyzer(Analyzer):
    name = "keywords"
    description = "keyphrases of each chunk and of the document (YAKE)"

    def __init__(self, language: str = "en") -> None:
        self.language = language

    @cached_property
    def _extractor(self):
        # Imported on first use so the web process, which only validates analysis
        # names, never loads YAKE and networkx.
        import yake

        # n=3 keeps phrases like "nested trace trees"; the dedup threshold costs
        # little next to YAKE's candidate building, which dominates.
        return yake.KeywordExtractor(lan=self.language, n=3, dedup_lim=0.9, window_size=1, top=CHUNK_TOP)

    def keyphrases(self, text: str) -> list[dict]:
        """Return the text's top keyphrases, best first."""
        return rescale(self._extractor.extract_keywords(text) if text.strip() else [])

    def analyze_chunk(self, sentences: Sequence[SentenceInput]) -> ChunkAnalysis:
        return ChunkAnalysis(chunk=self.keyphrases(" ".join(s.text for s in sentences)))

    def summarize(self, document: DocumentInput) -> list:
        return merge_keyphrases(document.chunks)
