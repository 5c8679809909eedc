"""electronic certificates (电子证照 with e-seal)

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'certificates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('cert_type', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('holder_key', sa.String(length=100), nullable=False),
        sa.Column('holder_name', sa.String(length=200), nullable=False),
        sa.Column('matter', sa.String(length=200), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoke_reason', sa.String(length=500), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('signature', sa.String(length=120), nullable=False),
        sa.Column('verify_code', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number'),
        sa.UniqueConstraint('verify_code'),
    )
    op.create_index('ix_certificates_cert_type', 'certificates', ['cert_type'])
    op.create_index('ix_certificates_holder_key', 'certificates', ['holder_key'])
    op.create_index('ix_certificates_case_id', 'certificates', ['case_id'])


def downgrade() -> None:
    op.drop_table('certificates')
