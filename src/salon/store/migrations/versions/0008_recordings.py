"""recordings: recording jobs and their lifecycle

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 07:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

from salon.store.models import Json, UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recordings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('app_id', sa.String(length=32), nullable=False),
    sa.Column('meeting_id', sa.String(length=36), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('output_file_name', sa.Text(), nullable=False),
    sa.Column('config', Json, nullable=False),
    sa.Column('start_reason', Json, nullable=True),
    sa.Column('stop_reason', Json, nullable=True),
    sa.Column('by_peer_id', sa.String(length=36), nullable=True),
    sa.Column('files', Json, nullable=True),
    sa.Column('download_url', sa.Text(), nullable=True),
    sa.Column('audio_download_url', sa.Text(), nullable=True),
    sa.Column('download_url_expiry', UTCDateTime(), nullable=True),
    sa.Column('file_size', sa.Float(), nullable=True),
    sa.Column('recording_duration', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('claimed_at', UTCDateTime(), nullable=True),
    sa.Column('allow_multiple', sa.Boolean(), nullable=False),
    sa.Column('invoked_time', UTCDateTime(), nullable=False),
    sa.Column('started_time', UTCDateTime(), nullable=True),
    sa.Column('stopped_time', UTCDateTime(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.create_index('ix_recordings_app_invoked', ['app_id', 'invoked_time'],
                              unique=False)
        batch_op.create_index('ix_recordings_meeting_status', ['meeting_id', 'status'],
                              unique=False)
        batch_op.create_index('ix_recordings_status', ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_index('ix_recordings_status')
        batch_op.drop_index('ix_recordings_meeting_status')
        batch_op.drop_index('ix_recordings_app_invoked')

    op.drop_table('recordings')
