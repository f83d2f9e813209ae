"""The analyzers by name, which of them a job runs, and running them on a chunk or a document."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from app.analysis.base import (
    AnalysisStopped,
    Analyzer,
    AnalyzerError,
    DocumentInput,
    SentenceInput,
    checkpoint,
)
from app.analysis.embeddings import EmbeddingsAnalyzer
from app.analysis.keywords import KeywordsAnalyzer
from app.analysis.language import LanguageAnalyzer
from app.analysis.pii import PiiAnalyzer
from app.analysis.sentiment import SentimentAnalyzer
from app.analysis.stats import StatsAnalyzer
from app.analysis.summary import SummaryAnalyzer

log = logging.getLogger(__name__)

# Sentence segmentation is not an analyzer: every job has it. "sentences" is accepted
# in a request for clarity and means nothing more.
ALWAYS_ON = "sentences"

_ANALYZERS: dict[str, Analyzer] = {
    analyzer.name: analyzer
    for analyzer in (
        StatsAnalyzer(),
        LanguageAnalyzer(),
        EmbeddingsAnalyzer(),
        SentimentAnalyzer(),
        PiiAnalyzer(),
        KeywordsAnalyzer(),
        SummaryAnalyzer(),
    )
}
DEFAULT_ANALYSES: tuple[str, ...] = tuple(_ANALYZERS)


class UnknownAnalysis(ValueError):
    """A job asked for an analysis that does not exist."""


def available_analyses() -> dict[str, str]:
    """Return each analysis name with what it adds."""
    return {ALWAYS_ON: "sentence segmentation with page numbers and offsets (always on)"} | {
        name: analyzer.description for name, analyzer in _ANALYZERS.items()
    }


def resolve_analyses(requested: Iterable[str] | None) -> list[str]:
    """Return the analyzers to run, with what they require, in registry order; None means the default."""
    names = set(DEFAULT_ANALYSES if requested is None else requested) - {ALWAYS_ON}
    unknown = sorted(names - set(_ANALYZERS))
    if unknown:
        raise UnknownAnalysis(
            f"Unknown analysis {', '.join(map(repr, unknown))}; choose from {', '.join(available_analyses())}."
        )
    pending = list(names)
    while pending:
        for required in _ANALYZERS[pending.pop()].requires:
            if required not in names:
                names.add(required)
                pending.append(required)
    return [name for name in _ANALYZERS if name in names]


@dataclass
class ChunkAnalyses:
    """Every analyzer's output for one chunk, merged for storage."""

    per_sentence: list[dict]  # the `analysis` JSON of each sentence
    columns: dict[str, list] = field(default_factory=dict)
    chunk: dict[str, dict | list] = field(default_factory=dict)  # name -> per-chunk figures
    failures: dict[str, dict] = field(default_factory=dict)  # name -> {"code", "message"}


def analyze_chunk_sentences(
    names: Sequence[str],
    sentences: Sequence[SentenceInput],
    stop_check: Callable[[], None] = lambda: None,
) -> ChunkAnalyses:
    """Run each named analyzer on the chunk; one that fails is recorded and the others go on.

    ``stop_check`` runs before every analyzer and between an analyzer's batches (the
    ``checkpoint``); it raises AnalysisStopped to stop the whole analysis.
    """
    merged = ChunkAnalyses(per_sentence=[{} for _ in sentences])
    token = checkpoint.set(stop_check)
    try:
        for name in names:
            stop_check()
            _run_analyzer(name, sentences, merged)
    finally:
        checkpoint.reset(token)
    return merged


def _run_analyzer(name: str, sentences: Sequence[SentenceInput], merged: ChunkAnalyses) -> None:
    """Run one analyzer and merge its output; record its failure instead of raising."""
    try:
        output = _ANALYZERS[name].analyze_chunk(sentences)
    except AnalysisStopped:
        raise
    except AnalyzerError as error:
        merged.failures[name] = {"code": error.code, "message": error.message}
        return
    except Exception as error:  # noqa: BLE001 - one analyzer's bug must not lose the chunk
        log.exception("Analyzer %s failed", name)
        merged.failures[name] = {"code": "analyzer_error", "message": f"{type(error).__name__}: {error}"}
        return
    if output.per_sentence is not None:
        for analysis, value in zip(merged.per_sentence, output.per_sentence, strict=True):
            analysis[name] = value
    merged.columns |= output.columns
    if output.chunk is not None:
        merged.chunk[name] = output.chunk


def summarize_document(
    names: Sequence[str], chunk_results: Sequence[dict], load_embeddings
) -> tuple[dict, dict[str, dict]]:
    """Return the document-level results and each analysis's status.

    An analysis is "completed" when every chunk ran it, "partial" when some chunks
    failed it, "failed" when none ran it or its document step failed.
    """
    results: dict = {}
    statuses: dict[str, dict] = {}
    for name in names:
        failed = [r for r in chunk_results if name in r.get("analysis_failures", {})]
        status: dict = {"status": "partial" if failed else "completed"}
        if failed:
            status["failed_chunks"] = len(failed)
            status["error"] = failed[0]["analysis_failures"][name]
        if len(failed) == len(chunk_results) and chunk_results:
            status["status"] = "failed"
        else:
            document = DocumentInput(
                chunks=[r["analyses"][name] for r in chunk_results if name in r.get("analyses", {})],
                load_embeddings=load_embeddings,
            )
            try:
                summary = _ANALYZERS[name].summarize(document)
            except Exception as error:  # noqa: BLE001 - the job's other results still stand
                log.exception("Document step of %s failed", name)
                summary = None
                status = {"status": "failed", "error": {"code": "analyzer_error", "message": str(error)}}
            if summary is not None:
                results[name] = summary
        statuses[name] = status
    return results, statuses
