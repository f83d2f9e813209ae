"""Database models, one module per concept."""

from app.models.chunk import Chunk, ChunkStatus
from app.models.document import Document
from app.models.job import Job, JobStatus
from app.models.maintenance import MaintenanceRun
from app.models.sentence import Sentence
from app.models.token_family import RefreshToken, TokenFamily
from app.models.user import User

__all__ = [
    "Chunk",
    "ChunkStatus",
    "Document",
    "Job",
    "JobStatus",
    "MaintenanceRun",
    "RefreshToken",
    "Sentence",
    "TokenFamily",
    "User",
]
