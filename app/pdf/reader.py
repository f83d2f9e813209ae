"""Open PDFs with pypdfium2, extract page text and render pages.

Pure and unguarded: a hostile PDF can make any of these run for minutes inside pdfium
or allocate gigabytes. Workers call them only inside the PDF sandbox (app/pdf/sandbox.py).
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from typing import NamedTuple

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from app.pdf.errors import (
    CorruptPdf,
    EncryptedPdf,
    NoPages,
    PdfError,
    ResourceLimit,
    TooManyPages,
    TooMuchText,
)

# The PDF spec lets readers accept a header anywhere in the first 1024 bytes.
PDF_HEADER_WINDOW = 1024


def looks_like_pdf(head: bytes) -> bool:
    """Tell from the first bytes of a file whether it claims to be a PDF."""
    return b"%PDF-" in head[:PDF_HEADER_WINDOW]


def open_pdf(data: bytes | bytearray) -> pdfium.PdfDocument:
    """Open a PDF held in memory (without copying it), turning load errors into PdfError."""
    buffer = (ctypes.c_char * len(data)).from_buffer(data) if isinstance(data, bytearray) else data
    try:
        return pdfium.PdfDocument(buffer)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedPdf("The PDF is protected by a password; upload it without one.") from exc
        raise CorruptPdf("The PDF's structure is damaged or the file is incomplete.") from exc


def count_pages(document: pdfium.PdfDocument, max_pages: int) -> int:
    """Return the page count, refusing empty documents and those over max_pages."""
    pages = len(document)
    if pages == 0:
        raise NoPages("The PDF has no pages.")
    if pages > max_pages:
        raise TooManyPages(f"The PDF has {pages} pages; the limit is {max_pages}.")
    return pages


def extract_page_texts(
    document: pdfium.PdfDocument, first_page: int, last_page: int, max_chars: int | None = None
) -> Iterator[tuple[int, str]]:
    """Yield (page number, text) for the 1-based inclusive page range.

    A page of more than ``max_chars`` characters raises TooMuchText before its text is copied out.
    """
    if last_page > len(document):
        raise CorruptPdf(f"The PDF has no page {last_page}.")
    for number in range(first_page, last_page + 1):
        yield number, page_text(document, number, max_chars)


def page_text(document: pdfium.PdfDocument, number: int, max_chars: int | None = None) -> str:
    """Return the text of one 1-based page, refusing a page of more than ``max_chars`` characters."""
    page = _load_page(document, number)
    try:
        text_page = page.get_textpage()
        try:
            chars = text_page.count_chars()
            if max_chars is not None and chars > max_chars:
                raise TooMuchText(
                    f"Page {number} holds {chars:,} characters; the limit is {max_chars:,} per page."
                    " Split the document or remove the page."
                )
            text = text_page.get_text_range()
        finally:
            text_page.close()
    except pdfium.PdfiumError as exc:
        raise PdfError(f"The text of page {number} cannot be extracted.") from exc
    finally:
        page.close()
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _load_page(document: pdfium.PdfDocument, number: int) -> pdfium.PdfPage:
    if not 1 <= number <= len(document):
        raise CorruptPdf(f"The PDF has no page {number}.")
    try:
        return document[number - 1]
    except pdfium.PdfiumError as exc:
        raise CorruptPdf(f"Page {number} of the PDF cannot be read.") from exc


class RenderedPage(NamedTuple):
    """A page as 8-bit grayscale pixels, row by row (``stride`` bytes a row), as OCR reads it."""

    width: int
    height: int
    stride: int
    pixels: bytes


def render_page(
    document: pdfium.PdfDocument, number: int, dpi: float, max_bytes: int | None = None
) -> RenderedPage:
    """Render one 1-based page in grayscale at ``dpi``; a bitmap over ``max_bytes`` raises ResourceLimit."""
    page = _load_page(document, number)
    try:
        width, height = (round(side * dpi / 72) for side in page.get_size())
        if max_bytes is not None and width * height > max_bytes:
            raise ResourceLimit(
                f"Page {number} at {dpi:g} dpi would be {width} x {height} pixels, more than the memory limit."
            )
        try:
            bitmap = page.render(scale=dpi / 72, grayscale=True)
        except pdfium.PdfiumError as exc:
            raise PdfError(f"Page {number} of the PDF cannot be rendered.") from exc
        try:
            return RenderedPage(bitmap.width, bitmap.height, bitmap.stride, bytes(bitmap.buffer))
        finally:
            bitmap.close()
    finally:
        page.close()


def chunk_page_ranges(page_count: int, pages_per_chunk: int) -> list[tuple[int, int]]:
    """Split 1..page_count into inclusive ranges of at most pages_per_chunk pages."""
    return [
        (first, min(first + pages_per_chunk - 1, page_count))
        for first in range(1, page_count + 1, pages_per_chunk)
    ]
