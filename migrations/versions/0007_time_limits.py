"""time limits and electronic supervision: the working-day calendar (seeded from chinese-calendar), case and task
clocks, in-app notices (催办, 督办, 超时默认)

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    years = op.create_table(
        'calendar_years',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('source', sa.String(length=40), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('year'),
    )
    days = op.create_table(
        'calendar_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('workday', sa.Boolean(), nullable=False),
        sa.Column('note', sa.String(length=100), nullable=False),
        sa.Column('source', sa.String(length=40), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('day'),
    )
    from engine.runtime.caltable import seed_rows

    year_rows, day_rows = seed_rows()
    op.bulk_insert(years, year_rows)
    op.bulk_insert(days, day_rows)
    op.create_table(
        'case_clocks',
        sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('process_id', sa.String(length=200), nullable=False),
        sa.Column('department', sa.String(length=64), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('handling', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('promised_days', sa.Integer(), nullable=True),
        sa.Column('statutory_days', sa.Integer(), nullable=True),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('statutory_due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('warn_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('provisional', sa.Boolean(), nullable=False),
        sa.Column('paused_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('pause_kind', sa.String(length=40), nullable=False),
        sa.Column('paused_workdays', sa.Integer(), nullable=False),
        sa.Column('pauses', sa.Integer(), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('used_workdays', sa.Integer(), nullable=True),
        sa.Column('on_time', sa.Boolean(), nullable=True),
        sa.Column('deferred', sa.Boolean(), nullable=False),
        sa.Column('commitment', sa.Boolean(), nullable=False),
        sa.Column('deemed', sa.Integer(), nullable=False),
        sa.Column('reminders', sa.Integer(), nullable=False),
        sa.Column('urged', sa.Integer(), nullable=False),
        sa.Column('visits', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_index('ix_case_clocks_process_id', 'case_clocks', ['process_id'])
    op.create_index('ix_case_clocks_department', 'case_clocks', ['department'])
    op.create_index('ix_case_clocks_open', 'case_clocks', ['status', 'due_at'])
    op.create_index('ix_case_clocks_created', 'case_clocks', ['created_at'])
    op.create_index('ix_case_clocks_closed', 'case_clocks', ['closed_at'])
    running = sa.text("status IN ('open', 'paused')")
    op.create_index('ix_case_clocks_running', 'case_clocks',
                    ['process_id', 'department', 'status', 'due_at', 'warn_at', 'provisional'],
                    postgresql_where=running, sqlite_where=running)
    op.create_table(
        'task_clocks',
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('process_id', sa.String(length=200), nullable=False),
        sa.Column('element_id', sa.String(length=200), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('group_name', sa.String(length=64), nullable=False),
        sa.Column('department', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('warn_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('provisional', sa.Boolean(), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('task_id'),
    )
    op.create_index('ix_task_clocks_case_id', 'task_clocks', ['case_id'])
    op.create_index('ix_task_clocks_department', 'task_clocks', ['department'])
    op.create_index('ix_task_clocks_open', 'task_clocks', ['closed_at', 'due_at'])
    op.create_index('ix_task_clocks_created', 'task_clocks', ['created_at'])
    waiting = sa.text("closed_at IS NULL")
    op.create_index('ix_task_clocks_waiting', 'task_clocks',
                    ['process_id', 'element_id', 'department', 'created_at', 'due_at', 'name'],
                    postgresql_where=waiting, sqlite_where=waiting)
    op.create_table(
        'notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.String(length=36), nullable=True),
        sa.Column('group_name', sa.String(length=64), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('text_en', sa.Text(), nullable=False),
        sa.Column('by', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notices_case_id', 'notices', ['case_id'])
    op.create_index('ix_notices_to', 'notices', ['group_name', 'username'])
    op.create_index('ix_notices_kind_at', 'notices', ['kind', 'at'])
    op.create_table(
        'stats_case_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('process_id', sa.String(length=200), nullable=False),
        sa.Column('department', sa.String(length=64), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in (
            'created', 'accepted', 'refused', 'immediate', 'deferred', 'commitment', 'closed', 'on_time', 'timed')],
        sa.Column('used_sum', sa.BigInteger(), nullable=False),
        sa.Column('used_n', sa.Integer(), nullable=False),
        sa.Column('promised_sum', sa.BigInteger(), nullable=False),
        sa.Column('statutory_sum', sa.BigInteger(), nullable=False),
        sa.Column('limits_n', sa.Integer(), nullable=False),
        sa.Column('one_visit', sa.Integer(), nullable=False),
        sa.Column('visits_sum', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'process_id', 'department', 'channel'),
    )
    op.create_table(
        'stats_step_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('process_id', sa.String(length=200), nullable=False),
        sa.Column('element_id', sa.String(length=200), nullable=False),
        sa.Column('department', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.BigInteger(), nullable=False),
        sa.Column('late', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'process_id', 'element_id', 'department'),
    )
    op.create_table('stats_rolled_days', sa.Column('day', sa.Date(), nullable=False),
                    sa.PrimaryKeyConstraint('day'))


def downgrade() -> None:
    for table in ('stats_rolled_days', 'stats_step_days', 'stats_case_days', 'notices', 'task_clocks', 'case_clocks', 'calendar_days', 'calendar_years'):
        op.drop_table(table)
