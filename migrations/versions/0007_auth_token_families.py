"""token families and refresh tokens: rotation, reuse detection, logout

A sign-in is a token family; each refresh rotates its refresh token, and a rotated token
presented again after the grace revokes the family. Logout revokes it too. Access and
refresh tokens carry the family id; tokens issued before this revision carry none and
are refused, so users sign in once more after the upgrade.

Revision ID: 0007_auth_token_families
Revises: 0006_split_attempts_maintenance
Create Date: 2026-12-09

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_auth_token_families'
down_revision = '0006_split_attempts_maintenance'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'token_families',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_reason', sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('token_families', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_token_families_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_token_families_revoked_at'), ['revoked_at'], unique=False)

    op.create_table(
        'refresh_tokens',
        sa.Column('jti', sa.String(length=36), nullable=False),
        sa.Column('family_id', sa.String(length=36), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('successor_jti', sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(['family_id'], ['token_families.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('jti'),
    )
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refresh_tokens_family_id'), ['family_id'], unique=False)


def downgrade():
    op.drop_table('refresh_tokens')
    op.drop_table('token_families')
