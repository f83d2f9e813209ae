"""Write a chunk's sentences in bulk: COPY on PostgreSQL, one executemany elsewhere.

Sentence rows dominate the write cost of a job (hundreds per chunk); COPY streams
them in one round trip and skips per-row statement overhead on both sides.
"""

from __future__ import annotations

import csv
import io
import json

from app.extensions import db
from app.models import Sentence

COLUMNS = ("job_id", "chunk_index", "position", "page", "start", "end", "text", "analysis")
_COPY_SQL = "COPY sentences ({}) FROM STDIN WITH (FORMAT csv)".format(", ".join(f'"{c}"' for c in COLUMNS))


def insert_sentences(rows: list[dict]) -> None:
    """Insert sentence rows (dicts keyed by COLUMNS) in the session's transaction."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        db.session.execute(db.insert(Sentence), rows)
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([*(row[c] for c in COLUMNS[:-1]), json.dumps(row["analysis"], separators=(",", ":"))])
    buffer.seek(0)
    with connection.connection.driver_connection.cursor() as cursor:
        cursor.copy_expert(_COPY_SQL, buffer)
