"""Split page text into sentences, keeping each one's character offsets."""

from __future__ import annotations

import re
from typing import NamedTuple

# End punctuation (Latin and CJK), optional closing quotes/brackets, then whitespace;
# a blank line always ends a sentence too (headings, list items, table cells).
_BOUNDARY = re.compile(r"(?P<latin>[.!?][\"'”’)\]]*)\s+|(?P<cjk>[。！？])\s*|\n\s*\n")
_LAST_WORD = re.compile(r"(\w+)\.$")
_WHITESPACE = re.compile(r"\s+")
_HYPHEN_BREAK = re.compile(r"(\w)-\n(\w)")

ABBREVIATIONS = frozenset(
    """
    e.g i.e etc vs cf al fig figs eq eqs no nos vol pp p ch sec dr mr mrs ms prof st jr sr
    inc ltd co corp approx dept est jan feb mar apr jun jul aug sep sept oct nov dec z.b bzw usw vgl ca
    """.split()  # noqa: SIM905 - a word list reads better as text
)


class SentenceSpan(NamedTuple):
    start: int
    end: int
    text: str


def split_sentences(page_text: str) -> list[SentenceSpan]:
    """Split one page's text into sentences with [start, end) offsets into that text."""
    spans = []
    start = 0
    for boundary in _BOUNDARY.finditer(page_text):
        if boundary["latin"] and _ends_with_abbreviation(page_text, start, boundary.start() + 1):
            continue
        _append_span(spans, page_text, start, _sentence_end(boundary))
        start = boundary.end()
    _append_span(spans, page_text, start, len(page_text))
    return spans


def _sentence_end(boundary: re.Match) -> int:
    for group in ("latin", "cjk"):
        if boundary[group]:
            return boundary.end(group)
    return boundary.start()


def _ends_with_abbreviation(text: str, start: int, end: int) -> bool:
    if end == 0 or text[end - 1] != ".":
        return False
    match = _LAST_WORD.search(text, max(start, end - 12), end)
    if match is None:
        return False
    word = match.group(1).lower()
    # Single letters are initials ("J. Smith"); digits are list numbers ("1.") or decimals.
    return word in ABBREVIATIONS or len(word) == 1 or text[end - 3 : end - 1].lower() in {"e.g", "i.e"}


def _append_span(spans: list[SentenceSpan], text: str, start: int, end: int) -> None:
    raw = text[start:end]
    stripped = raw.strip()
    if not stripped:
        return
    start += len(raw) - len(raw.lstrip())
    end = start + len(stripped)
    # NUL never belongs in text (and PostgreSQL refuses it).
    clean = _WHITESPACE.sub(" ", _HYPHEN_BREAK.sub(r"\1\2", stripped)).replace("\x00", "")
    spans.append(SentenceSpan(start, end, clean))
