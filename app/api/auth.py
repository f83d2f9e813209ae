"""Register, sign in, refresh tokens and sign out.

Sign-ins are throttled per account (failed ones, keyed on the normalised email whether or
not it has an account) and per client address, sign-ups per address (app/api/throttles.py);
the limits are checked once the body is valid, so a malformed request costs no attempt.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_jwt_extended import get_jwt, jwt_required
from sqlalchemy.exc import IntegrityError

from app.accounts import Tokens, authenticate, end_session, refresh_session, start_session
from app.api.openapi import BEARER, api_spec, responses
from app.api.schemas.requests import Credentials, Registration
from app.api.schemas.responses import Account
from app.api.schemas.responses import Tokens as TokensBody
from app.api.throttles import client_address, failed_sign_in, limit, login_account
from app.errors import ApiError
from app.extensions import db, limiter
from app.models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")


def tokens_response(tokens: Tokens):
    return jsonify(access_token=tokens.access_token, refresh_token=tokens.refresh_token, token_type="Bearer")


@bp.post("/register")
@api_spec.validate(json=Registration, resp=responses(409, 429, HTTP_201=Account), tags=["auth"])
@limiter.limit(limit("REGISTER_RATE_LIMIT"), key_func=client_address)
def register():
    """Create an account (sign-ups are limited per client address)."""
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
@api_spec.validate(json=Credentials, resp=responses(401, 429, HTTP_200=TokensBody), tags=["auth"])
@limiter.limit(limit("LOGIN_ADDRESS_RATE_LIMIT"), key_func=client_address)
@limiter.limit(limit("LOGIN_ACCOUNT_RATE_LIMIT"), key_func=login_account, deduct_when=failed_sign_in)
def login():
    """Sign in: an access token (1 h) and a refresh token (30 days, good for one refresh)."""
    body: Credentials = request.context.json
    user = authenticate(body.email, body.password)
    if user is None:
        raise ApiError("invalid_credentials", "The email or password is wrong.", 401)
    return tokens_response(start_session(user.id))


@bp.post("/refresh")
@jwt_required(refresh=True)
@api_spec.validate(resp=responses(401, HTTP_200=TokensBody), security=BEARER, tags=["auth"])
def refresh():
    """With the refresh token as the bearer token: a new access token and a new refresh token.

    Keep the new refresh token: the one sent is used up. Sent again within
    REFRESH_REUSE_GRACE_SECONDS it answers with the same new pair; later, it signs this
    sign-in out everywhere (401 ``token_revoked``), since someone else may hold a copy.
    """
    return tokens_response(refresh_session(get_jwt()))


@bp.post("/logout")
@jwt_required(verify_type=False)
@api_spec.validate(resp=responses(401, empty=(204,)), security=BEARER, tags=["auth"])
def logout():
    """Sign out, with the access or the refresh token: both stop working (refresh at once, access within a minute)."""
    end_session(get_jwt()["fam"])
    return "", 204
