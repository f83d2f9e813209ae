"""The pii analyzer finds labelled personal data and ignores numbers that only look like it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.analysis.base import DocumentInput, SentenceInput
from app.analysis.pii import PII_TYPES, PiiAnalyzer, find_pii, is_card_number

FIXTURE = Path(__file__).parent / "fixtures" / "pii.tsv"
MARK = re.compile(r"\{\{(\w+):(.*?)\}\}")


def unmark(line: str) -> tuple[str, list[tuple[str, int, int]]]:
    """Return the sentence without its {{type:text}} marks and the marked spans."""
    text, expected, position = "", [], 0
    for mark in MARK.finditer(line):
        text += line[position : mark.start()]
        expected.append((mark.group(1), len(text), len(text) + len(mark.group(2))))
        text += mark.group(2)
        position = mark.end()
    return text + line[position:], expected


ROWS = [
    unmark(line)
    for line in FIXTURE.read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#")
]
POSITIVE = [row for row in ROWS if row[1]]
NEGATIVE = [row for row in ROWS if not row[1]]


def no_embeddings():
    raise AssertionError("pii must not load embeddings")


def test_fixture_covers_every_type_and_look_alikes():
    found_types = [kind for _, expected in POSITIVE for kind, _, _ in expected]
    assert all(found_types.count(kind) >= 4 for kind in PII_TYPES), found_types
    assert len(NEGATIVE) >= 20


@pytest.mark.parametrize(("text", "expected"), POSITIVE, ids=[text[:30] for text, _ in POSITIVE])
def test_finds_labelled_personal_data(text, expected):
    assert [tuple(finding) for finding in find_pii(text)] == expected


@pytest.mark.parametrize("text", [text for text, _ in NEGATIVE], ids=[text[:30] for text, _ in NEGATIVE])
def test_ignores_look_alikes(text):
    assert find_pii(text) == []


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4111111111111111", True),  # Visa
        ("4012888888881881", True),
        ("378282246310005", True),  # Amex, 15 digits
        ("30569309025904", True),  # Diners, 14 digits
        ("3530111333300000", True),  # JCB
        ("4111111111111112", False),  # Luhn fails
        ("0000000000000000", False),  # Luhn holds, no issuer
        ("378282246310005" + "0", False),  # Amex prefix with a Visa length
        ("411111111111", False),  # too short
    ],
)
def test_card_number_check(number, valid):
    assert is_card_number(number) is valid


def test_chunk_keeps_types_and_offsets_only_and_counts_sentences():
    texts = [
        "Reply to billing@example.com or call +1 212 555 0187.",
        "Nothing to see on page 12.",
        "Pay into DE89 3704 0044 0532 0130 00.",
    ]
    output = PiiAnalyzer().analyze_chunk([SentenceInput(text, 4) for text in texts])
    assert output.columns == {"has_pii": [True, False, True]}
    assert output.per_sentence == [
        [{"type": "email", "start": 9, "end": 28}, {"type": "phone", "start": 37, "end": 52}],
        [],
        [{"type": "iban", "start": 9, "end": 36}],
    ]
    assert output.chunk == {"counts": {"email": 1, "phone": 1, "iban": 1}, "sentences": 2}


def test_document_sums_chunks():
    chunks = [
        {"counts": {"email": 2, "phone": 1}, "sentences": 2},
        {"counts": {}, "sentences": 0},
        {"counts": {"email": 1, "credit_card": 1}, "sentences": 1},
    ]
    summary = PiiAnalyzer().summarize(DocumentInput(chunks=chunks, load_embeddings=no_embeddings))
    assert summary == {"counts": {"email": 3, "phone": 1, "credit_card": 1}, "sentences": 3}


def test_numbers_in_prose_are_not_pii():
    prose = [
        f"In {1990 + i % 30} the method improved accuracy by {i % 17}.{i % 10} % over the baseline in Table {i % 9}."
        for i in range(500)
    ]
    output = PiiAnalyzer().analyze_chunk([SentenceInput(text, 1) for text in prose])
    assert not any(output.columns["has_pii"])
