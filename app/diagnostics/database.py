"""Checks of PostgreSQL: reachable, migrated, the expected schema, readable documents."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from app import models  # noqa: F401 - registers the tables on the metadata
from app.diagnostics.results import CheckResult, Context, describe, failed, passed, skipped
from app.diagnostics.settings import check_connection_budget
from app.extensions import db

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
UPGRADE_FIX = "Run `flask --app app db upgrade` with this DATABASE_URL (the release step should do it)."


def connect(context: Context) -> sa.Connection:
    """Open a connection whose statements give up after the check's timeout."""
    connection = context.engine.connect()
    connection.execute(sa.text(f"SET statement_timeout = {int(context.timeout * 1000)}"))
    return connection


def check_database(context: Context) -> CheckResult:
    """The database answers; report its latency and server version."""
    if not context.config.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
        return failed(
            "database", "DATABASE_URL is not PostgreSQL", "Set DATABASE_URL to the PostgreSQL database."
        )
    context.engine = sa.create_engine(
        context.config.SQLALCHEMY_DATABASE_URI,
        poolclass=sa.NullPool,
        connect_args={"connect_timeout": max(1, int(context.timeout))},
    )
    started = time.perf_counter()
    try:
        with connect(context) as connection:
            version = connection.execute(sa.text("SHOW server_version")).scalar_one()
            context.notes["max_connections"] = int(
                connection.execute(sa.text("SHOW max_connections")).scalar_one()
            )
    except sa.exc.DBAPIError as error:
        return failed(
            "database",
            describe(error.orig or error),
            "Check DATABASE_URL: host, port, user, password and database name, and that the server"
            " accepts connections from here (firewall, private network, sslmode).",
        )
    context.database_ok = True
    latency = (time.perf_counter() - started) * 1000
    return passed("database", f"PostgreSQL {version}, connected in {latency:.0f} ms")


def check_migrations(context: Context) -> CheckResult:
    """The database is at the head revision and the models match it."""
    if not context.database_ok:
        return skipped("migrations", "the database is unreachable")
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    with connect(context) as connection:
        migration_context = MigrationContext.configure(connection)
        current = migration_context.get_current_revision()
        if current != head:
            return failed(
                "migrations", f"database at {current or 'no revision'}, code at {head}", UPGRADE_FIX
            )
        drift = compare_metadata(migration_context, db.metadata)
    if drift:
        return failed(
            "migrations",
            f"at head {head}, but the models differ from the schema: {str(drift[0])[:200]}",
            "Generate a migration for the model change (`flask --app app db migrate`), review it, and upgrade.",
        )
    return passed("migrations", f"at head {head}; the models match the schema")


def check_schema(context: Context) -> CheckResult:
    """Every table and column the models use exists."""
    if not context.database_ok:
        return skipped("schema", "the database is unreachable")
    with connect(context) as connection:
        inspector = sa.inspect(connection)
        existing = set(inspector.get_table_names())
        missing = []
        for table in db.metadata.sorted_tables:
            if table.name not in existing:
                missing.append(table.name)
                continue
            columns = {column["name"] for column in inspector.get_columns(table.name)}
            missing += [
                f"{table.name}.{column.name}" for column in table.columns if column.name not in columns
            ]
    if missing:
        return failed("schema", "missing: " + ", ".join(missing[:10]), UPGRADE_FIX)
    context.schema_ok = True
    return passed("schema", f"{len(db.metadata.tables)} tables with all their columns")


def check_documents_readable(context: Context) -> CheckResult:
    """The stored PDFs can be read, as a worker reads them."""
    if not context.schema_ok:
        return skipped("documents", "the schema is incomplete or unreachable")
    with connect(context) as connection:
        row = connection.execute(sa.text("SELECT job_id, length(content) FROM documents LIMIT 1")).first()
    if row is None:
        return passed("documents", "the documents table is readable (empty)")
    return passed("documents", f"read document of job {row[0]}: {row[1]} bytes")


def check_connections(context: Context) -> CheckResult:
    """The connection pools of every process fit in the server's max_connections."""
    if not context.database_ok:
        return skipped("connection-budget", "the database is unreachable")
    return check_connection_budget(context, context.notes["max_connections"])
