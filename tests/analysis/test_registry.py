"""Which analyzers a job runs, and what one failing analyzer does to the others."""

from __future__ import annotations

import pytest

from app.analysis import (
    Analyzer,
    AnalyzerError,
    ChunkAnalysis,
    SentenceInput,
    UnknownAnalysis,
    analyze_chunk_sentences,
    available_analyses,
    registry,
    resolve_analyses,
    summarize_document,
)


class Exploding(Analyzer):
    """Fails cleanly on a chunk that mentions a bomb, with a bug otherwise on 'crash'."""

    name = "exploding"

    def analyze_chunk(self, sentences):
        texts = " ".join(s.text for s in sentences)
        if "bomb" in texts:
            raise AnalyzerError("bomb_found", "This chunk holds a bomb.")
        if "crash" in texts:
            raise ZeroDivisionError("division by zero")
        return ChunkAnalysis(
            per_sentence=[len(s.text) for s in sentences], chunk={"sentences": len(sentences)}
        )

    def summarize(self, document):
        return {"sentences": sum(chunk["sentences"] for chunk in document.chunks)}


@pytest.fixture
def exploding(monkeypatch):
    monkeypatch.setitem(registry._ANALYZERS, "exploding", Exploding())
    return ["stats", "exploding"]


def no_embeddings():
    raise AssertionError("not needed")


def test_none_means_every_analyzer_and_requirements_are_added():
    assert resolve_analyses(None) == [name for name in available_analyses() if name != "sentences"]
    assert resolve_analyses(["summary"]) == ["embeddings", "summary"]
    assert resolve_analyses(["sentences"]) == []  # segmentation always runs


def test_an_unknown_analysis_is_named():
    with pytest.raises(UnknownAnalysis, match="'telepathy'"):
        resolve_analyses(["stats", "telepathy"])


@pytest.mark.parametrize(
    ("text", "code"), [("a bomb here.", "bomb_found"), ("a crash here.", "analyzer_error")]
)
def test_a_failing_analyzer_is_recorded_and_the_others_still_run(exploding, text, code):
    analysed = analyze_chunk_sentences(exploding, [SentenceInput(text, 1), SentenceInput("Fine.", 1)])
    assert analysed.failures["exploding"]["code"] == code
    assert [sorted(analysis) for analysis in analysed.per_sentence] == [["stats"], ["stats"]]
    assert "exploding" not in analysed.chunk


def test_the_document_reports_which_analyses_completed_partly_or_failed(exploding):
    chunks = [
        analyze_chunk_sentences(exploding, [SentenceInput(text, page)])
        for page, text in enumerate(["Calm words.", "A bomb.", "More calm."], start=1)
    ]
    results = [{"analyses": c.chunk, "analysis_failures": c.failures} for c in chunks]
    document, statuses = summarize_document(exploding, results, no_embeddings)
    assert statuses["stats"] == {"status": "completed"}
    assert statuses["exploding"]["status"] == "partial"
    assert statuses["exploding"]["failed_chunks"] == 1
    assert statuses["exploding"]["error"]["code"] == "bomb_found"
    assert document["exploding"] == {"sentences": 2}  # from the chunks that ran it

    all_failed = [{"analyses": {}, "analysis_failures": {"exploding": {"code": "x", "message": "y"}}}] * 2
    assert summarize_document(["exploding"], all_failed, no_embeddings)[1]["exploding"]["status"] == "failed"
