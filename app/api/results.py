"""A job's results: its sentences page by page, its chunks, and a streamed export of everything."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, stream_with_context, url_for
from flask_jwt_extended import jwt_required

from app.api.jobs import owned_job
from app.api.openapi import BEARER, api_spec, responses
from app.api.schemas.requests import ExportQuery, SentenceQuery
from app.api.schemas.responses import ChunkList, SentencePage
from app.errors import ApiError
from app.jobs.export import EXPORT_FORMATS, export_filename, export_stream
from app.jobs.sentences import SentenceFilter, count_sentences, sentence_page
from app.jobs.views import chunk_views
from app.models import JobStatus

bp = Blueprint("results", __name__)

EXPORTABLE = (JobStatus.COMPLETED, JobStatus.CANCELLED)


def sentence_filter(query: SentenceQuery) -> SentenceFilter:
    """The page-range, sentiment, has_pii and language filters of a validated query."""
    return SentenceFilter(
        min_page=query.min_page,
        max_page=query.max_page,
        sentiment=query.sentiment,
        has_pii=query.has_pii,
        language=None if query.language is None else query.language.lower(),
    )


def page_link(job_id: str, page: int) -> str:
    """The same query with another page number."""
    args = request.args.to_dict() | {"page": page}
    return url_for("api.results.list_sentences", job_id=job_id, **args)


@bp.get("/jobs/<job_id>/sentences")
@jwt_required()
@api_spec.validate(
    query=SentenceQuery, resp=responses(401, 404, HTTP_200=SentencePage), security=BEARER, tags=["results"]
)
def list_sentences(job_id: str):
    """A job's sentences in reading order, a page at a time, optionally filtered."""
    query: SentenceQuery = request.context.query
    page, per_page = query.page, query.per_page
    where = sentence_filter(query)
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
@api_spec.validate(resp=responses(401, 404, HTTP_200=ChunkList), security=BEARER, tags=["results"])
def list_chunks(job_id: str):
    """A job's per-chunk results."""
    job = owned_job(job_id)
    return jsonify(job_id=job.id, job_status=job.status, chunks=chunk_views(job.id))


@bp.get("/jobs/<job_id>/export")
@jwt_required()
@api_spec.validate(
    query=ExportQuery, resp=responses(401, 404, 409, empty=(200,)), security=BEARER, tags=["results"]
)
def export(job_id: str):
    """Everything a completed (or cancelled) job found, streamed as JSON, NDJSON or CSV."""
    fmt = request.context.query.format
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
