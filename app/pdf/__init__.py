"""Pure PDF reading and chunking: bytes in, page texts out. No Flask here."""

from app.pdf.errors import CorruptPdf, EncryptedPdf, NoPages, PdfError, TooManyPages
from app.pdf.reader import chunk_page_ranges, count_pages, extract_page_texts, looks_like_pdf, open_pdf

__all__ = [
    "CorruptPdf",
    "EncryptedPdf",
    "NoPages",
    "PdfError",
    "TooManyPages",
    "chunk_page_ranges",
    "count_pages",
    "extract_page_texts",
    "looks_like_pdf",
    "open_pdf",
]
