"""Where uploaded PDFs live: in the database, so workers on any machine can read them."""

from __future__ import annotations

from collections import OrderedDict

from app.extensions import db
from app.models import Document

# Each chunk of a job needs the same bytes; a process keeps the last few documents
# instead of fetching a large PDF from the database once per chunk.
_CACHE_SIZE = 2
_cache: OrderedDict[str, bytes] = OrderedDict()


def store_document(job_id: str, data: bytes) -> None:
    """Stage the document's bytes in the current session."""
    db.session.add(Document(job_id=job_id, content=data))


def load_document(job_id: str) -> bytes:
    """Return a job's PDF bytes; uploads never change, so a cached copy is always current."""
    if job_id in _cache:
        _cache.move_to_end(job_id)
        return _cache[job_id]
    data = db.session.execute(db.select(Document.content).where(Document.job_id == job_id)).scalar_one()
    _cache[job_id] = data
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return data
