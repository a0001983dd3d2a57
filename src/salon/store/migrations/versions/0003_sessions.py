"""sessions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 04:56:52.544410
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from salon.store.models import UTCDateTime

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('sessions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('app_id', sa.String(length=32), nullable=False),
    sa.Column('meeting_id', sa.String(length=36), nullable=False),
    sa.Column('parent_session_id', sa.String(length=36), nullable=True),
    sa.Column('meeting_display_name', sa.Text(), nullable=True),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('live_participants', sa.Integer(), nullable=False),
    sa.Column('max_concurrent_participants', sa.Integer(), nullable=False),
    sa.Column('minutes_consumed', sa.Float(), nullable=False),
    sa.Column('ended_reason', sa.String(length=32), nullable=True),
    sa.Column('meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('ended_at', UTCDateTime(), nullable=True),
    sa.Column('last_seen_at', UTCDateTime(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_app_started', ['app_id', 'started_at'], unique=False)
        batch_op.create_index('ix_sessions_meeting_status', ['meeting_id', 'status'], unique=False)
        batch_op.create_index('ix_sessions_status', ['status'], unique=False)

    op.create_table('peer_events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('peer_id', sa.String(length=36), nullable=False),
    sa.Column('participant_id', sa.String(length=36), nullable=False),
    sa.Column('event_name', sa.String(length=16), nullable=False),
    sa.Column('minutes_consumed', sa.Float(), nullable=False),
    sa.Column('socket_session_id', sa.String(length=36), nullable=True),
    sa.Column('preset_view_type', sa.String(length=16), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('peer_events', schema=None) as batch_op:
        batch_op.create_index('ix_peer_events_session_peer', ['session_id', 'peer_id'], unique=False)

    op.create_table('session_peers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('participant_id', sa.String(length=36), nullable=False),
    sa.Column('custom_participant_id', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=False),
    sa.Column('preset_name', sa.String(length=100), nullable=False),
    sa.Column('view_type', sa.String(length=16), nullable=False),
    sa.Column('joined_at', UTCDateTime(), nullable=False),
    sa.Column('left_at', UTCDateTime(), nullable=True),
    sa.Column('leave_reason', sa.String(length=32), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('session_peers', schema=None) as batch_op:
        batch_op.create_index('ix_session_peers_participant', ['participant_id'], unique=False)
        batch_op.create_index('ix_session_peers_session_joined', ['session_id', 'joined_at'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('session_peers', schema=None) as batch_op:
        batch_op.drop_index('ix_session_peers_session_joined')
        batch_op.drop_index('ix_session_peers_participant')

    op.drop_table('session_peers')
    with op.batch_alter_table('peer_events', schema=None) as batch_op:
        batch_op.drop_index('ix_peer_events_session_peer')

    op.drop_table('peer_events')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_status')
        batch_op.drop_index('ix_sessions_meeting_status')
        batch_op.drop_index('ix_sessions_app_started')

    op.drop_table('sessions')

