"""Who a request counts against: its client's address, its account, and the trusted proxies.

Every throttle keys on the client's address. Behind Railway's edge the peer is the proxy,
which appends the address it was called from to ``X-Forwarded-For``; with
``TRUSTED_PROXY_HOPS`` set to the number of such proxies, Werkzeug's ProxyFix takes the
address that many entries from the right as ``request.remote_addr``. Whatever a client
writes further left is ignored, and with no trusted hop (the local default) the header
is ignored altogether, so a client cannot pick the address it is counted under.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app.models.user import normalize_email


def init_trusted_proxies(app: Flask) -> None:
    """Take the client's address from the forwarded-for hops of the trusted proxies, if any."""
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        # Only the address: the scheme, host and prefix stay what the server saw.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=0, x_host=0, x_port=0, x_prefix=0)


def client_address() -> str:
    """The throttle key of the calling client: its address."""
    return f"address:{request.remote_addr}"


def login_account() -> str:
    """The throttle key of the account a sign-in names: its normalised email, whether or not it exists."""
    return f"account:{normalize_email(request.context.json.email)}"


def limit(name: str) -> Callable[[], str]:
    """A rate limit read from the configuration when a request comes, so tests and deployments can set it."""
    return lambda: current_app.config[name]


def failed_sign_in(response: Response) -> bool:
    """Only refused sign-ins count against an account: its owner may sign in as often as needed."""
    return response.status_code == 401
