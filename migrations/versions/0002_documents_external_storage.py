"""Store PDF bytes uncompressed out of line, so workers can read them in slices

PDFs are compressed already; EXTERNAL storage skips a pointless TOAST compression
and lets substr() fetch a slice without decompressing the whole document.

Revision ID: 0002_documents_external_storage
Revises: 0001_initial
Create Date: 2026-11-25

"""

from alembic import op

revision = "0002_documents_external_storage"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE documents ALTER COLUMN content SET STORAGE EXTERNAL")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE documents ALTER COLUMN content SET STORAGE EXTENDED")
