"""job limits: sentences and result bytes stored per job

A job counts the sentences it stored and the bytes they take as each chunk completes
(in the transaction that writes them, under the job's row lock): MAX_JOB_SENTENCES is
enforced exactly on the first, and each user's storage quota (USER_STORAGE_MB) adds
the second to the size of their PDFs. Existing jobs are counted from their sentences,
on PostgreSQL (the development SQLite database starts its counts at zero).

Revision ID: 0008_job_limits
Revises: 0007_auth_token_families
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


revision = '0008_job_limits'
down_revision = '0007_auth_token_families'
branch_labels = None
depends_on = None

# app/jobs/sentence_writer.py's measure of a stored sentence row.
ROW_OVERHEAD_BYTES = 100


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sentence_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('result_bytes', sa.BigInteger(), nullable=False, server_default='0'))
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(
        f"""
        UPDATE jobs SET sentence_count = counted.sentences, result_bytes = counted.bytes
        FROM (
            SELECT job_id, count(*) AS sentences,
                   sum({ROW_OVERHEAD_BYTES} + octet_length(text) + octet_length(analysis::text)
                       + coalesce(octet_length(embedding), 0)) AS bytes
            FROM sentences GROUP BY job_id
        ) AS counted
        WHERE jobs.id = counted.job_id
        """
    )


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('result_bytes')
        batch_op.drop_column('sentence_count')
