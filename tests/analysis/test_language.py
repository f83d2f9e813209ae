"""The language analyzer names the language of known text, and a document's mix of languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.analysis.base import DocumentInput, SentenceInput
from app.analysis.language import LanguageAnalyzer, detect_language
from app.analysis.sentences import split_sentences
from app.pdf import chunk_page_ranges, extract_page_texts, open_pdf

FIXTURE = Path(__file__).parent / "fixtures" / "language.tsv"


def labelled(kind: str) -> list[tuple[str, str]]:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    return [(code, text) for row_kind, code, text in rows if row_kind == kind]


def no_embeddings():
    raise AssertionError("language must not load embeddings")


def analyze_document(chunks: list[list[str]]) -> dict:
    analyzer = LanguageAnalyzer()
    figures = [analyzer.analyze_chunk([SentenceInput(text, 1) for text in chunk]).chunk for chunk in chunks]
    return analyzer.summarize(DocumentInput(chunks=figures, load_embeddings=no_embeddings))


@pytest.mark.parametrize(
    ("code", "text"), labelled("paragraph"), ids=[code for code, _ in labelled("paragraph")]
)
def test_paragraph_language(code, text):
    found = detect_language(text)
    assert found["code"] == code
    assert found["confidence"] > 0.8


def test_short_sentences_mostly_right():
    rows = labelled("sentence")
    assert len({code for code, _ in rows}) >= 9
    wrong = [
        (code, detect_language(text), text) for code, text in rows if detect_language(text)["code"] != code
    ]
    assert len(wrong) <= 0.1 * len(rows), wrong


@pytest.mark.parametrize("text", ["", "12.5", "x = 3", "(a)", "2019–2020", "§ 4", "— 17 —", "∑ 3.14"])
def test_too_few_letters_is_unknown(text):
    assert detect_language(text) is None


def test_chunk_values_and_column():
    texts = [
        "Die Ergebnisse sind in Tabelle 3 dargestellt.",
        "4.2",
        "We thank the reviewers for their comments.",
    ]
    output = LanguageAnalyzer().analyze_chunk([SentenceInput(text, 1) for text in texts])
    assert output.columns == {"language": ["de", None, "en"]}
    assert output.per_sentence[1] is None
    assert set(output.per_sentence[0]) == {"code", "confidence"}
    letters = [sum(ch.isalpha() for ch in text) for text in texts]
    assert output.chunk == {"chars": {"de": letters[0], "en": letters[2]}}


def test_mixed_document_lists_both_languages():
    german = dict(labelled("paragraph"))["de"]
    english = dict(labelled("paragraph"))["en"]
    summary = analyze_document([[german, english, english], [english, "3.14"]])
    assert summary["code"] == "en"
    assert set(summary["languages"]) == {"en", "de"}
    assert 0.65 < summary["share"] == summary["languages"]["en"] < 0.8
    assert summary["languages"]["en"] + summary["languages"]["de"] == pytest.approx(1.0, abs=0.002)


def test_stray_sentences_below_five_percent_are_not_listed():
    english = dict(labelled("paragraph"))["en"]
    summary = analyze_document([[english] * 30 + ["Le chat dort sur le canapé."]])
    assert summary == {
        "code": "en",
        "share": pytest.approx(0.99, abs=0.01),
        "languages": {"en": summary["share"]},
    }


def test_document_without_text_has_no_language():
    assert analyze_document([["12", "3.4"], []]) == {"code": None, "share": 0.0, "languages": {}}


@pytest.mark.parametrize(
    ("name", "pages", "code"),
    [
        ("pm__jo.pdf", 1, "ja"),  # Japanese poem, kana and kanji
        ("pdfjs__ArabicCIDTrueType.pdf", 1, "ar"),
        ("sf__GeoTopo-komprimiert.pdf", 12, "de"),
        ("pdfjs__tracemonkey.pdf", 14, "en"),
        ("sf__multicolumn.pdf", 3, "la"),  # Lorem ipsum
    ],
)
def test_language_of_shared_pdfs(shared_pdfs, name, pages, code):
    document = open_pdf((shared_pdfs / name).read_bytes())
    try:
        chunks = [
            [
                span.text
                for _, text in extract_page_texts(document, first, last)
                for span in split_sentences(text)
            ]
            for first, last in chunk_page_ranges(pages, 3)
        ]
    finally:
        document.close()
    summary = analyze_document(chunks)
    assert summary["code"] == code
    assert summary["share"] > 0.9
