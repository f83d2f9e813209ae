"""Open PDFs with pypdfium2 and extract page text, without ever rendering a page."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from app.pdf.errors import CorruptPdf, EncryptedPdf, NoPages, PdfError, TooManyPages

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
    document: pdfium.PdfDocument, first_page: int, last_page: int
) -> Iterator[tuple[int, str]]:
    """Yield (page number, text) for the 1-based inclusive page range."""
    if last_page > len(document):
        raise CorruptPdf(f"The PDF has no page {last_page}.")
    for number in range(first_page, last_page + 1):
        yield number, _page_text(document, number)


def _page_text(document: pdfium.PdfDocument, number: int) -> str:
    try:
        page = document[number - 1]
    except pdfium.PdfiumError as exc:
        raise CorruptPdf(f"Page {number} of the PDF cannot be read.") from exc
    try:
        text_page = page.get_textpage()
        try:
            text = text_page.get_text_range()
        finally:
            text_page.close()
    except pdfium.PdfiumError as exc:
        raise PdfError(f"The text of page {number} cannot be extracted.") from exc
    finally:
        page.close()
    return text.replace("\r\n", "\n").replace("\r", "\n")


def chunk_page_ranges(page_count: int, pages_per_chunk: int) -> list[tuple[int, int]]:
    """Split 1..page_count into inclusive ranges of at most pages_per_chunk pages."""
    return [
        (first, min(first + pages_per_chunk - 1, page_count))
        for first in range(1, page_count + 1, pages_per_chunk)
    ]
