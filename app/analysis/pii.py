"""Personal data in each sentence: e-mail addresses, phone numbers, IBANs and card numbers.

Only the kind of finding and its offsets in the sentence are kept, never the value.
Candidates must pass a check, not just look right: IBANs their country's format and
mod-97 checksum (python-stdnum), card numbers an issuer prefix and length and the Luhn
checksum and a card's grouping (4-4-4-4, 4-6-5 or none), phone numbers libphonenumber's
validity and grouping for their region (PhoneNumberMatcher at leniency STRICT_GROUPING:
VALID alone took table rows such as "8889 33 26 25" for US numbers; international
numbers anywhere, national ones for PHONE_REGION).
Numbers that sit in a run of other numbers (a table of figures) or inside an ISBN,
DOI, arXiv id or URL are not reported. A sentence without "@" and without seven digits
close together is skipped after one regex search, which keeps the analyzer cheap on
ordinary prose.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

import phonenumbers
from stdnum import iban, luhn

from app.analysis.base import Analyzer, ChunkAnalysis, SentenceInput

PHONE_REGION = "US"  # region assumed for numbers written without a country code

PII_TYPES = ("email", "phone", "iban", "credit_card")

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![\w-])"
)
# "icon@2x.png" is a file name (a retina image), not an address.
_FILE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "pdf", "eps", "tif", "tiff", "webp", "bmp"})
# Seven digits with at most short separators between them: any phone, IBAN or card has that.
_DIGIT_RUN = re.compile(r"\d(?:[ ()./-]{0,3}\d){6}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_CARD = re.compile(r"(?<![\w.,/+-])(?<!\d[ -])\d(?:[ -]?\d){11,18}(?![\w/]|[.,]\d|[ -]\d)")
# Identifiers full of digits that are never personal data.
_NOT_PII = re.compile(
    r"\bISBN(?:-1[03])?:?\s*[\dX][\dX -]{8,16}[\dX]"
    r"|\b10\.\d{4,9}/\S+"
    r"|\barXiv:\s*\S+"
    r"|\b(?:https?://|www\.)\S+",
    re.IGNORECASE,
)
# A number next to another number, with only spaces or punctuation between, is a table cell.
_NUMBER_BEFORE = re.compile(r"\d[\s,;:|/-]*$")
_NUMBER_AFTER = re.compile(r"^[\s,;:|/-]*\d")

# Issuer prefixes (IIN ranges) and the lengths their cards have.
_CARD_ISSUERS: tuple[tuple[tuple[int, int], range], ...] = (
    ((4, 4), range(13, 20)),  # Visa
    ((51, 55), range(16, 17)),  # Mastercard
    ((2221, 2720), range(16, 17)),  # Mastercard 2-series
    ((34, 34), range(15, 16)),  # American Express
    ((37, 37), range(15, 16)),
    ((6011, 6011), range(16, 20)),  # Discover
    ((644, 649), range(16, 20)),
    ((65, 65), range(16, 20)),
    ((3528, 3589), range(16, 20)),  # JCB
    ((300, 305), range(14, 20)),  # Diners Club
    ((36, 36), range(14, 20)),
    ((38, 39), range(16, 20)),
    ((62, 62), range(16, 20)),  # UnionPay
    ((50, 50), range(12, 20)),  # Maestro
    ((56, 69), range(12, 20)),
)


class Finding(NamedTuple):
    type: str
    start: int
    end: int


def is_card_number(digits: str) -> bool:
    """Tell whether a digit string has a card issuer's prefix and length and a valid Luhn checksum."""
    issued = any(
        len(digits) in lengths and low <= int(digits[: len(str(low))]) <= high
        for (low, high), lengths in _CARD_ISSUERS
    )
    return issued and luhn.is_valid(digits)


def _ibans(text: str) -> list[Finding]:
    found = []
    for match in _IBAN.finditer(text):
        candidate = match.group()
        # The pattern may run into a following group of digits: drop trailing groups until valid.
        while candidate and not iban.is_valid(candidate):
            candidate = candidate.rpartition(" ")[0]
        if candidate:
            found.append(Finding("iban", match.start(), match.start() + len(candidate)))
    return found


def _card_grouping(groups: list[str], number: str) -> bool:
    """Tell whether a number is grouped as cards are printed: one separator, in fours (Amex 4-6-5)."""
    if len(groups) == 1:
        return True
    lengths = tuple(map(len, groups))
    one_separator = len(set(re.sub(r"\d", "", number))) == 1
    fours = all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4
    return one_separator and (fours or lengths in ((4, 6, 5), (4, 6, 4)))


def _cards(text: str) -> list[Finding]:
    found = []
    for match in _CARD.finditer(text):
        groups = re.split(r"[ -]", match.group())
        if _card_grouping(groups, match.group()) and is_card_number("".join(groups)):
            found.append(Finding("credit_card", match.start(), match.end()))
    return found


def _phones(text: str) -> list[Finding]:
    return [
        Finding("phone", match.start, match.end)
        for match in phonenumbers.PhoneNumberMatcher(
            text, PHONE_REGION, leniency=phonenumbers.Leniency.STRICT_GROUPING
        )
    ]


def _in_a_table(text: str, finding: Finding) -> bool:
    return bool(_NUMBER_BEFORE.search(text[: finding.start]) or _NUMBER_AFTER.match(text[finding.end :]))


def find_pii(text: str) -> list[Finding]:
    """Return the personal data found in a text, in order of position, none overlapping."""
    findings = [
        Finding("email", m.start(), m.end())
        for m in (_EMAIL.finditer(text) if "@" in text else ())
        if m.group().rpartition(".")[2].lower() not in _FILE_EXTENSIONS
    ]
    if _DIGIT_RUN.search(text):
        excluded = [m.span() for m in _NOT_PII.finditer(text)] + [(f.start, f.end) for f in findings]
        for candidates in (_ibans(text), _cards(text), _phones(text)):
            for finding in candidates:
                overlaps = any(finding.start < end and start < finding.end for start, end in excluded)
                if overlaps or (finding.type != "iban" and _in_a_table(text, finding)):
                    continue
                findings.append(finding)
                excluded.append((finding.start, finding.end))
    return sorted(findings, key=lambda f: f.start)


class PiiAnalyzer(Analyzer):
    name = "pii"
    description = (
        "e-mail addresses, phone numbers, IBANs and card numbers in each sentence (type and offsets only)"
    )

    def analyze_chunk(self, sentences: Sequence[SentenceInput]) -> ChunkAnalysis:
        found = [find_pii(s.text) for s in sentences]
        counts = Counter(f.type for findings in found for f in findings)
        return ChunkAnalysis(
            per_sentence=[[f._asdict() for f in findings] for findings in found],
            columns={"has_pii": [bool(findings) for findings in found]},
            chunk={"counts": dict(counts), "sentences": sum(map(bool, found))},
        )

    def summarize(self, document) -> dict:
        counts: Counter = Counter()
        for chunk in document.chunks:
            counts.update(chunk["counts"])
        return {"counts": dict(counts), "sentences": sum(chunk["sentences"] for chunk in document.chunks)}
