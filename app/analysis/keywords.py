"""Keyphrases of each chunk with YAKE, merged into the document's keyphrases.

YAKE runs through ``yake-rust``: the reference ``yake`` package gives the same phrases
at about six times the CPU time (~130 vs ~20 ms per page on the tracemonkey paper).

YAKE scores are lower-is-better and only comparable within one text, so each chunk's
phrases are rescaled to ``best / score`` (the chunk's best phrase scores 1.0). The
document score of a phrase is the sum of its chunk scores over the number of chunks:
a phrase that is a top phrase in many chunks outranks one that tops a single chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from yake_rust import Yake

from app.analysis.base import Analyzer, AnalyzerError, ChunkAnalysis, DocumentInput, SentenceInput

CHUNK_TOP = 10
DOCUMENT_TOP = 20
_SCORE_FLOOR = 1e-12  # guards the division; YAKE scores are positive


def phrase_key(phrase: str) -> str:
    """Fold case, spacing and a plural final word, so "Trace Trees" and "trace tree" merge."""
    words = phrase.casefold().split()
    if (
        words
        and len(words[-1]) > 3
        and words[-1].endswith("s")
        and not words[-1].endswith(("ss", "us", "is"))
    ):
        words[-1] = words[-1][:-1]
    return " ".join(words)


def rescale(scored: Sequence[tuple[str, float]]) -> list[dict]:
    """Turn YAKE's (phrase, lower-is-better score) pairs into phrases scored in (0, 1], best first."""
    if not scored:
        return []
    ranked = sorted(scored, key=lambda pair: pair[1])
    best = max(ranked[0][1], _SCORE_FLOOR)
    return [
        {"phrase": phrase, "score": round(best / max(score, _SCORE_FLOOR), 4)} for phrase, score in ranked
    ]


def merge_keyphrases(chunks: Sequence[Sequence[dict]], top: int = DOCUMENT_TOP) -> list[dict]:
    """Merge chunks' keyphrases by ``phrase_key``; phrases recurring across chunks rank higher."""
    totals: dict[str, float] = {}
    surface: dict[str, tuple[float, str]] = {}  # the spelling of a phrase's best occurrence
    for phrases in chunks:
        in_chunk: dict[str, float] = {}  # a chunk counts once per phrase, with its best variant
        for item in phrases:
            key = phrase_key(item["phrase"])
            in_chunk[key] = max(in_chunk.get(key, 0.0), item["score"])
            if item["score"] > surface.get(key, (-1.0, ""))[0]:
                surface[key] = (item["score"], item["phrase"])
        for key, score in in_chunk.items():
            totals[key] = totals.get(key, 0.0) + score
    count = max(len(chunks), 1)
    ranked = sorted(totals.items(), key=lambda pair: (-pair[1], pair[0]))[:top]
    return [{"phrase": surface[key][1], "score": round(total / count, 4)} for key, total in ranked]


class KeywordsAnalyzer(Analyzer):
    name = "keywords"
    description = "keyphrases of each chunk and of the document (YAKE)"

    def __init__(self, language: str = "en") -> None:
        self.language = language  # YAKE's stopword list; "en" unless a caller knows better

    @cached_property
    def _yake(self) -> Yake:
        # n-grams up to 3 keep phrases like "nested trace trees"; 0.9 is YAKE's own
        # dedup threshold and costs little next to candidate building.
        return Yake(language=self.language, ngrams=3, window_size=1, deduplication_threshold=0.9)

    def keyphrases(self, text: str) -> list[dict]:
        """Return the text's top keyphrases, best first."""
        if not text.strip():
            return []
        try:
            scored = self._yake.get_n_best(text, n=CHUNK_TOP)
        except BaseException as error:
            # A Rust panic arrives as pyo3's PanicException, a BaseException: keep it to this analyzer.
            if type(error).__name__ != "PanicException":
                raise
            raise AnalyzerError("keywords_failed", f"YAKE could not process the text: {error}") from error
        return rescale(scored)

    def analyze_chunk(self, sentences: Sequence[SentenceInput]) -> ChunkAnalysis:
        return ChunkAnalysis(chunk=self.keyphrases(" ".join(s.text for s in sentences)))

    def summarize(self, document: DocumentInput) -> list:
        return merge_keyphrases(document.chunks)
