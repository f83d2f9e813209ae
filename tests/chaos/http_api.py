"""A small HTTP client for the API under gunicorn that remembers every status it was answered."""

from __future__ import annotations

import io
import json
import secrets
import threading
import urllib.error
import urllib.request
from typing import NamedTuple

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.support import PASSWORD


def client_address() -> str:
    """A random private IPv4 address: a client of its own for the API's per-address throttles."""
    return "10." + ".".join(str(part) for part in secrets.token_bytes(3))


class Reply(NamedTuple):
    status: int
    body: dict
    headers: dict[str, str] = {}


class ApiClient:
    """Call the API over real HTTP, from any number of threads."""

    def __init__(self, base_url: str, analyses: str | None = None) -> None:
        """``analyses``: what uploads ask for unless they say otherwise (None: the server's default)."""
        self.base_url = base_url
        self.analyses = analyses
        self.answers: list[tuple[str, int]] = []  # ("POST /api/v1/jobs", 202), in arrival order
        self._lock = threading.Lock()

    def call(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        content_type: str = "application/json",
    ) -> Reply:
        request = urllib.request.Request(
            self.base_url + path, data=body, method=method, headers=headers or {}
        )
        if body is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, raw, headers = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, raw, headers = error.code, error.read(), dict(error.headers)
        with self._lock:
            self.answers.append((f"{method} {path.split('?')[0]}", status))
        try:
            return Reply(status, json.loads(raw) if raw else {}, headers)
        except ValueError:
            return Reply(status, {"unparsed": raw.decode(errors="replace")[:500]}, headers)

    def new_user(self) -> dict[str, str]:
        """Register a user from a client address of its own; return the headers of its requests.

        They hold the access token and the X-Forwarded-For of that address, as Railway's
        proxy appends it: the API trusts one hop as shipped, so each user is a client of
        its own to the per-address throttles (sign-ups, sign-ins, uploads).
        """
        client = {"X-Forwarded-For": client_address()}
        credentials = json.dumps({"email": f"chaos-{secrets.token_hex(5)}@example.com", "password": PASSWORD})
        registered = self.call("POST", "/api/v1/auth/register", client, credentials.encode())
        assert registered.status == 201, registered
        login = self.call("POST", "/api/v1/auth/login", client, credentials.encode())
        assert login.status == 200, login
        return client | {"Authorization": f"Bearer {login.body['access_token']}"}

    def upload(
        self, headers: dict[str, str], data: bytes, filename: str = "doc.pdf", analyses: str | None = None
    ) -> Reply:
        fields = MultiDict({"file": FileStorage(io.BytesIO(data), filename)})
        if (analyses := analyses or self.analyses) is not None:
            fields["analyses"] = analyses
        boundary, body = encode_multipart(fields)
        content_type = f"multipart/form-data; boundary={boundary}"
        return self.call("POST", "/api/v1/jobs", headers, body, content_type)

    def job(self, headers: dict[str, str], job_id: str) -> Reply:
        return self.call("GET", f"/api/v1/jobs/{job_id}?sentences_limit=1", headers)

    def server_errors(self) -> list[tuple[str, int]]:
        """Every answer of 500 or more so far."""
        with self._lock:
            return [answer for answer in self.answers if answer[1] >= 500]
