"""Semantic search over one of the caller's jobs.

The web process embeds the query with the same model as the worker, loaded on the
first search it serves (1 to 3 s, and about 200 MB more resident memory per process).
Each search costs CPU whoever asks, so each user gets SEARCH_RATE_LIMIT of them.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_jwt_extended import jwt_required

from app.api.jobs import owned_job
from app.api.openapi import BEARER, api_spec, responses
from app.api.requests import current_user_id
from app.api.schemas.requests import SearchQuery
from app.api.schemas.responses import SearchResults
from app.errors import ApiError
from app.extensions import limiter
from app.jobs.search import NoEmbeddings, search_sentences
from app.models import JobStatus

bp = Blueprint("search", __name__)


def search_rate_key() -> str:
    """Count searches per user (the token was checked before the limit)."""
    return f"user:{current_user_id()}"


@bp.get("/jobs/<job_id>/search")
@jwt_required()
@limiter.limit(lambda: current_app.config["SEARCH_RATE_LIMIT"], key_func=search_rate_key)
@api_spec.validate(
    query=SearchQuery,
    resp=responses(401, 404, 409, 429, HTTP_200=SearchResults),
    security=BEARER,
    tags=["results"],
)
def search(job_id: str):
    """The job's sentences closest in meaning to q, best first, with pages and cosine scores."""
    params: SearchQuery = request.context.query
    query, k = params.q, params.k
    job = owned_job(job_id)
    if "embeddings" not in (job.analyses or []):
        raise ApiError(
            "no_embeddings",
            "This job ran without the embeddings analysis; upload the PDF again with analyses=embeddings.",
            409,
        )
    if job.status != JobStatus.COMPLETED:
        raise ApiError("job_not_completed", f"The job is {job.status}; search once it has completed.", 409)
    try:
        results = search_sentences(job.id, query, k)
    except NoEmbeddings as error:
        raise ApiError("no_embeddings", "No sentence of this job has an embedding to search.", 409) from error
    return jsonify(job_id=job.id, query=query, k=k, results=results)
