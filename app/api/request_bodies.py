"""Request bodies are read within a size limit and JSON is parsed once, before any view runs.

Every endpoint but an upload takes at most MAX_JSON_BODY_BYTES: a larger declared
``Content-Length`` is a 413 at once, and a chunked body without one is counted as it is
read and refused as soon as it passes the limit, so nothing big is buffered or parsed.
Uploads (multipart bodies to views marked ``@takes_uploads``) keep MAX_CONTENT_LENGTH.
A JSON body is then parsed here: malformed or nested past the parser's recursion limit,
it is a 400 ``invalid_json``, never a 500; the views' schemas read the parsed value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from app.errors import ApiError

View = TypeVar("View", bound=Callable)


def takes_uploads(view: View) -> View:
    """Mark a view whose multipart body may be as large as an upload (MAX_CONTENT_LENGTH)."""
    view.takes_uploads = True  # type: ignore[attr-defined]
    return view


def is_upload() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "takes_uploads", False) and request.mimetype == "multipart/form-data"


def has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def too_large(limit: int) -> ApiError:
    return ApiError(
        "too_large",
        f"The request body is larger than {limit // 1024} KB; send a smaller JSON body"
        " (PDFs go to POST /api/v1/jobs as multipart/form-data).",
        413,
    )


def read_body_within_limit() -> None:
    """Refuse an oversized body before reading it (or while counting it), then parse JSON."""
    if is_upload() or not has_body():
        return
    limit = current_app.config["MAX_JSON_BODY_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    # A chunked body is read up to one byte past the limit, which tells an oversized one.
    request.max_content_length = limit + 1
    try:
        size = len(request.get_data(cache=True))
    except RequestEntityTooLarge:
        size = limit + 1
    if size > limit:
        raise too_large(limit)
    if request.is_json:
        parse_json()


def parse_json() -> None:
    """Parse (and cache for the views) the JSON body; refuse a malformed or too deeply nested one."""
    try:
        request.get_json()
    except RecursionError:
        raise ApiError(
            "invalid_json", "The JSON body is nested too deeply; send a flatter JSON object.", 400
        ) from None
    except BadRequest:
        raise ApiError(
            "invalid_json",
            "The body is not valid JSON; send a JSON object with Content-Type: application/json.",
            400,
        ) from None


def init_request_bodies(app: Flask) -> None:
    """Check every request's body before its view runs."""
    app.before_request(read_body_within_limit)
