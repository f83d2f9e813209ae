"""split attempts and heartbeat on jobs; the maintenance lease

A job's split now counts its attempts and beats like a chunk, so a PDF that kills its
process while being split fails with worker_lost instead of being redelivered forever.
maintenance_runs holds one row: the lease that lets one worker of many run the
periodic repairs each interval, and what the last run did (troubleshoot.py, /metrics).

Revision ID: 0006_split_attempts_maintenance
Revises: 0005_jobs_updated_at_trigger
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


revision = '0006_split_attempts_maintenance'
down_revision = '0005_jobs_updated_at_trigger'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        'maintenance_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('holder', sa.String(length=200), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.execute("INSERT INTO maintenance_runs (id, due_at) VALUES (1, CURRENT_TIMESTAMP)")


def downgrade():
    op.drop_table('maintenance_runs')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('attempts')
