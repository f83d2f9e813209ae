"""Issue 11's attacks on accounts, for bench/hostile.py: what each costs, before and after.

Every attack uses only the ``Target`` interface and plain HTTP, so it runs unchanged
against an older commit's platform, and reports what happened (statuses, seconds)
rather than assume an endpoint or a limit exists. Each client is a distinct address in
``X-Forwarded-For``, which the platform honours only where it trusts a proxy hop. Two
attacks start a second API of the target's checkout (the working directory of its
gunicorn) on the target's database, once without secrets and once without a metrics
token, as a deploy with a typo would.
"""

from __future__ import annotations

import os
import secrets
import signal
import statistics
import subprocess
import time
import uuid
from contextlib import suppress
from pathlib import Path

import jwt
import requests

from bench.hostile_target import Target, dockerfile_instruction, tally
from bench.services import free_port
from bench.textpdf import render_text_pdf

DEV_SECRET = "dev-only-secret-not-for-production-use"  # config.DEV_SECRET, public in the repository
START_SECONDS = 60
_addresses = iter(range(1, 1 << 24))


def client_address() -> str:
    """A private address no other client of this module uses (172.16.0.0/12, apart from the Target's)."""
    number = next(_addresses)
    return f"172.{16 + (number >> 16) % 16}.{(number >> 8) & 255}.{number & 255}"


def new_email() -> str:
    return f"hostile-{secrets.token_hex(5)}@example.com"


def post(
    target: Target, path: str, body: dict | None, address: str, token: str | None = None
) -> requests.Response:
    headers = {"X-Forwarded-For": address} | ({"Authorization": f"Bearer {token}"} if token else {})
    return requests.post(f"{target.api_url}{path}", json=body, headers=headers, timeout=60)


def login(target: Target, email: str, password: str, address: str) -> requests.Response:
    return post(target, "/api/v1/auth/login", {"email": email, "password": password}, address)


def error_code(response: requests.Response) -> str | None:
    with suppress(ValueError, AttributeError, KeyError, TypeError):
        return response.json()["error"]["code"]
    return None


def attack_password_guessing(target: Target) -> dict[str, object]:
    """40 wrong passwords for one account from one client."""
    email, _, _, _ = target.new_user()
    attacker = client_address()
    started = time.perf_counter()
    replies = [login(target, email, "not-the-password", attacker) for _ in range(40)]
    seconds = time.perf_counter() - started
    statuses = [reply.status_code for reply in replies]
    limited = [reply for reply in replies if reply.status_code == 429]
    return {
        "statuses": tally(statuses),
        "first_429": statuses.index(429) + 1 if limited else None,
        "retry_after_s": limited[0].headers.get("Retry-After") if limited else None,
        "guesses_checked_per_second": round(statuses.count(401) / seconds, 1),
        "seconds": round(seconds, 2),
    }


def attack_login_timing(target: Target) -> dict[str, object]:
    """login for an existing vs unknown email."""
    email, _, _, _ = target.new_user()
    times: dict[str, list[float]] = {"existing": [], "unknown": []}
    statuses: list[int] = []
    for _ in range(9):  # under a per-account limit of 10 a minute; each from an address of its own
        for kind, tried in (("existing", email), ("unknown", new_email())):
            started = time.perf_counter()
            statuses.append(login(target, tried, "not-the-password", client_address()).status_code)
            times[kind].append(time.perf_counter() - started)
    existing, unknown = (statistics.median(times[kind]) * 1000 for kind in ("existing", "unknown"))
    return {
        "statuses": tally(statuses),
        "median_existing_ms": round(existing, 1),
        "median_unknown_ms": round(unknown, 1),
        "unknown_over_existing": round(unknown / existing, 2),
    }


def attack_refresh_reuse_and_logout(target: Target) -> dict[str, object]:
    """same refresh token used twice; `/auth/logout`."""
    email, password, _, _ = target.new_user()
    address = client_address()
    tokens = login(target, email, password, address).json()
    refresh = "/api/v1/auth/refresh"
    first = post(target, refresh, None, address, tokens["refresh_token"])
    second = post(target, refresh, None, address, tokens["refresh_token"])
    rotated = first.json().get("refresh_token") if first.ok else None
    same = rotated is not None and second.ok and second.json().get("refresh_token") == rotated
    figures: dict[str, object] = {
        "refresh_twice": tally([first.status_code, second.status_code]),
        "new_refresh_token": rotated is not None,
        "same_successor_at_once": same,
    }
    if rotated is not None:
        time.sleep(11)  # past the default 10 s grace
        late = post(target, refresh, None, address, tokens["refresh_token"])
        after = post(target, refresh, None, address, rotated)
        figures |= {
            "reuse_after_11_s": f"{late.status_code} {error_code(late) or ''}".strip(),
            "successor_after_reuse": f"{after.status_code} {error_code(after) or ''}".strip(),
        }
    else:
        late = post(target, refresh, None, address, tokens["refresh_token"])
        figures["old_token_later"] = late.status_code

    tokens = login(target, email, password, client_address()).json()
    started = time.perf_counter()
    logout = post(target, "/api/v1/auth/logout", None, address, tokens["access_token"])
    figures["logout"] = logout.status_code
    refreshed = post(target, refresh, None, address, tokens["refresh_token"])
    figures["refresh_after_logout"] = refreshed.status_code
    access = tokens["access_token"]
    if logout.status_code == 204:
        figures["access_refused_after_s"] = seconds_until_refused(target, access, address, started)
    else:
        listing = requests.get(f"{target.api_url}/api/v1/jobs", headers=bearer(access), timeout=30)
        figures["access_after_logout"] = listing.status_code
    return figures


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def seconds_until_refused(
    target: Target, token: str, address: str, since: float, limit: float = 65
) -> float | None:
    """Seconds from ``since`` until every API process refuses the token (ten 401s in a row); None if never."""
    in_a_row = 0
    while time.perf_counter() - since < limit:
        headers = bearer(token) | {"X-Forwarded-For": address}
        status = requests.get(f"{target.api_url}/api/v1/jobs", headers=headers, timeout=30).status_code
        in_a_row = in_a_row + 1 if status == 401 else 0
        if in_a_row == 10:
            return round(time.perf_counter() - since, 1)
        time.sleep(0.1)
    return None


def attack_no_app_env_no_secrets(target: Target) -> dict[str, object]:
    """no `APP_ENV`, no secrets set (a typo in a deploy)."""
    email, _, token, _ = target.new_user()
    uploaded = target.upload(token, render_text_pdf(1, chars_per_page=300, seed=1101), "victim.pdf")
    user_id = target.sql("SELECT id FROM users WHERE email = %s", email)[0][0]
    figures: dict[str, object] = {"victim_upload": uploaded.status_code}
    # The target's own API runs with real secrets: a token signed with the public one.
    forged = forged_token(user_id)
    figures["forged_token_on_target"] = requests.get(
        f"{target.api_url}/api/v1/jobs", headers=bearer(forged), timeout=30
    ).status_code
    unset = ("APP_ENV", "FLASK_ENV", "SECRET_KEY", "JWT_SECRET_KEY", "METRICS_TOKEN")
    typo_deploy = {name: value for name, value in target.env.items() if name not in unset}
    with second_api(target, typo_deploy) as (url, log):
        figures |= started_or_refused(url, log)
        if url:
            listing = requests.get(f"{url}/api/v1/jobs", headers=bearer(forged), timeout=30)
            figures["forged_token_reads_jobs"] = listing.status_code
            if listing.ok:
                figures["jobs_read"] = len(listing.json().get("jobs", []))
    return figures


def attack_production_without_metrics_token(target: Target) -> dict[str, object]:
    """production without `METRICS_TOKEN`."""
    env = {name: value for name, value in target.env.items() if name != "METRICS_TOKEN"}
    env["APP_ENV"] = "production"
    figures: dict[str, object] = {}
    with second_api(target, env) as (url, log):
        figures |= started_or_refused(url, log)
        if url:
            metrics = requests.get(f"{url}/metrics", timeout=30)
            figures |= {"metrics_status": metrics.status_code, "metrics_bytes": len(metrics.content)}
    return figures


def attack_signup_bypass(target: Target) -> dict[str, object]:
    """30 sign-ups in 3.3 s, then 10 uploads each."""
    attacker = client_address()
    started = time.perf_counter()
    signups = [
        post(target, "/api/v1/auth/register", {"email": new_email(), "password": "a long password"}, attacker)
        for _ in range(30)
    ]
    signup_seconds = time.perf_counter() - started
    accounts = [reply.json()["email"] for reply in signups if reply.status_code == 201]
    statuses: list[int] = []
    started = time.perf_counter()
    for n, email in enumerate(accounts):
        token = login(target, email, "a long password", attacker).json().get("access_token")
        for upload in range(10):
            pdf = render_text_pdf(1, chars_per_page=200, seed=20_000 + 100 * n + upload)
            reply = requests.post(
                f"{target.api_url}/api/v1/jobs",
                headers=bearer(token) | {"X-Forwarded-For": attacker},
                files={"file": ("doc.pdf", pdf, "application/pdf")},
                timeout=120,
            )
            statuses.append(reply.status_code)
    upload_seconds = time.perf_counter() - started
    return {
        "signups": tally([reply.status_code for reply in signups]),
        "signup_seconds": round(signup_seconds, 2),
        "uploads": tally(statuses),
        "uploads_accepted": statuses.count(202),
        "upload_seconds": round(upload_seconds, 2),
    }


def forged_token(user_id: int) -> str:
    """An access token for the user, as the platform would sign it with the development secret."""
    now = int(time.time())
    claims = {"fresh": False, "iat": now, "jti": str(uuid.uuid4()), "type": "access", "sub": str(user_id)}
    return jwt.encode(claims | {"nbf": now, "exp": now + 3600}, DEV_SECRET, "HS256")


def started_or_refused(url: str | None, log: Path) -> dict[str, object]:
    if url:
        return {"started": True}
    text = log.read_text(errors="replace")
    named = [name for name in ("SECRET_KEY", "JWT_SECRET_KEY", "METRICS_TOKEN") if f"Set {name}" in text]
    return {"started": False, "refusal_names": " ".join(named) or None}


class second_api:  # noqa: N801 - used as a context manager, like open()
    """The target checkout's API (Dockerfile.web's CMD) with the given environment, on a port of its own.

    Yields (url, log) once it answers, or (None, log) once it has exited; stops it afterwards.
    """

    def __init__(self, target: Target, env: dict[str, str]) -> None:
        self.source = Path(os.readlink(f"/proc/{target.web_pids()[0]}/cwd"))
        self.env = env
        self.log = target.workdir / f"second-api-{secrets.token_hex(3)}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> tuple[str | None, Path]:
        port = free_port()
        command = dockerfile_instruction(self.source, "Dockerfile.web", "CMD")
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                command, cwd=self.source, env=self.env | {"PORT": str(port)}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            with suppress(requests.RequestException):
                requests.get(f"{url}/api/v1/health", timeout=2)
                return url, self.log
            time.sleep(0.2)
        return None, self.log

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


ATTACKS = [
    attack_password_guessing,
    attack_login_timing,
    attack_refresh_reuse_and_logout,
    attack_no_app_env_no_secrets,
    attack_production_without_metrics_token,
    attack_signup_bypass,
]
