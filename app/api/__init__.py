"""The JSON API, mounted under /api/v1."""

from __future__ import annotations

from flask import Blueprint

from app.api import auth, docs, events, health, jobs, results, search
from app.api.requests import refuse_malformed_job_id

API_PREFIX = "/api/v1"


def build_api_blueprint() -> Blueprint:
    """Collect the resource blueprints under one versioned prefix."""
    api = Blueprint("api", __name__, url_prefix=API_PREFIX)
    api.url_value_preprocessor(refuse_malformed_job_id)
    for module in (auth, jobs, events, results, search, health, docs):
        api.register_blueprint(module.bp)
    return api
