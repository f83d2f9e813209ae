"""The error type every layer raises for problems the client must hear about."""

from __future__ import annotations


class ApiError(Exception):
    """An error rendered to the client as ``{"error": {"code", "message"}}``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class ValidationFailed(ApiError):
    """A request that does not match its schema: a 422 with the messages of each bad field."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        problems = "; ".join(f"{name}: {messages[0]}" for name, messages in fields.items())
        super().__init__("validation_error", f"Fix the request ({problems}).", 422)
        self.fields = fields
