"""in-app notices per user (notifications to applicants and staff, delivered through the outbox)

Revision ID: 0011_notices
Revises: 0010_applicants
"""
from alembic import op
import sqlalchemy as sa

revision = '0011_notices'
down_revision = '0010_applicants'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'user_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('event', sa.String(length=30), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('text_en', sa.Text(), nullable=False),
        sa.Column('key', sa.String(length=250), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_user_notices_user', 'user_notices', ['username', 'id'])


def downgrade() -> None:
    op.drop_index('ix_user_notices_user', 'user_notices')
    op.drop_table('user_notices')
