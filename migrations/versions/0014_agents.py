"""帮办代办: authorisation records under which an agent acts for an applicant

Revision ID: 0014_agents
Revises: 0010_applicants
"""
from alembic import op
import sqlalchemy as sa

revision = '0014_agents'
down_revision = '0011_notices'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'authorisations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('principal_user', sa.String(length=64), nullable=False),
        sa.Column('agent_user', sa.String(length=64), nullable=False),
        sa.Column('matters', sa.Text(), nullable=True),
        sa.Column('acts', sa.Text(), nullable=False),
        sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
        sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by', sa.String(length=64), nullable=True),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_authorisations_principal_user', 'authorisations', ['principal_user'])
    op.create_index('ix_authorisations_agent_user', 'authorisations', ['agent_user'])


def downgrade() -> None:
    op.drop_index('ix_authorisations_agent_user', 'authorisations')
    op.drop_index('ix_authorisations_principal_user', 'authorisations')
    op.drop_table('authorisations')
