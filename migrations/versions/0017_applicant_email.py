"""an applicant's optional e-mail address, so the notices of their cases also go out by e-mail

Revision ID: 0017_applicant_email
Revises: 0016_delivery
"""
from alembic import op
import sqlalchemy as sa

revision = '0017_applicant_email'
down_revision = '0016_delivery'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('applicants') as batch:
        batch.add_column(sa.Column('email', sa.String(length=254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('applicants') as batch:
        batch.drop_column('email')
