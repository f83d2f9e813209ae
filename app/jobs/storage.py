"""Where uploaded PDFs live: in the database, so workers on any machine can read them."""

from __future__ import annotations

from app.extensions import db
from app.models import Document

# Fetched in slices: the driver's copy of one big bytea costs several times its size.
READ_SLICE_BYTES = 1024 * 1024


def store_document(job_id: str, data: bytes) -> None:
    """Stage the document's bytes in the current session."""
    db.session.add(Document(job_id=job_id, content=data))


def load_document(job_id: str) -> bytearray:
    """Return a job's PDF bytes, read slice by slice to keep the worker's peak memory low."""
    size = db.session.execute(
        db.select(db.func.length(Document.content)).where(Document.job_id == job_id)
    ).scalar_one()
    data = bytearray()
    for offset in range(0, size, READ_SLICE_BYTES):
        data += db.session.execute(
            db.select(db.func.substr(Document.content, offset + 1, READ_SLICE_BYTES)).where(
                Document.job_id == job_id
            )
        ).scalar_one()
    return data
