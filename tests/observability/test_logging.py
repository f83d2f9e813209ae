"""Log lines: JSON objects with the request id and job id, or text tagged with them."""

from __future__ import annotations

import io
import json
import logging

from app.logging_setup import JsonFormatter, TextFormatter
from tests.support import auth_headers, upload


def capture(formatter: logging.Formatter) -> tuple[logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    return handler, stream


def test_log_lines_during_an_upload_are_json_with_request_and_job_ids(client, shared_pdfs, caplog):
    caplog.set_level(logging.INFO)
    handler, stream = capture(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        headers = auth_headers(client)
        data = (shared_pdfs / "sf__pdflatex-4-pages.pdf").read_bytes()
        accepted = upload(client, headers | {"X-Request-ID": "upload-42"}, data)
    finally:
        root.removeHandler(handler)

    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    queued = [entry for entry in entries if entry["message"].endswith(" queued")]
    assert queued, entries
    assert queued[0]["request_id"] == "upload-42"
    assert queued[0]["job_id"] == accepted.json["job_id"]
    assert queued[0]["level"] == "INFO" and queued[0]["logger"] == "app.jobs.queue"
    assert queued[0]["timestamp"].endswith("+00:00")


def test_json_lines_carry_extras_and_tracebacks_on_one_line():
    handler, stream = capture(JsonFormatter())
    logger = logging.getLogger("tests.json")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("Failed %s", "here", extra={"chunk": 3})
    finally:
        logger.removeHandler(handler)

    [line] = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["message"] == "Failed here" and entry["level"] == "ERROR" and entry["chunk"] == 3
    assert "ValueError: boom" in entry["exc_info"]
    assert "request_id" not in entry and "job_id" not in entry


def test_text_lines_are_tagged_with_the_request_id(client):
    handler, stream = capture(TextFormatter())
    logger = logging.getLogger("tests.text")
    logger.addHandler(handler)
    try:
        with client.application.test_request_context(headers={"X-Request-ID": "text-7"}):
            client.application.preprocess_request()
            logger.warning("hello")
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().rstrip().endswith("hello [request_id=text-7]")
