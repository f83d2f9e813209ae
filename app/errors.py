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

    def __init__(self, fields: dict[str, list[str]], message: str | None = None) -> None:
        names = ", ".join(sorted(fields)) or "the request"
        super().__init__(
            "validation_error",
            message or f"Fix the invalid fields ({names}); error.fields says what each needs.",
            422,
        )
        self.fields = fields
