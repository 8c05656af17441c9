"""where an interrupted import of history resumes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 15:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'import_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('cursor', sa.JSON(), nullable=False),
        sa.Column('done', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('source', name='uq_import_state_source'),
    )


def downgrade() -> None:
    op.drop_table('import_state')
