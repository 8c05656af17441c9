"""badge awards get an Open Badges assertion address and can be revoked

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 14:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('badge_award', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('revocation_reason', sa.Text(), nullable=True))
        batch_op.create_unique_constraint('uq_badge_award_uid', ['uid'])


def downgrade() -> None:
    with op.batch_alter_table('badge_award', schema=None) as batch_op:
        batch_op.drop_constraint('uq_badge_award_uid', type_='unique')
        batch_op.drop_column('revocation_reason')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('uid')
