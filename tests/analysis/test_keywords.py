"""YAKE finds a paper's domain terms; chunk scores are ordered; the merge favours recurring phrases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.analysis import split_sentences
from app.analysis.base import AnalyzerError, DocumentInput, SentenceInput
from app.analysis.keywords import CHUNK_TOP, KeywordsAnalyzer, merge_keyphrases, phrase_key
from app.pdf import extract_page_texts, open_pdf

EXPECTED = json.loads((Path(__file__).parent / "fixtures" / "keywords.json").read_text(encoding="utf-8"))
PDFS = sorted(name for name in EXPECTED if not name.startswith("_"))
CHUNK_PAGES = 3


def no_embeddings():
    raise AssertionError("keywords must not load embeddings")


def chunk_sentences(path: Path) -> list[list[SentenceInput]]:
    """Split a PDF into 3-page chunks of sentences, as the worker does."""
    document = open_pdf(path.read_bytes())
    try:
        pages = list(extract_page_texts(document, 1, len(document)))
    finally:
        document.close()
    return [
        [
            SentenceInput(span.text, number)
            for number, text in pages[start : start + CHUNK_PAGES]
            for span in split_sentences(text)
        ]
        for start in range(0, len(pages), CHUNK_PAGES)
    ]


@pytest.fixture(scope="module", params=PDFS)
def analysed(request, shared_pdfs):
    """A shared PDF's per-chunk keyphrases and document keyphrases."""
    analyzer = KeywordsAnalyzer()
    chunks = [
        analyzer.analyze_chunk(sentences).chunk for sentences in chunk_sentences(shared_pdfs / request.param)
    ]
    return request.param, chunks, analyzer.summarize(DocumentInput(chunks, no_embeddings))


def test_document_keyphrases_hold_the_papers_domain_terms(analysed):
    name, _, document = analysed
    phrases = [phrase_key(item["phrase"]) for item in document]
    assert len(phrases) == 20
    assert phrases[0] in {phrase_key(p) for p in EXPECTED[name]["top_1"]}, phrases
    missing = {phrase_key(p) for p in EXPECTED[name]["top_20"]} - set(phrases)
    assert not missing, (missing, phrases)


def test_chunk_keyphrases_are_scored_best_first(analysed):
    _, chunks, _ = analysed
    assert len(chunks) >= 3
    for phrases in chunks:
        assert 0 < len(phrases) <= CHUNK_TOP
        assert all(set(item) == {"phrase", "score"} and isinstance(item["score"], float) for item in phrases)
        scores = [item["score"] for item in phrases]
        assert scores == sorted(scores, reverse=True)
        assert scores[0] == 1.0 and all(0 < score <= 1 for score in scores)
    json.dumps(chunks)  # stored as JSON in the chunk's result


def test_document_keyphrases_are_unique_and_ordered(analysed):
    _, _, document = analysed
    keys = [phrase_key(item["phrase"]) for item in document]
    assert len(keys) == len(set(keys))
    scores = [item["score"] for item in document]
    assert scores == sorted(scores, reverse=True)


def test_phrase_recurring_in_many_chunks_outranks_a_single_chunks_best():
    chunks = [
        [{"phrase": "one-off", "score": 1.0}, {"phrase": "trace tree", "score": 0.5}],
        [{"phrase": "Trace Trees", "score": 0.6}, {"phrase": "trace tree", "score": 0.4}],
        [{"phrase": "trace  tree", "score": 0.5}],
    ]
    merged = merge_keyphrases(chunks)
    # Spelling variants in one chunk count once, with the best of them.
    assert merged[0] == {"phrase": "Trace Trees", "score": round((0.5 + 0.6 + 0.5) / 3, 4)}
    assert merged[1] == {"phrase": "one-off", "score": round(1.0 / 3, 4)}
    assert len(merged) == 2


def test_merge_keeps_the_top_twenty():
    chunks = [[{"phrase": f"phrase {i}", "score": 1 / (i + 1)} for i in range(15)] for _ in range(2)]
    chunks[1] = [{"phrase": f"other {i}", "score": 1 / (i + 1)} for i in range(15)]
    merged = merge_keyphrases(chunks)
    assert len(merged) == 20
    assert {item["phrase"] for item in merged[:2]} == {"phrase 0", "other 0"}


@pytest.mark.parametrize(
    ("phrase", "key"),
    [
        ("Trace Trees", "trace tree"),
        ("  nested   TRACE trees ", "nested trace tree"),
        ("class", "class"),
        ("bus", "bus"),
        ("analysis", "analysis"),
    ],
)
def test_phrase_key_folds_case_spacing_and_plurals(phrase, key):
    assert phrase_key(phrase) == key


def test_empty_chunk_and_empty_document_have_no_keyphrases():
    analyzer = KeywordsAnalyzer()
    assert analyzer.analyze_chunk([]).chunk == []
    assert analyzer.analyze_chunk([SentenceInput("   ", 1)]).chunk == []
    assert analyzer.summarize(DocumentInput([], no_embeddings)) == []


def test_a_rust_panic_fails_only_this_analyzer():
    class PanicException(BaseException):  # how pyo3 delivers a Rust panic
        pass

    class PanickingYake:
        def get_n_best(self, text, *, n):
            raise PanicException("called `Option::unwrap()` on a `None` value")

    analyzer = KeywordsAnalyzer()
    analyzer.__dict__["_yake"] = PanickingYake()
    with pytest.raises(AnalyzerError) as caught:
        analyzer.analyze_chunk([SentenceInput("Some text about trace trees.", 1)])
    assert caught.value.code == "keywords_failed"
