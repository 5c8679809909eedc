"""the applicant account a case belongs to (cases applied for online); an index for paged inboxes

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('applicant_user', sa.String(length=64), nullable=True))
        batch.create_index('ix_cases_applicant_user', ['applicant_user'])
    op.create_index('ix_work_items_group_created', 'work_items', ['group_name', 'created_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_work_items_group_created', 'work_items')
    with op.batch_alter_table('cases') as batch:
        batch.drop_index('ix_cases_applicant_user')
        batch.drop_column('applicant_user')
