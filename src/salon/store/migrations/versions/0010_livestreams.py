"""livestreams: livestreams and their sessions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 15:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

from salon.store.models import Json, UTCDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('livestreams',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('app_id', sa.String(length=32), nullable=False),
    sa.Column('meeting_id', sa.String(length=36), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('stream_key', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stream_key')
    )
    with op.batch_alter_table('livestreams', schema=None) as batch_op:
        batch_op.create_index('ix_livestreams_app_created', ['app_id', 'created_at'], unique=False)
        batch_op.create_index('ix_livestreams_meeting', ['meeting_id'], unique=False)

    op.create_table('livestream_sessions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('livestream_id', sa.String(length=36), nullable=False),
    sa.Column('app_id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('config', Json, nullable=False),
    sa.Column('err_message', sa.Text(), nullable=True),
    sa.Column('stop_reason', sa.String(length=32), nullable=True),
    sa.Column('by_peer_id', sa.String(length=36), nullable=True),
    sa.Column('ingest_seconds', sa.Float(), nullable=False),
    sa.Column('viewer_seconds', sa.Float(), nullable=False),
    sa.Column('claimed_at', UTCDateTime(), nullable=True),
    sa.Column('invoked_time', UTCDateTime(), nullable=False),
    sa.Column('started_time', UTCDateTime(), nullable=True),
    sa.Column('stopped_time', UTCDateTime(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['livestream_id'], ['livestreams.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('livestream_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_livestream_sessions_stream', ['livestream_id', 'invoked_time'], unique=False)
        batch_op.create_index('ix_livestream_sessions_status', ['status'], unique=False)
        batch_op.create_index('ix_livestream_sessions_app_invoked', ['app_id', 'invoked_time'], unique=False)


def downgrade() -> None:
    op.drop_table('livestream_sessions')
    op.drop_table('livestreams')
