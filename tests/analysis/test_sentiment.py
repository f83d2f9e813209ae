"""VADER gets the sign of clear sentences right, and the figures add up per chunk and document."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.analysis.base import DocumentInput, SentenceInput
from app.analysis.sentiment import SentimentAnalyzer, label_for

FIXTURE = Path(__file__).parent / "fixtures" / "sentiment.tsv"


def labelled(*labels: str) -> list[tuple[str, str]]:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    return [(label, text) for label, text in rows if label in labels]


def analyze(texts: list[str]):
    return SentimentAnalyzer().analyze_chunk([SentenceInput(text, 1) for text in texts])


def no_embeddings():
    raise AssertionError("sentiment must not load embeddings")


def test_sign_of_clearly_positive_and_negative_sentences():
    rows = labelled("positive", "negative")
    assert len(rows) >= 20
    output = analyze([text for _, text in rows])
    wrong = [
        (label, got["label"], text)
        for (label, text), got in zip(rows, output.per_sentence, strict=True)
        if got["label"] != label
    ]
    assert len(wrong) <= 0.1 * len(rows), wrong


def test_factual_sentences_are_mostly_neutral():
    rows = labelled("neutral")
    labels = [result["label"] for result in analyze([text for _, text in rows]).per_sentence]
    # VADER's lexicon reads "arguments" as negative: one miss in the fixture is expected.
    assert labels.count("neutral") >= len(rows) - 1, labels


@pytest.mark.parametrize(
    ("compound", "label"),
    [(0.05, "positive"), (0.0499, "neutral"), (-0.0499, "neutral"), (-0.05, "negative")],
)
def test_labels_follow_the_standard_compound_thresholds(compound, label):
    assert label_for(compound) == label


def test_chunk_gives_each_sentence_its_scores_and_the_column():
    output = analyze(["I love this wonderful city.", "The bridge is 300 m long.", "What an awful, sad day."])
    assert output.columns == {"sentiment": ["positive", "neutral", "negative"]}
    first = output.per_sentence[0]
    assert set(first) == {"label", "compound", "pos", "neg", "neu"}
    assert first["compound"] > 0.5 and first["pos"] > first["neg"]
    assert pytest.approx(first["pos"] + first["neg"] + first["neu"], abs=0.01) == 1.0
    assert output.chunk["counts"] == {"positive": 1, "negative": 1, "neutral": 1}
    assert output.chunk["sentences"] == 3
    assert output.chunk["compound_sum"] == pytest.approx(
        sum(r["compound"] for r in output.per_sentence), abs=1e-3
    )


def test_document_aggregates_every_chunk():
    analyzer = SentimentAnalyzer()
    chunks = [
        analyzer.analyze_chunk([SentenceInput(t, 1) for _, t in labelled("positive")[:6]]).chunk,
        analyzer.analyze_chunk([SentenceInput(t, 4) for _, t in labelled("negative")[:2]]).chunk,
    ]
    summary = analyzer.summarize(DocumentInput(chunks=chunks, load_embeddings=no_embeddings))
    assert summary["counts"] == {"positive": 6, "negative": 2, "neutral": 0}
    expected_mean = (chunks[0]["compound_sum"] + chunks[1]["compound_sum"]) / 8
    assert summary["mean_compound"] == pytest.approx(expected_mean, abs=1e-3)
    assert summary["label"] == "positive"


def test_document_of_negative_chunks_is_negative_and_empty_document_is_neutral():
    analyzer = SentimentAnalyzer()
    negative = analyzer.analyze_chunk([SentenceInput(t, 1) for _, t in labelled("negative")]).chunk
    assert analyzer.summarize(DocumentInput([negative], no_embeddings))["label"] == "negative"
    empty = analyzer.analyze_chunk([]).chunk
    assert analyzer.summarize(DocumentInput([empty], no_embeddings)) == {
        "label": "neutral",
        "mean_compound": 0.0,
        "counts": {"positive": 0, "negative": 0, "neutral": 0},
    }
