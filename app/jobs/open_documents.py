"""The PDF a worker process is working on, kept open across its chunks.

Chunks of one job usually land on the same process one after another. Reopening the
document per chunk costs a fetch from the database and, in pdfium, a walk of the page
tree from the start for every page looked up, which grows with the square of the
page count on large documents.
"""

from __future__ import annotations

import atexit

import pypdfium2 as pdfium

from app.jobs.storage import load_document
from app.pdf import open_pdf

_open: tuple[str, pdfium.PdfDocument] | None = None


def document_for(job_id: str) -> pdfium.PdfDocument:
    """Return the job's PDF, opened once per process; the previous one is closed."""
    global _open
    if _open is not None and _open[0] == job_id:
        return _open[1]
    forget_documents()
    document = open_pdf(load_document(job_id))
    _open = (job_id, document)
    return document


@atexit.register
def forget_documents() -> None:
    """Close the cached document."""
    global _open
    if _open is not None:
        _open[1].close()
        _open = None
