"""the applicant account a case belongs to (cases applied for online); an index for paged inboxes; revocable
sign-ins (a user's sign-in epoch) and sign-in throttling (login_failures); idempotent case starts; timers that failed (the worker backs off)

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
    op.create_index('ix_work_items_group_due', 'work_items', ['group_name', 'due_at', 'id'])
    op.create_index('ix_work_items_assignee', 'work_items', ['assignee', 'created_at', 'id'])
    op.create_index('ix_work_items_offered', 'work_items', ['created_at', 'id'],
                    postgresql_where=sa.text("candidate_users <> ''"), sqlite_where=sa.text("candidate_users <> ''"))
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('auth_epoch', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'login_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_login_failures_key', 'login_failures', ['key'])
    op.create_table(
        'idempotency_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('actor', 'key'),
    )
    op.create_table(
        'timer_failures',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('retry_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_index('ix_timer_failures_retry_at', 'timer_failures', ['retry_at'])


def downgrade() -> None:
    op.drop_table('timer_failures')
    op.drop_table('idempotency_keys')
    op.drop_table('login_failures')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('auth_epoch')
    op.drop_index('ix_work_items_group_created', 'work_items')
    op.drop_index('ix_work_items_group_due', 'work_items')
    op.drop_index('ix_work_items_assignee', 'work_items')
    op.drop_index('ix_work_items_offered', 'work_items')
    with op.batch_alter_table('cases') as batch:
        batch.drop_index('ix_cases_applicant_user')
        batch.drop_column('applicant_user')
