"""The OpenAPI document, generated from the views' schemas, and request validation against them.

Views are decorated with ``@api_spec.validate(query=..., json=..., form=..., headers=...,
resp=responses(...), security=BEARER)`` under their ``@jwt_required()``, so a caller
without a token hears 401 before any 422. Only requests are validated at run time:
responses go out as the view built them (streams stay streams, polls stay cheap) and
the contract test (schemathesis) checks them against the document instead.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import make_response
from pydantic import ValidationError
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData
from spectree.plugins.flask_plugin import FlaskPlugin

from app.api.schemas.responses import ErrorBody, ValidationErrorBody
from app.errors import ValidationFailed

BEARER = {"bearerAuth": []}
ERROR_DESCRIPTIONS = {
    400: "The request could not be read: a malformed multipart body, or JSON that is not (`invalid_json`).",
    401: (
        "Wrong credentials, or no, an invalid, an expired or a revoked token (`invalid_credentials`,"
        " `unauthorized`, `invalid_token`, `token_expired`, `token_revoked`)."
    ),
    403: "Your PDFs and results fill your storage quota (`storage_quota_exceeded`); delete jobs first.",
    404: "No such job of yours (`job_not_found`).",
    409: "The job's state does not allow this (see the error code).",
    413: "The upload, or a JSON body over MAX_JSON_BODY_KB, is over its size limit (`too_large`).",
    415: "The bytes are not a PDF (`unsupported_type`).",
    422: "The request does not match its schema (`validation_error`) or is refused as it stands.",
    429: (
        "Too many requests of this kind (`rate_limited`; `too_many_streams` of yours open): wait"
        " Retry-After seconds; or too many of your jobs are waiting or processing"
        " (`too_many_active_jobs`): wait for one to end."
    ),
    503: "The database or the broker is down.",
}
# Response headers the views set, by (method, path, status); spectree has no way to declare them.
HEADER_DOCS = {
    "Location": "Where to poll the job.",
    "ETag": "Weak tag of this version of the job; send it back in If-None-Match.",
    "Retry-After": "Seconds to wait before the next request.",
    "Cache-Control": "private, no-cache: revalidate every poll.",
    "Content-Disposition": "attachment, with a file name.",
}
RESPONSE_HEADERS = {
    ("post", "/api/v1/jobs", "200"): ("Location",),
    ("post", "/api/v1/jobs", "202"): ("Location",),
    ("post", "/api/v1/process-pdf-async", "200"): ("Location",),
    ("post", "/api/v1/process-pdf-async", "202"): ("Location",),
    ("post", "/api/v1/jobs/{job_id}/retry", "202"): ("Location",),
    ("post", "/api/v1/jobs", "429"): ("Retry-After",),
    ("post", "/api/v1/process-pdf-async", "429"): ("Retry-After",),
    ("post", "/api/v1/jobs/{job_id}/retry", "429"): ("Retry-After",),
    ("post", "/api/v1/auth/login", "429"): ("Retry-After",),
    ("post", "/api/v1/auth/register", "429"): ("Retry-After",),
    ("get", "/api/v1/jobs/{job_id}/search", "429"): ("Retry-After",),
    ("get", "/api/v1/jobs/{job_id}", "200"): ("ETag", "Cache-Control", "Retry-After"),
    ("get", "/api/v1/jobs/{job_id}", "304"): ("ETag", "Cache-Control", "Retry-After"),
    ("get", "/api/v1/jobs/{job_id}/export", "200"): ("Content-Disposition",),
    ("get", "/api/v1/jobs/{job_id}/events", "503"): ("Retry-After",),
}
EXPORT_CONTENT = {
    "application/json": {"schema": {"type": "object"}},
    "application/x-ndjson": {"schema": {"type": "string"}},
    "text/csv": {"schema": {"type": "string"}},
}

# One event of the job's stream; ``data`` is the JSON of the job's progress (or of the error).
SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"enum": ["progress", "end", "error", "reconnect"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "retry": {"type": "integer"},
    },
}


class RequestOnlyFlaskPlugin(FlaskPlugin):
    """Validate requests only; hand the view's response back untouched."""

    def request_validation(self, request, query, json, form, headers, cookies):
        super().request_validation(request, query, json, form, headers, cookies)
        if json is not None and request.context.json is None:  # a form body where JSON is expected
            raise ValidationFailed({"body": ["Send a JSON object with Content-Type: application/json."]})

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):
        return make_response(resp), None


def field_messages(error: ValidationError) -> dict[str, list[str]]:
    """Group pydantic's errors by field: ``{"email": ["String should match pattern ..."]}``."""
    fields: dict[str, list[str]] = defaultdict(list)
    for item in error.errors(include_url=False, include_input=False):
        if item["type"] == "none_required":  # the absent branch of an optional field: not worth saying
            continue
        # The models are flat: the first part names the field, the rest are union branches.
        name = str(item["loc"][0]) if item["loc"] else "body"
        message = item["msg"].removeprefix("Value error, ")
        if message not in fields[name]:
            fields[name].append(message)
    return dict(fields)


def reject_invalid_request(request, response, error: Exception | None, instance, model_adapter) -> None:
    """Turn spectree's validation error into the API's error envelope (see app/api/errors.py)."""
    if isinstance(error, ValidationError):
        raise ValidationFailed(field_messages(error))


api_spec = SpecTree(
    "flask",
    backend=RequestOnlyFlaskPlugin,
    before=reject_invalid_request,
    validation_error_model=ValidationErrorBody,
    mode="strict",
    naming_strategy=lambda model: model.__name__,  # the schemas' names are unique across the API
    nested_naming_strategy=lambda parent, child: child,
    annotations=False,
    title="docjobs API",
    version="1",
    description=(
        "Upload PDFs, follow their jobs and read the analysed sentences. Every error is "
        '`{"error": {"code", "message"}}`; a request that does not match its schema is a 422 '
        "`validation_error` that adds `fields`: each invalid field with its messages."
    ),
    security_schemes=[
        SecurityScheme(
            name="bearerAuth",
            data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer", bearer_format="JWT"),
        )
    ],
)


def responses(*errors: int, empty: tuple[int, ...] = (), **bodies: Any) -> Response:
    """Document an operation's success bodies, its bodiless statuses and its errors (all the envelope)."""
    for status in errors:
        bodies[f"HTTP_{status}"] = (ErrorBody, ERROR_DESCRIPTIONS[status])
    return Response(*(f"HTTP_{status}" for status in empty), **bodies)


def openapi_document() -> dict[str, Any]:
    """The finished OpenAPI document of the app in context."""
    spec = _without_null_defaults(api_spec.spec)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            _finish_operation(method, path, operation)
    return spec


def _finish_operation(method: str, path: str, operation: dict) -> None:
    validated = operation.get("requestBody") or any(p["in"] != "path" for p in operation["parameters"])
    if not validated:
        operation["responses"].pop("422", None)
    if "application/json" in operation.get("requestBody", {}).get("content", {}):
        for status in (400, 413):  # app/api/request_bodies.py answers these before the view runs
            operation["responses"].setdefault(str(status), _error_response(status))
    for (m, p, status), names in RESPONSE_HEADERS.items():
        if (m, p) == (method, path) and status in operation["responses"]:
            operation["responses"][status]["headers"] = {
                name: {"description": HEADER_DOCS[name], "schema": {"type": "string"}} for name in names
            }
    if path.endswith("/export") and "200" in operation["responses"]:
        operation["responses"]["200"]["content"] = EXPORT_CONTENT
    if path.endswith("/events") and "200" in operation["responses"]:
        operation["responses"]["200"]["content"] = {"text/event-stream": {"schema": SSE_EVENT}}


def _error_response(status: int) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/ErrorBody"}
    return {"description": ERROR_DESCRIPTIONS[status], "content": {"application/json": {"schema": schema}}}


def _without_null_defaults(node: Any) -> Any:
    """Drop ``default: null`` (an absent optional parameter is not a null one)."""
    if isinstance(node, dict):
        return {k: _without_null_defaults(v) for k, v in node.items() if not (k == "default" and v is None)}
    if isinstance(node, list):
        return [_without_null_defaults(v) for v in node]
    return node
