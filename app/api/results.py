"""A job's results: its sentences page by page, its chunks, and a streamed export of everything."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, stream_with_context, url_for
from flask_jwt_extended import jwt_required

from app.api.jobs import owned_job
from app.api.requests import int_arg
from app.errors import ApiError
from app.jobs.export import EXPORT_FORMATS, export_filename, export_stream
from app.jobs.sentences import SENTIMENTS, SentenceFilter, count_sentences, sentence_page
from app.jobs.views import chunk_views
from app.models import JobStatus

bp = Blueprint("results", __name__)

SENTENCES_PER_PAGE = 100
SENTENCES_PER_PAGE_MAX = 1000
PAGE_NUMBER_MAX = 1_000_000
BOOLEAN_WORDS = {"true": True, "1": True, "false": False, "0": False}
LANGUAGE_CODE_MAX = 16
EXPORTABLE = (JobStatus.COMPLETED, JobStatus.CANCELLED)


def sentence_filter() -> SentenceFilter:
    """Read the page-range, sentiment, has_pii and language filters from the query string."""
    min_page = int_arg("min_page", 0, 1, PAGE_NUMBER_MAX) or None
    max_page = int_arg("max_page", 0, 1, PAGE_NUMBER_MAX) or None
    if min_page and max_page and min_page > max_page:
        raise ApiError("invalid_parameter", "min_page must not be greater than max_page.", 400)
    sentiment = request.args.get("sentiment")
    if sentiment is not None and sentiment not in SENTIMENTS:
        raise ApiError("invalid_parameter", f"sentiment must be one of {', '.join(SENTIMENTS)}.", 400)
    has_pii = request.args.get("has_pii")
    if has_pii is not None and has_pii.lower() not in BOOLEAN_WORDS:
        raise ApiError("invalid_parameter", "has_pii must be true or false.", 400)
    language = request.args.get("language")
    if language is not None and not (0 < len(language) <= LANGUAGE_CODE_MAX and language.isascii()):
        raise ApiError("invalid_parameter", "language must be a language code such as en.", 400)
    return SentenceFilter(
        min_page=min_page,
        max_page=max_page,
        sentiment=sentiment,
        has_pii=None if has_pii is None else BOOLEAN_WORDS[has_pii.lower()],
        language=None if language is None else language.lower(),
    )


def page_link(job_id: str, page: int) -> str:
    """The same query with another page number."""
    args = request.args.to_dict() | {"page": page}
    return url_for("api.results.list_sentences", job_id=job_id, **args)


@bp.get("/jobs/<job_id>/sentences")
@jwt_required()
def list_sentences(job_id: str):
    page = int_arg("page", 1, 1, PAGE_NUMBER_MAX)
    per_page = int_arg("per_page", SENTENCES_PER_PAGE, 1, SENTENCES_PER_PAGE_MAX)
    where = sentence_filter()
    job = owned_job(job_id)
    total = count_sentences(job.id, where)
    offset = (page - 1) * per_page
    return jsonify(
        job_id=job.id,
        job_status=job.status,
        sentences=sentence_page(job.id, offset, per_page, where),
        page=page,
        per_page=per_page,
        offset=offset,
        total=total,
        pages=-(-total // per_page),
        links={
            "self": page_link(job.id, page),
            "next": page_link(job.id, page + 1) if offset + per_page < total else None,
            "prev": page_link(job.id, min(page - 1, -(-total // per_page))) if page > 1 and total else None,
        },
    )


@bp.get("/jobs/<job_id>/chunks")
@jwt_required()
def list_chunks(job_id: str):
    job = owned_job(job_id)
    return jsonify(job_id=job.id, job_status=job.status, chunks=chunk_views(job.id))


@bp.get("/jobs/<job_id>/export")
@jwt_required()
def export(job_id: str):
    fmt = request.args.get("format", "json")
    if fmt not in EXPORT_FORMATS:
        raise ApiError("unsupported_format", f"format must be one of {', '.join(EXPORT_FORMATS)}.", 400)
    job = owned_job(job_id)
    if job.status not in EXPORTABLE:
        raise ApiError(
            "job_not_completed",
            f"The job is {job.status}; export it once it has completed (or was cancelled).",
            409,
        )
    return Response(
        stream_with_context(export_stream(job, fmt)),
        mimetype=EXPORT_FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{export_filename(job, fmt)}"'},
    )
