"""Sentence segmentation and the analyzers that run on every chunk and document."""

from app.analysis.base import (
    AnalysisStopped,
    Analyzer,
    AnalyzerError,
    ChunkAnalysis,
    DocumentInput,
    SentenceInput,
)
from app.analysis.registry import (
    DEFAULT_ANALYSES,
    ChunkAnalyses,
    UnknownAnalysis,
    analyze_chunk_sentences,
    available_analyses,
    resolve_analyses,
    summarize_document,
)
from app.analysis.sentences import SentenceSpan, split_sentences

__all__ = [
    "DEFAULT_ANALYSES",
    "AnalysisStopped",
    "Analyzer",
    "AnalyzerError",
    "ChunkAnalyses",
    "ChunkAnalysis",
    "DocumentInput",
    "SentenceInput",
    "SentenceSpan",
    "UnknownAnalysis",
    "analyze_chunk_sentences",
    "available_analyses",
    "resolve_analyses",
    "split_sentences",
    "summarize_document",
]
