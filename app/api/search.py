"""Semantic search over one of the caller's jobs.

The web process embeds the query with the same model as the worker, loaded on the
first search it serves (about 1 s and ~150 MB more resident memory per process).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_jwt_extended import jwt_required

from app.api.jobs import owned_job
from app.api.requests import int_arg
from app.errors import ApiError
from app.jobs.search import NoEmbeddings, search_sentences
from app.models import JobStatus

bp = Blueprint("search", __name__)

RESULTS_DEFAULT = 10
RESULTS_MAX = 100
QUERY_MAX_CHARS = 1000


def search_query() -> str:
    """Read the ``q`` parameter: some text, at most ``QUERY_MAX_CHARS`` characters."""
    query = request.args.get("q", "").strip()
    if not query:
        raise ApiError("missing_query", "Pass the text to search for as q, e.g. ?q=payment terms.", 400)
    if len(query) > QUERY_MAX_CHARS:
        raise ApiError("invalid_parameter", f"q must be at most {QUERY_MAX_CHARS} characters.", 400)
    return query


@bp.get("/jobs/<job_id>/search")
@jwt_required()
def search(job_id: str):
    """The job's sentences closest in meaning to q, best first, with pages and cosine scores."""
    query = search_query()
    k = int_arg("k", RESULTS_DEFAULT, 1, RESULTS_MAX)
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
