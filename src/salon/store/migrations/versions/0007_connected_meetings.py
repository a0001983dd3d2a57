"""connected meetings: a meeting may belong to a parent meeting (breakout rooms)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 07:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain nullable column (no foreign key): SQLite adds it without rebuilding the
    # meetings table, which other tables reference. The service keeps it consistent.
    op.add_column('meetings', sa.Column('parent_meeting_id', sa.String(length=36),
                                        nullable=True))
    op.create_index('ix_meetings_parent', 'meetings', ['parent_meeting_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_meetings_parent', table_name='meetings')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_column('parent_meeting_id')
