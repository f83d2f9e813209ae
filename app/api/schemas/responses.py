"""What the API answers: the error envelope and the bodies of each resource.

These describe the responses in the OpenAPI document (the views build plain dicts; the
contract test checks real answers against these schemas). Unknown fields are allowed, so
adding a field to a response stays compatible.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobStatusName = Literal["pending", "queued", "processing", "completed", "failed", "cancelled"]


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable; see the README's error table.")
    message: str = Field(description="What went wrong and what to do, in words.")


class ErrorBody(BaseModel):
    """Every error: ``{"error": {"code", "message"}}``."""

    error: ErrorDetail


class FieldErrors(ErrorDetail):
    fields: dict[str, list[str]] = Field(
        None,
        description=(
            "With `validation_error`: each invalid field (query parameter, body field or header) "
            "with its messages. Other 422s (e.g. `empty_file`) have no fields."
        ),
        examples=[{"email": ["String should match pattern ..."]}],
    )


class ValidationErrorBody(BaseModel):
    """A 422: a request that does not match its schema (``validation_error``), or another refusal."""

    error: FieldErrors


class Account(BaseModel):
    id: int
    email: str


class Tokens(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"]


class JobError(BaseModel):
    code: str
    message: str | None


class JobSummary(BaseModel):
    """The fields of a job that listing and polling need."""

    job_id: str
    status: JobStatusName
    progress_percent: int = Field(ge=0, le=100)
    current_step: str | None
    filename: str
    size_bytes: int
    sha256: str
    page_count: int | None
    total_chunks: int
    completed_chunks: int
    error: JobError | None
    created_at: str | None = Field(description="ISO 8601")
    started_at: str | None
    finished_at: str | None
    updated_at: str | None


class UploadedJob(JobSummary):
    deduplicated: bool = Field(description="true when an earlier job of yours answers this upload.")


class JobList(BaseModel):
    jobs: list[JobSummary]
    page: int
    per_page: int
    total: int


class ChunkView(BaseModel):
    index: int
    pages: list[int] = Field(description="First and last page.")
    status: str
    attempts: int
    result: dict[str, Any] | None
    error_code: str | None


class SentenceView(BaseModel):
    chunk_index: int
    position: int
    page: int
    start: int
    end: int
    text: str
    sentiment: str | None
    has_pii: bool | None
    language: str | None
    analysis: dict[str, Any] | None


class JobLinks(BaseModel):
    self: str
    sentences: str
    search: str
    export: str
    chunks: str


class JobDetail(JobSummary):
    """A job with its counts, analyses and links; once ended, its results (see the README)."""

    analyses: dict[str, dict[str, Any]]
    links: JobLinks
    sentence_count: int
    poll_after_ms: int | None = Field(None, description="While the job is live: when to poll next.")
    chunks: list[ChunkView] | None = None
    chunk_results: list[ChunkView] | None = None
    summary: Any = None
    keywords: list[Any] | None = None
    document: dict[str, Any] | None = None
    sentences: list[SentenceView] | None = None
    sentences_offset: int | None = None


class PageLinks(BaseModel):
    self: str
    next: str | None
    prev: str | None


class SentencePage(BaseModel):
    job_id: str
    job_status: JobStatusName
    sentences: list[SentenceView]
    page: int
    per_page: int
    offset: int
    total: int
    pages: int
    links: PageLinks


class ChunkList(BaseModel):
    job_id: str
    job_status: JobStatusName
    chunks: list[ChunkView]


class ComponentHealth(BaseModel):
    """One dependency's check; its details only for a caller with the metrics token."""

    status: Literal["ok", "error"]
    error: str = Field(
        None, description="With the metrics token, when the check failed: the exception, in words."
    )
    latency_ms: float = Field(None, description="With the metrics token: how long the check took.")


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    components: dict[str, ComponentHealth] = Field(
        description="`database` and `broker`. Without the metrics token, each has its `status` only."
    )


class StreamTicket(BaseModel):
    ticket: str
    expires_in: int = Field(description="Seconds the ticket stays valid.")
    url: str = Field(description="The stream's URL with the ticket, for EventSource.")


class SearchHit(BaseModel):
    """A sentence (with its place, as in /sentences) and its similarity to the query."""

    model_config = ConfigDict(extra="allow")

    score: float = Field(description="Cosine similarity, -1 to 1.")


class SearchResults(BaseModel):
    job_id: str
    query: str
    k: int
    results: list[SearchHit]
