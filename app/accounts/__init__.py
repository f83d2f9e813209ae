"""Accounts: checking credentials, and sign-ins as token families that rotate and can be revoked."""

from app.accounts.credentials import authenticate
from app.accounts.revocations import RevokedFamilies, init_token_revocation
from app.accounts.sessions import Tokens, end_session, refresh_session, start_session

__all__ = [
    "RevokedFamilies",
    "Tokens",
    "authenticate",
    "end_session",
    "init_token_revocation",
    "refresh_session",
    "start_session",
]
