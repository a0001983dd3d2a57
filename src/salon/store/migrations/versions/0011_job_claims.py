"""job claims: which node holds each claimed job

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 18:30:00.000000

Recordings and livestream sessions were claimed with `claimed_at` only, which was
enough for one process; in a cluster a node must tell its own claims from those of
a live node and of a dead one (docs/cluster.md, "Jobs"). Transcripts and summaries
were not claimed at all: the process that queued one ran it.
"""

import sqlalchemy as sa
from alembic import op

from salon.store.models import UTCDateTime

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

#: Tables that gain `claimed_by`; the second two gain `claimed_at` as well.
CLAIMED_AT_ALREADY = ('recordings', 'livestream_sessions')
CLAIMED_AT_NEW = ('session_transcripts', 'session_summaries')


def upgrade() -> None:
    for table in CLAIMED_AT_ALREADY:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('claimed_by', sa.String(length=128), nullable=True))
    for table in CLAIMED_AT_NEW:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('claimed_by', sa.String(length=128), nullable=True))
            batch_op.add_column(sa.Column('claimed_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    for table in CLAIMED_AT_NEW:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('claimed_at')
            batch_op.drop_column('claimed_by')
    for table in CLAIMED_AT_ALREADY:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('claimed_by')
