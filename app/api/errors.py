"""One error type for the API and handlers that render every error as JSON."""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, Response, jsonify
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from app.errors import ApiError, ValidationFailed
from app.extensions import db, jwt, limiter

log = logging.getLogger(__name__)

# Stable codes for the HTTP errors Werkzeug raises itself.
HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_type",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def error_response(code: str, message: str, status: int) -> tuple[Response, int]:
    return jsonify(error={"code": code, "message": message}), status


def handle_api_error(error: ApiError) -> tuple[Response, int]:
    if isinstance(error, ValidationFailed):
        body = {"code": error.code, "message": error.message, "fields": error.fields}
        return jsonify(error=body), error.status
    return error_response(error.code, error.message, error.status)


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    code = HTTP_ERROR_CODES.get(status, "http_error")
    message = error.description or error.name
    if status == 413:
        message = "The upload is larger than the size limit."
    elif status == 429:
        message = f"Too many requests ({error.description}); wait and try again."
    response = error.get_response()  # keeps headers such as Allow and Retry-After
    body, _ = error_response(code, message, status)
    response.set_data(body.get_data())
    response.content_type = "application/json"
    return response


def handle_rate_limited(error: RateLimitExceeded) -> Response:
    response = handle_http_exception(error)
    response.headers["Retry-After"] = "60"
    if limiter.current_limit is not None:
        seconds = math.ceil(limiter.current_limit.reset_at - time.time())
        response.headers["Retry-After"] = str(max(seconds, 1))
    return response


def handle_unexpected(error: Exception) -> tuple[Response, int]:
    db.session.rollback()
    log.exception("Unhandled error")
    return error_response("internal_error", "Something went wrong on our side; try again.", 500)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(RateLimitExceeded, handle_rate_limited)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)


@jwt.unauthorized_loader
def _missing_token(reason: str) -> tuple[Response, int]:
    return error_response("unauthorized", "Send a bearer token: Authorization: Bearer <access_token>.", 401)


@jwt.invalid_token_loader
def _invalid_token(reason: str) -> tuple[Response, int]:
    return error_response("invalid_token", f"The token is not valid: {reason}.", 401)


@jwt.expired_token_loader
def _expired_token(header: dict, payload: dict) -> tuple[Response, int]:
    return error_response("token_expired", "The token has expired; refresh it or sign in again.", 401)


@jwt.revoked_token_loader
def _revoked_token(header: dict, payload: dict) -> tuple[Response, int]:
    message = "This sign-in has ended (signed out, or its refresh token was used twice); sign in again."
    return error_response("token_revoked", message, 401)
