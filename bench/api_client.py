"""A minimal client for the platform's JSON API, on the standard library only."""

from __future__ import annotations

import http.client
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

REQUEST_TIMEOUT_SECONDS = 60
FINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


class ApiFailure(RuntimeError):
    """The API answered with an unexpected status code."""


@dataclass
class JobTiming:
    """What one upload cost, as seen by a client polling the job."""

    job: dict
    upload_seconds: float
    first_processing_seconds: float | None
    total_seconds: float
    polls: int


class ApiClient:
    """Talk to one running API over plain HTTP."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.token: str | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """Send one request and return (status, decoded JSON body or None)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT_SECONDS)
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = {"raw": raw[:500].decode(errors="replace")}
        return response.status, payload

    def expect(self, expected: int, method: str, path: str, **kwargs) -> dict:
        status, payload = self.request(method, path, **kwargs)
        if status != expected:
            raise ApiFailure(f"{method} {path} answered {status}, expected {expected}: {payload}")
        return payload

    def post_json(self, path: str, data: dict, expected: int) -> dict:
        body = json.dumps(data).encode()
        return self.expect(expected, "POST", path, body=body, headers={"Content-Type": "application/json"})

    def sign_up(self, password: str = "bench-password-123") -> None:
        """Register a fresh user and keep its access token."""
        email = f"bench-{secrets.token_hex(4)}@example.com"
        credentials = {"email": email, "password": password}
        self.post_json("/api/v1/auth/register", credentials, 201)
        self.token = self.post_json("/api/v1/auth/login", credentials, 200)["access_token"]

    def upload(self, data: bytes, filename: str) -> dict:
        """POST a PDF to /jobs as multipart form data; return the 202 body."""
        boundary = f"bench-{secrets.token_hex(12)}"
        head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        body = head + data + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        # force: every timed upload is a fresh run, never an earlier job of the same file.
        return self.expect(202, "POST", "/api/v1/jobs?force=true", body=body, headers=headers)

    def run_job(self, data: bytes, filename: str, poll_seconds: float, timeout: float) -> JobTiming:
        """Upload a PDF and poll until the job ends; time it from just before the upload."""
        started = time.perf_counter()
        job_id = self.upload(data, filename)["job_id"]
        uploaded = time.perf_counter() - started
        first_processing = None
        polls = 0
        while True:
            job = self.expect(200, "GET", f"/api/v1/jobs/{job_id}")
            polls += 1
            elapsed = time.perf_counter() - started
            if first_processing is None and job["status"] != "queued" and job["status"] != "pending":
                first_processing = elapsed
            if job["status"] in FINAL_STATUSES:
                break
            if elapsed > timeout:
                last = _brief(job)
                raise TimeoutError(f"Job {job_id} did not end within {timeout:.0f} s; last state: {last}")
            time.sleep(poll_seconds)
        if job["status"] != "completed":
            raise RuntimeError(f"Job {job_id} ended {job['status']}: {_brief(job)}")
        return JobTiming(job, uploaded, first_processing, elapsed, polls)


def _brief(job: dict) -> dict:
    return {key: value for key, value in job.items() if key not in {"chunks", "chunk_results", "sentences"}}
