"""CORS for the browser origins in CORS_ORIGINS, on the API only.

A frontend on another domain calls the API with a bearer token in the
``Authorization`` header, never with cookies, so credentials mode stays off and
``*`` (allowed alone) is safe to send. Other origins, and requests with no
``Origin``, get no CORS headers at all; a preflight from them is answered
without any allow headers, so the browser refuses the real request.

Flask answers a preflight itself without running the view, so neither
``jwt_required`` nor the upload's rate limit (checked in the view's decorator) sees it.
"""

from __future__ import annotations

import re

from flask import Flask, Response, request
from flask_cors import CORS

from app.api import API_PREFIX

ALLOWED_METHODS = ["GET", "HEAD", "POST", "DELETE", "OPTIONS"]
# Request headers a browser must ask leave for; Content-Type because multipart and JSON
# bodies are not both "simple", If-None-Match for cheap polling, Last-Event-ID for SSE.
ALLOWED_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-None-Match",
    "Last-Event-ID",
    "X-Request-ID",
]
# Response headers scripts may read besides the CORS-safelisted ones.
EXPOSED_HEADERS = ["Location", "ETag", "Retry-After", "X-Request-ID", "Content-Disposition"]


def exact_origin(origin: str) -> re.Pattern:
    """Match this origin only (any case): Flask-Cors would read a string with ``[`` as a regex."""
    return re.compile(re.escape(origin) + r"\Z", re.IGNORECASE)


def init_cors(app: Flask) -> None:
    """Answer CORS and preflight requests under /api/v1 for the configured origins."""
    origins = app.config["CORS_ORIGINS"]
    if not origins:
        return
    CORS(
        app,
        resources={f"{API_PREFIX}/*": {}},
        origins="*" if origins == ["*"] else [exact_origin(origin) for origin in origins],
        send_wildcard=origins == ["*"],
        methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        supports_credentials=False,
        max_age=app.config["CORS_MAX_AGE"],
        always_send=False,  # no Origin, no CORS headers
        vary_header=False,  # Flask-Cors skips Vary with one origin; vary_on_origin always adds it
    )

    @app.after_request
    def vary_on_origin(response: Response) -> Response:
        """Keep caches from serving one origin's answer to another (or to a refused one)."""
        if request.path.startswith(API_PREFIX + "/") and origins != ["*"]:
            response.vary.add("Origin")
        return response
