"""chat

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 05:30:00.000000
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from salon.store.models import UTCDateTime

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('chat_messages',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('app_id', sa.String(length=32), nullable=False),
    sa.Column('meeting_id', sa.String(length=36), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('participant_id', sa.String(length=36), nullable=False),
    sa.Column('peer_id', sa.String(length=36), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('payload', JSON, nullable=False),
    sa.Column('private', sa.Boolean(), nullable=False),
    sa.Column('target_participant_ids', JSON, nullable=False),
    sa.Column('reply_to', sa.String(length=36), nullable=True),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('edited', sa.Boolean(), nullable=False),
    sa.Column('deleted_at', UTCDateTime(), nullable=True),
    sa.Column('deleted_by', sa.String(length=36), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.create_index('ix_chat_messages_meeting_created', ['meeting_id', 'created_at'], unique=False)
        batch_op.create_index('ix_chat_messages_session_created', ['session_id', 'created_at'], unique=False)

    op.create_table('chat_recipients',
    sa.Column('message_id', sa.String(length=36), nullable=False),
    sa.Column('participant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['chat_messages.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', 'participant_id')
    )
    with op.batch_alter_table('chat_recipients', schema=None) as batch_op:
        batch_op.create_index('ix_chat_recipients_participant', ['participant_id', 'message_id'], unique=False)

    op.create_table('chat_files',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('app_id', sa.String(length=32), nullable=False),
    sa.Column('meeting_id', sa.String(length=36), nullable=False),
    sa.Column('participant_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=127), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('chat_files', schema=None) as batch_op:
        batch_op.create_index('ix_chat_files_meeting_created', ['meeting_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('chat_files', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_files_meeting_created')

    op.drop_table('chat_files')
    with op.batch_alter_table('chat_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_recipients_participant')

    op.drop_table('chat_recipients')
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_messages_session_created')
        batch_op.drop_index('ix_chat_messages_meeting_created')

    op.drop_table('chat_messages')
