"""analysis results: chosen analyses and document results per job, analyzer columns per sentence

Revision ID: 0004_analysis_results
Revises: 0003_heartbeats_idempotency
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_analysis_results'
down_revision = '0003_heartbeats_idempotency'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('analyses', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('results', sa.JSON(), nullable=True))

    with op.batch_alter_table('sentences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('embedding', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('sentiment', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('has_pii', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=True))
        batch_op.create_index('ix_sentences_job_page', ['job_id', 'page'], unique=False)


def downgrade():
    with op.batch_alter_table('sentences', schema=None) as batch_op:
        batch_op.drop_index('ix_sentences_job_page')
        batch_op.drop_column('language')
        batch_op.drop_column('has_pii')
        batch_op.drop_column('sentiment')
        batch_op.drop_column('embedding')

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('results')
        batch_op.drop_column('analyses')
