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


NOT_DEPARTMENTS = ("front_desk", "pickup", "admin", "supervisor", "auditor", "applicant", "designer")


def upgrade() -> None:
    op.create_table(
        'halls',
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('level', sa.String(length=20), nullable=False),
        sa.Column('parent', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['parent'], ['halls.code']),
        sa.PrimaryKeyConstraint('code'),
    )
    op.create_index('ix_halls_parent', 'halls', ['parent'])
    op.create_table(
        'hall_departments',
        sa.Column('hall', sa.String(length=32), nullable=False),
        sa.Column('group_name', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['hall'], ['halls.code'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['group_name'], ['groups.name']),
        sa.PrimaryKeyConstraint('hall', 'group_name'),
    )
    # plain ADD COLUMN (a batch copy of `users` on SQLite would cascade-delete its memberships)
    op.add_column('users', sa.Column('hall', sa.String(length=32), nullable=True))
    op.add_column('cases', sa.Column('hall', sa.String(length=32), nullable=True))
    op.add_column('cases', sa.Column('authority_hall', sa.String(length=32), nullable=True))
    op.add_column('cases', sa.Column('authority_group', sa.String(length=64), nullable=True))
    op.add_column('cases', sa.Column('transfer_due', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_cases_hall', 'cases', ['hall'])
    op.create_index('ix_cases_transfer_due', 'cases', ['transfer_due'])
    op.create_index('ix_cases_authority_hall', 'cases', ['authority_hall'])
    op.add_column('work_items', sa.Column('hall', sa.String(length=32), nullable=True))
    op.create_index('ix_work_items_hall', 'work_items', ['hall'])
    # Existing single-hall data becomes one default hall: its users, its cases (accepted and decided there), the
    # open tasks of those cases, and every department group that holds members.
    conn = op.get_bind()
    if conn.execute(sa.text("select count(*) from users")).scalar():
        conn.execute(sa.text("insert into halls (code, name, level, parent, created_at) "
                             "values ('main', '政务服务中心', 'city', null, CURRENT_TIMESTAMP)"))
        conn.execute(sa.text("update users set hall = 'main'"))
        conn.execute(sa.text("update cases set hall = 'main', authority_hall = 'main'"))
        conn.execute(sa.text("update work_items set hall = 'main'"))
        groups = [g for (g,) in conn.execute(sa.text("select distinct group_name from memberships")).all()
                  if g not in NOT_DEPARTMENTS]
        for g in groups:
            conn.execute(sa.text("insert into hall_departments (hall, group_name, name) values ('main', :g, :g)"),
                         {"g": g})
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
    op.drop_index('ix_work_items_hall', 'work_items')
    op.drop_column('work_items', 'hall')
    op.drop_index('ix_cases_authority_hall', 'cases')
    op.drop_index('ix_cases_transfer_due', 'cases')
    op.drop_index('ix_cases_hall', 'cases')
    for column in ('transfer_due', 'authority_group', 'authority_hall', 'hall'):
        op.drop_column('cases', column)
    op.drop_column('users', 'hall')
    op.drop_table('hall_departments')
    op.drop_table('halls')
    op.drop_table('regulator_findings')
    op.drop_table('regulators')
    op.drop_table('webhook_subscriptions')
