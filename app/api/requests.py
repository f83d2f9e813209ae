"""Small helpers for reading request input."""

from __future__ import annotations

from flask import request
from flask_jwt_extended import get_jwt_identity

from app.errors import ApiError


def json_body() -> dict:
    """Return the request's JSON object, or raise a 400 that says what to send."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError("invalid_json", "Send a JSON object with Content-Type: application/json.", 400)
    return body


def current_user_id() -> int:
    """Return the id of the user the access token belongs to."""
    return int(get_jwt_identity())


def int_arg(name: str, default: int, minimum: int, maximum: int) -> int:
    """Read an integer query parameter within bounds."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError("invalid_parameter", f"{name} must be a whole number.", 400) from None
    if not minimum <= value <= maximum:
        raise ApiError("invalid_parameter", f"{name} must be between {minimum} and {maximum}.", 400)
    return value
