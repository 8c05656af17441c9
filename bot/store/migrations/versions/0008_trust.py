"""what a hostile internet needs remembered: events already taken, signatures already seen, dashboard sessions,
commands people ran, event notifications decided per person, digest charts drawn

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 18:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'event_claim',
        sa.Column('identity', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=False),
        sa.Column('claimed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('identity'),
    )
    op.create_table(
        'webhook_nonce',
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('platform', 'nonce'),
    )
    op.create_index('ix_webhook_nonce_seen', 'webhook_nonce', ['seen_at'], unique=False)
    op.create_table(
        'dashboard_session',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('issued_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('remote', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_dashboard_session_expires', 'dashboard_session', ['expires_at'], unique=False)
    op.create_table(
        'command_use',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('repo', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('command', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('comment_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_command_use_person', 'command_use', ['person', 'used_at'], unique=False)
    op.create_table(
        'notify_use',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_index('ix_notify_use_person', 'notify_use', ['person', 'outcome', 'decided_at'], unique=False)
    op.create_table(
        'thread_claim',
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('repo', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('login', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('claimed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('action_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.PrimaryKeyConstraint('platform', 'repo', 'number'),
    )
    op.create_index('ix_thread_claim_person', 'thread_claim', ['person'], unique=False)
    op.create_table(
        'digest_chart',
        sa.Column('campaign', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('week', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('png', sa.LargeBinary(), nullable=False),
        sa.Column('drawn_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('campaign', 'week', 'language'),
    )


def downgrade() -> None:
    op.drop_table('digest_chart')
    op.drop_index('ix_thread_claim_person', table_name='thread_claim')
    op.drop_table('thread_claim')
    op.drop_index('ix_notify_use_person', table_name='notify_use')
    op.drop_table('notify_use')
    op.drop_index('ix_command_use_person', table_name='command_use')
    op.drop_table('command_use')
    op.drop_index('ix_dashboard_session_expires', table_name='dashboard_session')
    op.drop_table('dashboard_session')
    op.drop_index('ix_webhook_nonce_seen', table_name='webhook_nonce')
    op.drop_table('webhook_nonce')
    op.drop_table('event_claim')
