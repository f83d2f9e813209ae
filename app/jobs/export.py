"""Write a job's full results as JSON, NDJSON or CSV, piece by piece.

Sentences come from a server-side cursor and leave as they arrive, so memory stays flat
however long the document is. Embedding vectors are not exported.

A CSV lands in a spreadsheet, which runs a cell that starts like a formula; the text
of an uploaded PDF is the attacker's. Every text cell that starts with one of OWASP's
formula triggers (``= + - @``, tab, carriage return) leaves with a single quote in
front, which spreadsheets show as text and do not evaluate. Numbers the server computes
(a negative sentiment score) stay numbers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from werkzeug.utils import secure_filename

from app.jobs.sentences import stream_sentences
from app.jobs.views import analysis_statuses, chunk_views, job_summary, sentences_in
from app.models import Job

EXPORT_FORMATS = {"json": "application/json", "ndjson": "application/x-ndjson", "csv": "text/csv"}
CSV_COLUMNS = (
    "chunk_index", "position", "page", "start", "end", "text", "sentiment", "sentiment_compound",
    "has_pii", "pii_types", "language", "language_confidence", "analysis",
)  # fmt: skip
FLUSH_BYTES = 64 * 1024  # one write per this much output, not one per sentence
# OWASP's CSV-injection rule: a cell starting with one of these is a formula to a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def export_filename(job: Job, fmt: str) -> str:
    """An ASCII download name: the uploaded file's stem and the job id's first characters."""
    stem = secure_filename(Path(job.filename).stem) or "results"
    return f"{stem}-{job.id[:8]}.{fmt}"


def export_stream(job: Job, fmt: str) -> Iterator[bytes]:
    """The job's results in the format, as a stream of byte chunks."""
    writer = {"json": _json_pieces, "ndjson": _ndjson_pieces, "csv": _csv_pieces}[fmt]
    return _batched(writer(job))


def _header(job: Job) -> dict:
    chunks = chunk_views(job.id)
    summary = job_summary(job) | {"analyses": analysis_statuses(job), "sentence_count": sentences_in(chunks)}
    return {"job": summary, "results": job.results, "chunks": chunks}


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_pieces(job: Job) -> Iterator[str]:
    yield _dumps(_header(job))[:-1] + ',"sentences":['
    for number, sentence in enumerate(stream_sentences(job.id)):
        yield ("," if number else "") + _dumps(sentence)
    yield "]}\n"


def _ndjson_pieces(job: Job) -> Iterator[str]:
    yield _dumps(_header(job)) + "\n"
    for sentence in stream_sentences(job.id):
        yield _dumps(sentence) + "\n"


def _csv_pieces(job: Job) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for sentence in stream_sentences(job.id):
        writer.writerow([spreadsheet_safe(cell) for cell in _csv_row(sentence)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def spreadsheet_safe(cell: object) -> object:
    """Prefix a text cell a spreadsheet would run as a formula with a single quote."""
    if isinstance(cell, str) and cell.startswith(FORMULA_TRIGGERS):
        return "'" + cell
    return cell


def _csv_row(sentence: dict) -> list:
    analysis = sentence["analysis"] or {}
    sentiment = analysis.get("sentiment") or {}
    language = analysis.get("language") or {}
    pii_types = sorted({found["type"] for found in analysis.get("pii") or []})
    has_pii = sentence["has_pii"]
    return [
        sentence["chunk_index"],
        sentence["position"],
        sentence["page"],
        sentence["start"],
        sentence["end"],
        sentence["text"],
        sentence["sentiment"] or "",
        sentiment.get("compound", ""),
        "" if has_pii is None else str(has_pii).lower(),
        ";".join(pii_types),
        sentence["language"] or "",
        language.get("confidence", ""),
        _dumps(analysis),
    ]


def _batched(pieces: Iterable[str]) -> Iterator[bytes]:
    pending: list[str] = []
    size = 0
    for piece in pieces:
        pending.append(piece)
        size += len(piece)
        if size >= FLUSH_BYTES:
            yield "".join(pending).encode()
            pending, size = [], 0
    if pending:
        yield "".join(pending).encode()
