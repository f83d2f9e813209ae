"""Diagnose a deployment: each check probes one thing and says how to fix it."""

from __future__ import annotations

from app.diagnostics.results import CheckResult, Status
from app.diagnostics.runner import run_checks

__all__ = ["CheckResult", "Status", "run_checks"]
