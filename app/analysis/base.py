"""What an analyzer is: per-chunk work in the worker, then an optional document-level step.

An analyzer sees a chunk's sentences at once (so models can batch), returns one value
per sentence, optional values for indexed sentence columns, and per-chunk figures. When
the last chunk of a job is done, ``summarize`` turns every chunk's figures (and, if it
needs them, the stored embeddings) into the document-level result. Neither step touches
the database itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import numpy as np


class SentenceInput(NamedTuple):
    text: str
    page: int  # 1-based


@dataclass
class ChunkAnalysis:
    """What one analyzer made of one chunk."""

    per_sentence: list | None = None  # one JSON value per sentence, kept in its `analysis` under the name
    columns: dict[str, list] = field(default_factory=dict)  # sentence column -> one value per sentence
    chunk: dict | list | None = None  # per-chunk figures for `summarize`, shown in the chunk's results


@dataclass
class DocumentInput:
    """What a document-level step may read; embeddings are loaded only when asked for."""

    chunks: list[dict]  # each chunk's figures from this analyzer, in page order (missing chunks left out)
    load_embeddings: Callable[[], tuple[np.ndarray, list[dict]]]  # matrix, and each row's sentence


class AnalyzerError(Exception):
    """An analyzer could not analyse a chunk; the chunk's other analyzers still run."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class AnalysisStopped(Exception):
    """The caller asked the analysis to stop (its job ended); not an analyzer's failure."""


# The running chunk's stop check; raises AnalysisStopped when the chunk should stop.
# Set around a chunk's analysis (registry.analyze_chunk_sentences); an analyzer that works
# in batches calls it between them, so a cancelled job stops within one batch.
checkpoint: ContextVar[Callable[[], None]] = ContextVar("checkpoint", default=lambda: None)


class Analyzer:
    """Base class: override ``analyze_chunk`` and/or ``summarize``."""

    name: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()  # analyzers whose output this one reads
    description: ClassVar[str] = ""

    def analyze_chunk(self, sentences: Sequence[SentenceInput]) -> ChunkAnalysis:
        return ChunkAnalysis()

    def summarize(self, document: DocumentInput) -> dict | list | None:
        return None
