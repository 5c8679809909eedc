"""batch migrations of running cases (migration_runs, migration_items)

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'migration_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('process_id', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('to_version_id', sa.Integer(), nullable=True),
        sa.Column('undoes', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('batch_size', sa.Integer(), nullable=False),
        sa.Column('batches_done', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['to_version_id'], ['process_versions.id']),
        sa.ForeignKeyConstraint(['undoes'], ['migration_runs.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_migration_runs_process_id', 'migration_runs', ['process_id'])
    op.create_table(
        'migration_items',
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('from_version_id', sa.Integer(), nullable=False),
        sa.Column('to_version_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('moved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['run_id'], ['migration_runs.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('run_id', 'case_id'),
    )
    op.create_index('ix_migration_items_state', 'migration_items', ['state'])


def downgrade() -> None:
    op.drop_table('migration_items')
    op.drop_table('migration_runs')
