"""The error type every layer raises for problems the client must hear about."""

from __future__ import annotations


class ApiError(Exception):
    """An error rendered to the client as ``{"error": {"code", "message"}}``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
