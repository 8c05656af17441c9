"""forge permission cache and badge awards

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 12:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'forge_role',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('repo', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column('login', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('platform', 'repo', 'login', name='uq_forge_role'),
    )
    op.create_table(
        'badge_award',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('badge', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('login', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column('awarded_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('repo', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('awarded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('person', 'badge', name='uq_badge_award'),
    )
    op.create_index('ix_badge_award_person', 'badge_award', ['person'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_badge_award_person', table_name='badge_award')
    op.drop_table('badge_award')
    op.drop_table('forge_role')
