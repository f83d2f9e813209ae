"""Sentence segmentation and the registry of per-sentence analyzers."""

from app.analysis.registry import DEFAULT_ANALYZERS, analyze_sentence, available_analyzers
from app.analysis.sentences import SentenceSpan, split_sentences

__all__ = [
    "DEFAULT_ANALYZERS",
    "SentenceSpan",
    "analyze_sentence",
    "available_analyzers",
    "split_sentences",
]
