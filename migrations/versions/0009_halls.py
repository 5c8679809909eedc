"""halls and levels (the organisation as data), where cases are accepted and decided; 审管联动: regulators'
webhook subscriptions and findings

Revision ID: 0009_halls
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = '0009_halls'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'webhook_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('events', sa.String(length=500), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'regulators',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.create_table(
        'regulator_findings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('regulator', sa.String(length=64), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('certificate', sa.String(length=40), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('finding', sa.Text(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['regulator'], ['regulators.name']),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('regulator', 'digest'),
    )
    op.create_index('ix_regulator_findings_certificate', 'regulator_findings', ['certificate'])


def downgrade() -> None:
    op.drop_table('regulator_findings')
    op.drop_table('regulators')
    op.drop_table('webhook_subscriptions')
