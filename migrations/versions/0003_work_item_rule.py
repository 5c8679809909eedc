"""the one-window rule of each open task (so inboxes and the pickup window find tasks by what they are)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('work_items') as batch:
        batch.add_column(sa.Column('rule', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('work_items') as batch:
        batch.drop_column('rule')
