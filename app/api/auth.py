"""Register, sign in and refresh tokens."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt_identity, jwt_required
from sqlalchemy.exc import IntegrityError

from app.api.openapi import BEARER, api_spec, responses
from app.api.schemas.requests import Credentials, Registration
from app.api.schemas.responses import AccessToken, Account, Tokens
from app.errors import ApiError
from app.extensions import db
from app.models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.post("/register")
@api_spec.validate(json=Registration, resp=responses(409, HTTP_201=Account), tags=["auth"])
def register():
    """Create an account."""
    body: Registration = request.context.json
    user = User(email=body.email)
    user.set_password(body.password)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ApiError("email_taken", "An account with this email exists; sign in instead.", 409) from None
    return jsonify(id=user.id, email=user.email), 201


@bp.post("/login")
@api_spec.validate(json=Credentials, resp=responses(401, HTTP_200=Tokens), tags=["auth"])
def login():
    """Sign in: an access token (1 h) and a refresh token (30 days)."""
    body: Credentials = request.context.json
    user = db.session.execute(db.select(User).where(User.email == body.email)).scalar_one_or_none()
    if user is None or not user.check_password(body.password):
        raise ApiError("invalid_credentials", "The email or password is wrong.", 401)
    identity = str(user.id)
    return jsonify(
        access_token=create_access_token(identity=identity),
        refresh_token=create_refresh_token(identity=identity),
        token_type="Bearer",
    )


@bp.post("/refresh")
@jwt_required(refresh=True)
@api_spec.validate(resp=responses(401, HTTP_200=AccessToken), security=BEARER, tags=["auth"])
def refresh():
    """A new access token, with the refresh token as the bearer token."""
    return jsonify(access_token=create_access_token(identity=get_jwt_identity()), token_type="Bearer")
