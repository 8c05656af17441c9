"""campaigns: state, ledger, hackathon claims and submissions, camp participants and milestones, leaderboards,
and the scheduler's job store

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 13:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _string(length):
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time():
    return sqlmodel.sql.sqltypes.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        'campaign_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign', _string(64), nullable=False),
        sa.Column('started_at', _time(), nullable=True),
        sa.Column('closed_at', _time(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign'),
    )
    op.create_table(
        'campaign_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign', _string(64), nullable=False),
        sa.Column('key', _string(200), nullable=False),
        sa.Column('at', _time(), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign', 'key', name='uq_campaign_event'),
    )
    op.create_table(
        'hackathon_claim',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign', _string(64), nullable=False),
        sa.Column('platform', _string(16), nullable=False),
        sa.Column('repo', _string(256), nullable=False),
        sa.Column('number', _string(32), nullable=False),
        sa.Column('person', _string(200), nullable=False),
        sa.Column('login', _string(128), nullable=False),
        sa.Column('claimed_at', _time(), nullable=False),
        sa.Column('expires_at', _time(), nullable=False),
        sa.Column('reminded_at', _time(), nullable=True),
        sa.Column('released_at', _time(), nullable=True),
        sa.Column('release_reason', _string(32), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_hackathon_claim_task', 'hackathon_claim', ['campaign', 'platform', 'repo', 'number'])
    op.create_index('ix_hackathon_claim_person', 'hackathon_claim', ['campaign', 'person'])
    op.create_table(
        'campaign_submission',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign', _string(64), nullable=False),
        sa.Column('task_platform', _string(16), nullable=False),
        sa.Column('task_repo', _string(256), nullable=False),
        sa.Column('task_number', _string(32), nullable=False),
        sa.Column('pr_repo', _string(256), nullable=False),
        sa.Column('pr_number', _string(32), nullable=False),
        sa.Column('person', _string(200), nullable=False),
        sa.Column('login', _string(128), nullable=False),
        sa.Column('submitted_at', _time(), nullable=False),
        sa.Column('merged_at', _time(), nullable=True),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('status', _string(16), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign', 'task_platform', 'task_repo', 'task_number', 'pr_repo', 'pr_number',
                            name='uq_campaign_submission'),
    )
    op.create_index('ix_campaign_submission_campaign', 'campaign_submission', ['campaign'])
    op.create_table(
        'camp_participant',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign', _string(64), nullable=False),
        sa.Column('person', _string(200), nullable=False),
        sa.Column('platform', _string(16), nullable=False),
        sa.Column('login', _string(128), nullable=False),
        sa.Column('status', _string(16), nullable=False),
        sa.Column('joined_at', _time(), nullable=False),
        sa.Column('graduated_at', _time(), nullable=True),
        sa.Column('source', _string(16), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign', 'person', name='uq_camp_participant'),
    )
    op.create_index('ix_camp_participant_campaign', 'camp_participant', ['campaign'])
    op.create_table(
        'camp_milestone_met',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign', _string(64), nullable=False),
        sa.Column('person', _string(200), nullable=False),
        sa.Column('milestone', _string(64), nullable=False),
        sa.Column('met_at', _time(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign', 'person', 'milestone', name='uq_camp_milestone_met'),
    )
    op.create_table(
        'leaderboard_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign', _string(64), nullable=False),
        sa.Column('period', _string(32), nullable=False),
        sa.Column('person', _string(200), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=False),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('posted_at', _time(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign', 'period', 'person', name='uq_leaderboard_entry'),
    )
    # APScheduler's SQLAlchemyJobStore table (bot/pipeline/scheduler.py), as that store defines it.
    op.create_table(
        'apscheduler_jobs',
        sa.Column('id', sa.Unicode(191), nullable=False),
        sa.Column('next_run_time', sa.Float(25), nullable=True),
        sa.Column('job_state', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_apscheduler_jobs_next_run_time', 'apscheduler_jobs', ['next_run_time'])


def downgrade() -> None:
    op.drop_index('ix_apscheduler_jobs_next_run_time', table_name='apscheduler_jobs')
    op.drop_table('apscheduler_jobs')
    op.drop_table('leaderboard_entry')
    op.drop_table('camp_milestone_met')
    op.drop_index('ix_camp_participant_campaign', table_name='camp_participant')
    op.drop_table('camp_participant')
    op.drop_index('ix_campaign_submission_campaign', table_name='campaign_submission')
    op.drop_table('campaign_submission')
    op.drop_index('ix_hackathon_claim_person', table_name='hackathon_claim')
    op.drop_index('ix_hackathon_claim_task', table_name='hackathon_claim')
    op.drop_table('hackathon_claim')
    op.drop_table('campaign_event')
    op.drop_table('campaign_state')
