"""What clients send: JSON bodies, query strings, the upload form and its headers.

The views are decorated with these (``app.api.openapi.api_spec.validate``), so a request
that does not match answers 422 ``validation_error`` with per-field messages before the
view runs, and the OpenAPI document describes exactly what is checked.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema, WithJsonSchema
from spectree.model_adapter.pydantic_adapter import BaseFile

from app.analysis import UnknownAnalysis, available_analyses, resolve_analyses
from app.jobs.sentences import SENTIMENTS

# No whitespace or control characters (PostgreSQL refuses NUL in text) around one @ and a dot.
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
IDEMPOTENCY_KEY_MAX = 200
JOBS_PER_PAGE_MAX = 100
SENTENCES_PER_PAGE_MAX = 1000
SENTENCE_LIMIT_MAX = 5000
PAGE_NUMBER_MAX = 1_000_000
EXPORT_FORMAT_NAMES = ("json", "ndjson", "csv")
SEARCH_QUERY_MAX_CHARS = 1000
SEARCH_RESULTS_MAX = 100


def _valid_email(email: str) -> str:
    if not re.match(EMAIL_PATTERN, email):
        raise ValueError("Give a valid email address, e.g. ada@example.com")
    return email


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, max_length=254),
    AfterValidator(_valid_email),
    Field(
        description="Trimmed and lower-cased before use.",
        examples=["ada@example.com"],
        json_schema_extra={"pattern": EMAIL_PATTERN},
    ),
]
Page = Annotated[int, Field(ge=1, le=PAGE_NUMBER_MAX)]


def known_analysis_names(value: str) -> str:
    """Refuse a name no analyzer has, naming it and the known ones."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    try:
        resolve_analyses(names)
    except UnknownAnalysis as error:
        raise ValueError(str(error)) from None
    return value


# Known names, comma-separated (empty items skipped). The document lists the names as an enum:
# clients read it more easily and generators draw from it directly.
AnalysisNames = Annotated[
    str,
    AfterValidator(known_analysis_names),
    WithJsonSchema({"type": "string", "enum": list(available_analyses())}),
]
# An optional parameter: absent means None, but null is not a value clients can send.
Absent = SkipJsonSchema[None]


class Credentials(BaseModel):
    """An email address and a password."""

    email: Email
    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class Registration(Credentials):
    """A new account's email address and password."""

    password: Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]


class UploadForm(BaseModel):
    """The multipart form of an upload."""

    file: BaseFile = Field(description="The PDF; its bytes decide, not its name.")
    analyses: AnalysisNames | list[AnalysisNames] | Absent = Field(
        None,
        description=(
            "Analyses to run: the field repeated, or several names comma-separated in one; "
            "absent means the default set."
        ),
        examples=["stats"],
    )
    force: bool | Absent = Field(None, description="true starts a fresh run even for a file seen before.")


class UploadQuery(BaseModel):
    """The upload's query string: ``force`` may come here instead of the form."""

    force: bool | Absent = None


class UploadHeaders(BaseModel):
    """The upload's optional Idempotency-Key header."""

    model_config = ConfigDict(populate_by_name=True)

    idempotency_key: str | Absent = Field(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX,
        pattern=r"^[ -~]+$",
        description="1 to 200 printable ASCII characters, e.g. a UUID; a repeat answers with the same job.",
    )


class JobListQuery(BaseModel):
    """Paging of the job list."""

    page: Page = 1
    per_page: Annotated[int, Field(ge=1, le=JOBS_PER_PAGE_MAX)] = 20


class JobDetailQuery(BaseModel):
    """The page of sentences a finished job's detail embeds."""

    sentences_offset: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    sentences_limit: Annotated[int, Field(ge=1, le=SENTENCE_LIMIT_MAX)] = 1000


class SentenceQuery(BaseModel):
    """Paging and filters of a job's sentences."""

    page: Page = 1
    per_page: Annotated[int, Field(ge=1, le=SENTENCES_PER_PAGE_MAX)] = 100
    min_page: Page | Absent = None
    max_page: Page | Absent = None
    sentiment: Literal[SENTIMENTS] | Absent = None  # type: ignore[valid-type]
    has_pii: bool | Absent = None
    language: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$", examples=["en"])] | Absent = None

    @field_validator("max_page")
    @classmethod
    def not_before_min_page(cls, max_page: int | None, info: ValidationInfo) -> int | None:
        min_page = info.data.get("min_page")
        if min_page and max_page and min_page > max_page:
            raise ValueError("max_page must not be less than min_page")
        return max_page


class ExportQuery(BaseModel):
    """The export's format."""

    format: Literal[EXPORT_FORMAT_NAMES] = "json"  # type: ignore[valid-type]


class EventsQuery(BaseModel):
    """How an event stream authenticates when it cannot send headers."""

    ticket: str | Absent = Field(
        None, description="A stream ticket from POST /jobs/{job_id}/events/ticket, instead of a bearer token."
    )


class SearchQuery(BaseModel):
    """The text to search a job's sentences for, and how many to return."""

    q: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=1, max_length=SEARCH_QUERY_MAX_CHARS, pattern=r"\S"
        ),
        Field(description="Some text; trimmed.", examples=["payment terms"]),
    ]
    k: Annotated[int, Field(ge=1, le=SEARCH_RESULTS_MAX)] = 10
