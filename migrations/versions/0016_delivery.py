"""online acts of an applicant: the delivery chosen for a case's result (窗口领取 / 快递送达 with an address), and
the link from an application made again to the one the front desk returned at 预审

Revision ID: 0016_delivery
Revises: 0015_bookings
"""
from alembic import op
import sqlalchemy as sa

revision = '0016_delivery'
down_revision = '0015_bookings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'deliveries',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(length=10), nullable=False),
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('phone', sa.String(length=30), nullable=False),
        sa.Column('address', sa.String(length=200), nullable=False),
        sa.Column('chosen_by', sa.String(length=64), nullable=False),
        sa.Column('chosen_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_table(
        'resubmissions',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('of_case_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['of_case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id'),
        sa.UniqueConstraint('of_case_id'),
    )


def downgrade() -> None:
    op.drop_table('resubmissions')
    op.drop_table('deliveries')
