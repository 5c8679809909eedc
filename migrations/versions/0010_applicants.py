"""applicant identities (sign-up with a mobile confirmed by a code) and 好差评 ratings of cases

Revision ID: 0010_applicants
Revises: 0009_halls
"""
from alembic import op
import sqlalchemy as sa

revision = '0010_applicants'
down_revision = '0009_halls'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'applicants',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=10), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('id_number', sa.String(length=18), nullable=True),
        sa.Column('credit_code', sa.String(length=18), nullable=True),
        sa.Column('legal_rep', sa.String(length=100), nullable=True),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('code_expires', sa.DateTime(timezone=True), nullable=True),
        sa.Column('code_attempts', sa.Integer(), nullable=False),
        sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
        sa.UniqueConstraint('phone'),
    )
    op.create_table(
        'ratings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('applicant_user', sa.String(length=64), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('tags', sa.Text(), nullable=False),
        sa.Column('department', sa.String(length=64), nullable=True),
        sa.Column('remediation_case_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['remediation_case_id'], ['cases.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id'),
    )
    op.create_index('ix_ratings_applicant_user', 'ratings', ['applicant_user'])


def downgrade() -> None:
    op.drop_index('ix_ratings_applicant_user', 'ratings')
    op.drop_table('ratings')
    op.drop_table('applicants')
