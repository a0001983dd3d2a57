"""transcripts: a session's post-meeting transcript and summary

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

from salon.store.models import Json, UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('session_transcripts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('app_id', sa.String(length=32), nullable=False),
    sa.Column('meeting_id', sa.String(length=36), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('capture_dir', sa.Text(), nullable=False),
    sa.Column('options', Json, nullable=False),
    sa.Column('files', Json, nullable=True),
    sa.Column('line_count', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('completed_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id')
    )
    with op.batch_alter_table('session_transcripts', schema=None) as batch_op:
        batch_op.create_index('ix_session_transcripts_status', ['status'], unique=False)

    op.create_table('session_summaries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('app_id', sa.String(length=32), nullable=False),
    sa.Column('meeting_id', sa.String(length=36), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('text_format', sa.String(length=16), nullable=False),
    sa.Column('extension', sa.String(length=8), nullable=False),
    sa.Column('options', Json, nullable=False),
    sa.Column('file', Json, nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('completed_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id')
    )
    with op.batch_alter_table('session_summaries', schema=None) as batch_op:
        batch_op.create_index('ix_session_summaries_status', ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('session_summaries', schema=None) as batch_op:
        batch_op.drop_index('ix_session_summaries_status')
    op.drop_table('session_summaries')
    with op.batch_alter_table('session_transcripts', schema=None) as batch_op:
        batch_op.drop_index('ix_session_transcripts_status')
    op.drop_table('session_transcripts')
