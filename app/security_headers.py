"""Security headers on every response: no sniffing, no framing, no referrer, a CSP by content type.

HTML pages get a policy that allows only the app's own scripts, styles and images;
everything else (JSON, CSV, event streams, static assets) gets ``default-src 'none'``,
which a browser applies if someone opens the response as a document. A view whose
page needs more (e.g. inline styles of a docs bundle) sets its own policy with
``page_policy(...)``; a header already on the response is never replaced.
"""

from __future__ import annotations

from flask import Flask, Response, current_app

PAGE_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def page_policy(**overrides: str) -> str:
    """Build the page CSP with some directives replaced, e.g. ``page_policy(style_src="'self' 'unsafe-inline'")``."""
    directives = PAGE_DIRECTIVES | {name.replace("_", "-"): value for name, value in overrides.items()}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


PAGE_POLICY = page_policy()


def add_security_headers(response: Response) -> Response:
    """Set the headers a view has not set itself."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault(
        "Content-Security-Policy", PAGE_POLICY if response.mimetype == "text/html" else API_POLICY
    )
    hsts_seconds = current_app.config["HSTS_SECONDS"]
    if hsts_seconds > 0:
        headers.setdefault("Strict-Transport-Security", f"max-age={hsts_seconds}")
    return response


def init_security_headers(app: Flask) -> None:
    """Add the security headers to every response, errors included."""
    app.after_request(add_security_headers)
