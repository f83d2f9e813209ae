"""Register, sign in and refresh tokens."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt_identity, jwt_required
from sqlalchemy.exc import IntegrityError

from app.api.requests import json_body
from app.errors import ApiError
from app.extensions import db
from app.models import User
from app.models.user import normalize_email

bp = Blueprint("auth", __name__, url_prefix="/auth")

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8


def _credentials() -> tuple[str, str]:
    body = json_body()
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not EMAIL_PATTERN.match(normalize_email(email)):
        raise ApiError("invalid_email", "Give a valid email address in the field 'email'.", 400)
    if not isinstance(password, str) or not password:
        raise ApiError("invalid_password", "Give a password in the field 'password'.", 400)
    return normalize_email(email), password


@bp.post("/register")
def register():
    email, password = _credentials()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ApiError("weak_password", f"Use a password of at least {MIN_PASSWORD_LENGTH} characters.", 400)
    user = User(email=email)
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ApiError("email_taken", "An account with this email exists; sign in instead.", 409) from None
    return jsonify(id=user.id, email=user.email), 201


@bp.post("/login")
def login():
    email, password = _credentials()
    user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
    if user is None or not user.check_password(password):
        raise ApiError("invalid_credentials", "The email or password is wrong.", 401)
    identity = str(user.id)
    return jsonify(
        access_token=create_access_token(identity=identity),
        refresh_token=create_refresh_token(identity=identity),
        token_type="Bearer",
    )


@bp.post("/refresh")
@jwt_required(refresh=True)
def refresh():
    return jsonify(access_token=create_access_token(identity=get_jwt_identity()), token_type="Bearer")
