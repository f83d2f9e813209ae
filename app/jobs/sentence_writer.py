"""Write a chunk's sentences in bulk: COPY on PostgreSQL, one executemany elsewhere.

Sentence rows dominate the write cost of a job (hundreds per chunk); COPY streams
them in one round trip and skips per-row statement overhead on both sides.
"""

from __future__ import annotations

import csv
import io
import json

import psycopg2
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models import Sentence

COLUMNS = (
    "job_id", "chunk_index", "position", "page", "start", "end", "text",
    "embedding", "sentiment", "has_pii", "language", "analysis",
)  # fmt: skip
_COPY_SQL = "COPY sentences ({}) FROM STDIN WITH (FORMAT csv)".format(", ".join(f'"{c}"' for c in COLUMNS))
# What PostgreSQL stores for a row besides its text, analysis and embedding: the tuple
# header, the key, page and offsets, the short columns, the primary key's index entry.
ROW_OVERHEAD_BYTES = 100


def insert_sentences(rows: list[dict]) -> int:
    """Insert sentence rows (dicts keyed by COLUMNS) in the session's transaction; return the bytes they take.

    The bytes (text, analysis JSON, embedding and a fixed overhead per row) count
    against their owner's storage quota.
    """
    if not rows:
        return 0
    connection = db.session.connection()
    rows = [{column: row.get(column) for column in COLUMNS} for row in rows]  # analyzers set some
    stored = 0
    for row in rows:
        row["analysis_json"] = json.dumps(row["analysis"], separators=(",", ":"))
        stored += ROW_OVERHEAD_BYTES + len(row["text"].encode("utf-8", "surrogatepass"))
        stored += len(row["analysis_json"]) + len(row["embedding"] or b"")
    if connection.dialect.name != "postgresql":
        db.session.execute(db.insert(Sentence), [{c: row[c] for c in COLUMNS} for row in rows])
        return stored
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([copy_value(row[c]) for c in COLUMNS[:-1]] + [row["analysis_json"]])
    buffer.seek(0)
    try:
        with connection.connection.driver_connection.cursor() as cursor:
            cursor.copy_expert(_COPY_SQL, buffer)
    except psycopg2.Error as error:
        raise _as_sqlalchemy_error(connection, error) from error
    return stored


def copy_value(value: object) -> object:
    """Render a value for COPY's CSV format: NULL is an empty field, bytea is hex."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    return value


def _as_sqlalchemy_error(connection: Connection, error: psycopg2.Error) -> DBAPIError:
    """Wrap a driver error the way SQLAlchemy wraps its own statements' errors.

    COPY runs on the raw cursor, outside SQLAlchemy; without this a lost connection
    would be neither invalidated nor recognised as transient by safe_commit.
    """
    lost = connection.dialect.is_disconnect(error, connection.connection.driver_connection, None)
    if lost:
        connection.invalidate(error)
    return DBAPIError.instance(
        _COPY_SQL, None, error, psycopg2.Error, connection_invalidated=lost, dialect=connection.dialect
    )
