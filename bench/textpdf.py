"""Generate text-only PDFs of any length, fast, with English-like sentences.

fpdf2's ``multi_cell`` and ``write`` lay out text at about 40 pages a second, far
too slow for a 3,000-page document, so lines are wrapped here with cached word
widths and drawn with one ``text`` call each (about 1,500 pages a second).
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

from fpdf import FPDF

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# Bump when the generated text or layout changes, so cached files are not reused.
FORMAT_VERSION = 1

# No abbreviations and no single letters: the sentence splitter would not end a
# sentence after "no." or "a.", and the counts should not depend on that.
_WORD_TEXT = (
    "the of and to in that is was for it with as on be at by this had not are but from have they "
    "which one you were all we when there can an been has more if will would their what so about "
    "out up into them some could time only other new people than first way water these may down "
    "system model result value process number between each during under report measure analysis "
    "document page section table figure method sample test data level rate change study group "
    "energy market policy region network signal pressure surface layer sequence protein company "
    "revenue customer contract quarter growth increase decrease observed reported estimated shown "
    "significant average total annual local national public private early later recent current"
)
WORDS = tuple(_WORD_TEXT.split())
CAPITALISED = ("Europe", "London", "March", "Monday", "Smith", "Johnson", "Pacific", "Atlantic")

PAGE_WIDTH_MM = 210
PAGE_HEIGHT_MM = 297
MARGIN_MM = 15
BASE_FONT_SIZE = 10.0
BASE_CHARS_PER_PAGE = 3500  # what fits comfortably at BASE_FONT_SIZE with paragraph gaps
PARAGRAPH_GAP = 0.8  # in lines


def make_text_pdf(pages: int, chars_per_page: int = 2500, seed: int = 0) -> bytes:
    """Return a PDF of `pages` pages of about `chars_per_page` characters each, cached on disk."""
    if pages < 1 or chars_per_page < 1:
        raise ValueError("pages and chars_per_page must be at least 1.")
    path = RESULTS_DIR / "pdfs" / f"text-v{FORMAT_VERSION}-{pages}p-{chars_per_page}c-s{seed}.pdf"
    if path.is_file():
        return path.read_bytes()
    data = render_text_pdf(pages, chars_per_page, seed)
    _write_atomically(path, data)
    return data


def render_text_pdf(pages: int, chars_per_page: int, seed: int) -> bytes:
    """Build the PDF in memory, without the cache."""
    rng = random.Random(seed)
    # Shrink the type for dense pages so every page's text stays on its page.
    font_size = min(BASE_FONT_SIZE, BASE_FONT_SIZE * (BASE_CHARS_PER_PAGE / chars_per_page) ** 0.5)
    leading = font_size * 0.5  # mm; 1 pt is about 0.35 mm, so 1.4x the type size
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_compression(False)  # deflate costs more time than it saves here
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=font_size)
    layout = _LineLayout(pdf, PAGE_WIDTH_MM - 2 * MARGIN_MM)
    for _ in range(pages):
        pdf.add_page()
        paragraphs = [layout.wrap(words) for words in _page_paragraphs(rng, chars_per_page)]
        # Tighten the leading on the odd page that would run past the bottom margin.
        rows = sum(map(len, paragraphs)) + PARAGRAPH_GAP * (len(paragraphs) - 1)
        line_height = min(leading, (PAGE_HEIGHT_MM - 2 * MARGIN_MM) / rows)
        y = MARGIN_MM + line_height
        for lines in paragraphs:
            for line in lines:
                pdf.text(MARGIN_MM, y, line)
                y += line_height
            y += line_height * PARAGRAPH_GAP
    return bytes(pdf.output())


def _page_paragraphs(rng: random.Random, chars: int) -> list[list[str]]:
    """Return one page of paragraphs, each a list of words, about `chars` characters in all."""
    paragraphs: list[list[str]] = []
    written = 0
    while written < chars:
        paragraph: list[str] = []
        for _ in range(rng.randint(3, 7)):
            sentence = _sentence(rng)
            paragraph.extend(sentence)
            written += sum(map(len, sentence)) + len(sentence)
            if written >= chars:
                break
        paragraphs.append(paragraph)
    return paragraphs


def _sentence(rng: random.Random) -> list[str]:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 20))]
    if rng.random() < 0.3:
        words[rng.randrange(1, len(words))] = rng.choice(CAPITALISED)
    if rng.random() < 0.15:
        words[rng.randrange(1, len(words))] = str(rng.randint(2, 9999))
    if rng.random() < 0.3:
        comma_at = rng.randrange(2, len(words) - 1)
        words[comma_at] += ","
    words[0] = words[0].capitalize()
    words[-1] += "."
    return words


class _LineLayout:
    """Greedy line breaking with each distinct word measured once."""

    def __init__(self, pdf: FPDF, width: float) -> None:
        self._pdf = pdf
        self._width = width
        self._space = pdf.get_string_width(" ")
        self._widths: dict[str, float] = {}

    def _measure(self, word: str) -> float:
        width = self._widths.get(word)
        if width is None:
            width = self._widths[word] = self._pdf.get_string_width(word)
        return width

    def wrap(self, words: list[str]) -> list[str]:
        lines: list[str] = []
        line: list[str] = []
        used = 0.0
        for word in words:
            width = self._measure(word)
            if line and used + self._space + width > self._width:
                lines.append(" ".join(line))
                line, used = [], 0.0
            used += width + (self._space if line else 0.0)
            line.append(word)
        if line:
            lines.append(" ".join(line))
        return lines


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Parallel test runs may generate the same file: publish it whole or not at all.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes it private
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def make_pages_pdf(pages: list[str], font_size: float = 11.0) -> bytes:
    """Return a PDF with one page per string, each line of it drawn exactly as given."""
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=font_size)
    for text in pages:
        pdf.add_page()
        for row, line in enumerate(text.splitlines()):
            pdf.text(MARGIN_MM, MARGIN_MM + (row + 1) * font_size * 0.5, line)
    return bytes(pdf.output())
