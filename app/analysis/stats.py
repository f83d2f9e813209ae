"""Language-independent statistics of each sentence."""

from __future__ import annotations

from collections.abc import Sequence

from app.analysis.base import Analyzer, ChunkAnalysis, SentenceInput


def sentence_stats(text: str) -> dict:
    """Count words and characters and measure the share of letters, digits and capitals."""
    words = text.split()
    letters = sum(ch.isalpha() for ch in text)
    return {
        "words": len(words),
        "chars": len(text),
        "avg_word_length": round(sum(map(len, words)) / len(words), 2) if words else 0.0,
        "letter_ratio": round(letters / len(text), 3) if text else 0.0,
        "digit_ratio": round(sum(ch.isdigit() for ch in text) / len(text), 3) if text else 0.0,
        "upper_ratio": round(sum(ch.isupper() for ch in text) / letters, 3) if letters else 0.0,
    }


class StatsAnalyzer(Analyzer):
    name = "stats"
    description = "words, characters and the share of letters, digits and capitals per sentence"

    def analyze_chunk(self, sentences: Sequence[SentenceInput]) -> ChunkAnalysis:
        return ChunkAnalysis(per_sentence=[sentence_stats(s.text) for s in sentences])
