"""Sentence segmentation keeps offsets and beats a naive regex on tricky and real text."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from app.analysis import split_sentences
from app.analysis.stats import sentence_stats
from app.pdf.reader import extract_page_texts, open_pdf

FIXTURE = json.loads(
    (Path(__file__).parent / "fixtures" / "sentence_boundaries.json").read_text(encoding="utf-8")
)
NAIVE_SEPARATOR = re.compile(r"(?<=[.!?])\s+")  # re.split(r'(?<=[.!?])\s+', text)
# Abbreviations that the shared PDFs use mid-sentence ("Gal et al. (11)", "Prof. Dr.
# Herrlich", "(vgl. Abbildung 1.4)", "Pub. L. No. 105-304, 112 Stat. 2860"); a break
# right after one is a false break.
MID_SENTENCE = re.compile(
    r"(?<![\w.])(?:et al|i\.e|e\.g|vs|cf|Prof|Dr|Mr|vgl|bzw|z\.B|Pub|Pub\. L|Fig|No(?=\.\s+\d)|Stat(?=\.\s+\d))\.(?=\s)"
)
# A lower-case word of four letters or more, end punctuation, a capitalised word: a break.
CLEAR_BREAK = re.compile(r"(?<=[a-z]{4}[.!?])\s+(?=[A-Z][a-z]+\s)")


def texts(page: str) -> list[str]:
    return [span.text for span in split_sentences(page)]


def naive_ends(text: str) -> set[int]:
    ends = {separator.start() for separator in NAIVE_SEPARATOR.finditer(text)}
    return ends | {len(text.rstrip())} if text.strip() else ends


def splitter_ends(text: str) -> set[int]:
    return {span.end for span in split_sentences(text)}


def expected_ends(case: dict) -> set[int]:
    ends, position = set(), 0
    for sentence in case["sentences"]:
        position = case["text"].index(sentence, position) + len(sentence)
        ends.add(position)
    return ends


@pytest.fixture(scope="module")
def shared_pages(shared_pdfs) -> list[tuple[str, int, str]]:
    """(file, page, text) of every page with text in the shared PDFs that open."""
    with (shared_pdfs / "MANIFEST.tsv").open(encoding="utf-8") as manifest:
        files = [
            row["file"] for row in csv.DictReader(manifest, delimiter="\t") if row["expected_outcome"] == "ok"
        ]
    pages = []
    for name in files:
        document = open_pdf((shared_pdfs / name).read_bytes())
        try:
            pages += [
                (name, page, text)
                for page, text in extract_page_texts(document, 1, len(document))
                if text.strip()
            ]
        finally:
            document.close()
    assert len(pages) > 150, "the shared PDFs should give well over 150 pages of text"
    return pages


@pytest.mark.parametrize("case", FIXTURE, ids=[case["name"] for case in FIXTURE])
def test_labelled_tricky_text_is_split_where_a_reader_would(case):
    spans = split_sentences(case["text"])
    assert [case["text"][span.start : span.end] for span in spans] == case["sentences"]


def test_naive_regex_makes_many_more_boundary_errors_on_the_labelled_fixture():
    ours = sum(len(splitter_ends(case["text"]) ^ expected_ends(case)) for case in FIXTURE)
    naive = sum(len(naive_ends(case["text"]) ^ expected_ends(case)) for case in FIXTURE)
    assert ours == 0
    assert naive >= 25, naive


def test_no_false_breaks_after_mid_sentence_abbreviations_in_the_shared_pdfs(shared_pages):
    sites = ours = naive = 0
    for _, _, text in shared_pages:
        positions = {match.end() for match in MID_SENTENCE.finditer(text)}
        sites += len(positions)
        ours += len(positions & splitter_ends(text))
        naive += len(positions & naive_ends(text))
    assert sites >= 50, sites
    assert ours == 0
    assert naive >= 50, naive


def test_clear_sentence_breaks_in_the_shared_pdfs_are_kept(shared_pages):
    found = total = 0
    for _, _, text in shared_pages:
        ends = splitter_ends(text)
        breaks = [match.start() for match in CLEAR_BREAK.finditer(text)]
        total += len(breaks)
        found += sum(position in ends for position in breaks)
    assert total >= 300, total
    assert found / total >= 0.95, (found, total)


def test_offsets_cover_every_page_of_the_shared_pdfs(shared_pages):
    removed = re.compile(r"[\s\-\ufffe\x00]")
    for name, page, text in shared_pages:
        spans = split_sentences(text)
        assert spans, (name, page)
        covered = 0
        previous_end = 0
        for span in spans:
            raw = text[span.start : span.end]
            assert previous_end <= span.start < span.end, (name, page, span)
            assert raw == raw.strip(), (name, page, raw)
            assert removed.sub("", raw) == removed.sub("", span.text), (name, page, raw, span.text)
            covered += len(raw.split())
            previous_end = span.end
        # No word of the page is lost between sentences.
        assert covered >= len(text.split()) - len(spans), (name, page)


def test_offsets_point_into_the_page_text():
    page = "  First one here.  Second one!\nThird? An 𝑥 is 1. 😀 Last."
    spans = split_sentences(page)
    assert [page[s.start : s.end] for s in spans] == [
        "First one here.",
        "Second one!",
        "Third?",
        "An 𝑥 is 1.",
        "😀 Last.",
    ]


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("A hyphen-\nated word. Next.", ["A hyphenated word.", "Next."]),
        ("The Franco-\nGerman border.", ["The Franco-German border."]),
        ("Com\ufffepiled by pdfium.", ["Compiled by pdfium."]),
        ("Line\n  broken\ttext.", ["Line broken text."]),
        ("No\x00 NUL here.", ["No NUL here."]),
        ("", []),
        ("   \n\n  ", []),
    ],
)
def test_sentence_text_is_cleaned(page, expected):
    assert texts(page) == expected


def test_stats_analyzer_counts_words_and_characters():
    result = sentence_stats("Hello World 42.")
    assert result["words"] == 3
    assert result["chars"] == 15
    assert result["digit_ratio"] == round(2 / 15, 3)
    assert result["upper_ratio"] == round(2 / 10, 3)


def test_a_lone_surrogate_from_a_broken_text_layer_does_not_stop_the_split():
    page = "Broken \ud800 glyph here. Next one."
    spans = split_sentences(page)
    assert [page[s.start : s.end] for s in spans] == ["Broken \ud800 glyph here.", "Next one."]
    # The stored text must encode: PostgreSQL refuses lone surrogates.
    assert spans[0].text == "Broken \ufffd glyph here."
    assert all(s.text.encode("utf-8") for s in spans)
