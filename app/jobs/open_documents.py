"""The PDF a worker process is working on, open in its sandbox across the job's chunks.

Chunks of one job usually land on the same process one after another. Reopening the
document per chunk costs a fetch from the database and, in pdfium, a walk of the page
tree from the start for every page looked up, which grows with the square of the
page count on large documents.

pdfium runs only in the process's PDF sandbox (app/pdf/sandbox.py): a helper process
capped at WORKER_MEMORY_LIMIT_MB, which a soft time limit can stop.
"""

from __future__ import annotations

import atexit

from flask import current_app

from app.jobs.storage import load_document
from app.pdf.sandbox import PdfSandbox

_sandbox: PdfSandbox | None = None


def pdf_sandbox() -> PdfSandbox:
    """This process's PDF sandbox, created on first use with the configured memory limit."""
    global _sandbox
    if _sandbox is None:
        _sandbox = PdfSandbox(current_app.config["WORKER_MEMORY_LIMIT_MB"])
    return _sandbox


def document_for(job_id: str) -> PdfSandbox:
    """The sandbox with the job's PDF open in it, loaded once per process; the previous one is closed."""
    sandbox = pdf_sandbox()
    if sandbox.document_key != job_id:
        sandbox.open_document(job_id, load_document(job_id))
    return sandbox


@atexit.register
def forget_documents() -> None:
    """Stop the sandbox, and with it the open document."""
    if _sandbox is not None:
        _sandbox.stop()
