"""Sentiment of each sentence with VADER, and the document's overall tone."""

from __future__ import annotations

from collections.abc import Sequence

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from app.analysis.base import Analyzer, ChunkAnalysis, DocumentInput, SentenceInput

LABELS = ("positive", "negative", "neutral")
# VADER's authors' thresholds on the compound score.
THRESHOLD = 0.05

# Reading the lexicon takes ~0.1 s; do it once per worker process.
_vader = SentimentIntensityAnalyzer()


def label_for(compound: float) -> str:
    """Name the sentiment of a compound score."""
    if compound >= THRESHOLD:
        return "positive"
    if compound <= -THRESHOLD:
        return "negative"
    return "neutral"


def sentence_sentiment(text: str) -> dict:
    """Score one sentence: label, compound in [-1, 1], and the positive/negative/neutral shares."""
    scores = _vader.polarity_scores(text)
    return {
        "label": label_for(scores["compound"]),
        "compound": scores["compound"],
        "pos": scores["pos"],
        "neg": scores["neg"],
        "neu": scores["neu"],
    }


class SentimentAnalyzer(Analyzer):
    name = "sentiment"
    description = "positive, negative or neutral per sentence (VADER) and the document's overall tone"

    def analyze_chunk(self, sentences: Sequence[SentenceInput]) -> ChunkAnalysis:
        results = [sentence_sentiment(s.text) for s in sentences]
        counts = dict.fromkeys(LABELS, 0)
        for result in results:
            counts[result["label"]] += 1
        return ChunkAnalysis(
            per_sentence=results,
            columns={"sentiment": [result["label"] for result in results]},
            chunk={
                "counts": counts,
                "compound_sum": round(sum(result["compound"] for result in results), 4),
                "sentences": len(results),
            },
        )

    def summarize(self, document: DocumentInput) -> dict:
        counts = dict.fromkeys(LABELS, 0)
        for chunk in document.chunks:
            for label in LABELS:
                counts[label] += chunk["counts"][label]
        sentences = sum(chunk["sentences"] for chunk in document.chunks)
        mean = sum(chunk["compound_sum"] for chunk in document.chunks) / sentences if sentences else 0.0
        return {"label": label_for(mean), "mean_compound": round(mean, 4), "counts": counts}
