"""plugins

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 05:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

from salon.store.models import UTCDateTime

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plugins',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('app_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('icon', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plugins', schema=None) as batch_op:
        batch_op.create_index('ux_plugins_app_name', ['app_id', 'name'], unique=True)
        batch_op.create_index('ix_plugins_app_created', ['app_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('plugins', schema=None) as batch_op:
        batch_op.drop_index('ix_plugins_app_created')
        batch_op.drop_index('ux_plugins_app_name')

    op.drop_table('plugins')
