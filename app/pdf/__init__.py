"""Pure PDF reading and chunking: bytes in, page texts out. No Flask here."""

from app.pdf.errors import (
    CorruptPdf,
    EncryptedPdf,
    NoPages,
    PdfError,
    ResourceLimit,
    TooManyPages,
    TooMuchText,
)
from app.pdf.reader import (
    RenderedPage,
    chunk_page_ranges,
    count_pages,
    extract_page_texts,
    looks_like_pdf,
    open_pdf,
    page_text,
    render_page,
)

__all__ = [
    "CorruptPdf",
    "EncryptedPdf",
    "NoPages",
    "PdfError",
    "RenderedPage",
    "ResourceLimit",
    "TooManyPages",
    "TooMuchText",
    "chunk_page_ranges",
    "count_pages",
    "extract_page_texts",
    "looks_like_pdf",
    "open_pdf",
    "page_text",
    "render_page",
]
