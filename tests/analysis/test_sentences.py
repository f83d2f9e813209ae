"""Sentence segmentation keeps offsets and avoids the usual false breaks."""

from __future__ import annotations

import pytest

from app.analysis import split_sentences
from app.analysis.stats import sentence_stats


def texts(page: str) -> list[str]:
    return [span.text for span in split_sentences(page)]


def test_offsets_point_into_the_page_text():
    page = "  First one here.  Second one!\nThird?"
    spans = split_sentences(page)
    assert [page[s.start : s.end] for s in spans] == ["First one here.", "Second one!", "Third?"]


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("Dr. Smith paid $3.50 today. He left.", ["Dr. Smith paid $3.50 today.", "He left."]),
        ("See e.g. the appendix. Done.", ["See e.g. the appendix.", "Done."]),
        ("J. R. Tolkien wrote it. Yes.", ["J. R. Tolkien wrote it.", "Yes."]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("Title line\n\nBody text here.", ["Title line", "Body text here."]),
        ("A hyphen-\nated word. Next.", ["A hyphenated word.", "Next."]),
        ("みんなです。すべて！", ["みんなです。", "すべて！"]),
        ("", []),
        ("   \n\n  ", []),
    ],
)
def test_sentences_are_split_where_a_reader_would(page, expected):
    assert texts(page) == expected


def test_stats_analyzer_counts_words_and_characters():
    result = sentence_stats("Hello World 42.")
    assert result["words"] == 3
    assert result["chars"] == 15
    assert result["digit_ratio"] == round(2 / 15, 3)
    assert result["upper_ratio"] == round(2 / 10, 3)
