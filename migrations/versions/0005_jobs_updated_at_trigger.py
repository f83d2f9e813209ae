"""jobs.updated_at moves on every update of the row, whoever writes it

The job's ETag and the cache of ended jobs' rendered details (app/api/polling.py) key on
updated_at. The app's writes set it through the column's onupdate; this trigger covers
raw SQL too (operators' fixes, scripts). A write that sets updated_at itself keeps its
value. PostgreSQL only: the development SQLite database relies on onupdate alone.

Revision ID: 0005_jobs_updated_at_trigger
Revises: 0004_analysis_results
Create Date: 2026-11-27

"""
from alembic import op


revision = '0005_jobs_updated_at_trigger'
down_revision = '0004_analysis_results'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(
        """
        CREATE FUNCTION jobs_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
                NEW.updated_at := clock_timestamp();
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER jobs_touch_updated_at BEFORE UPDATE ON jobs"
        " FOR EACH ROW EXECUTE FUNCTION jobs_touch_updated_at()"
    )


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP TRIGGER IF EXISTS jobs_touch_updated_at ON jobs")
    op.execute("DROP FUNCTION IF EXISTS jobs_touch_updated_at()")
