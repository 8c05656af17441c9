"""threads indexed by when they were opened, closed and merged (the metrics' windows)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:00:00
"""
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_thread_created', 'thread', ['created_at'], unique=False)
    op.create_index('ix_thread_closed', 'thread', ['closed_at'], unique=False)
    op.create_index('ix_thread_merged', 'thread', ['merged_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_thread_merged', table_name='thread')
    op.drop_index('ix_thread_closed', table_name='thread')
    op.drop_index('ix_thread_created', table_name='thread')
