"""预约 window bookings, rating channels (portal / qr / pad) with the window pad's requests, 申诉 appeals of a
差评整改, and the 零跑腿 counter of the day roll-up

The roll-up gains a counter (cases closed with no visit); finished days already rolled up lack it, so they are
dropped here and rolled up again, once, from the clock rows they were made from (engine.supervision.rollups).

Revision ID: 0015_bookings
Revises: 0014_agents
"""
from alembic import op
import sqlalchemy as sa

revision = '0015_bookings'
down_revision = '0014_agents'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ratings') as b:
        b.add_column(sa.Column('channel', sa.String(length=10), nullable=False, server_default='portal'))
        b.add_column(sa.Column('opened_by', sa.String(length=64), nullable=True))
    op.create_table(
        'rating_appeals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rating_id', sa.Integer(), nullable=False),
        sa.Column('remediation_case_id', sa.Integer(), nullable=False),
        sa.Column('applicant_user', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('decided_by', sa.String(length=64), nullable=True),
        sa.Column('decision', sa.Text(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('new_case_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['rating_id'], ['ratings.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['remediation_case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['new_case_id'], ['cases.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('remediation_case_id'),
    )
    op.create_index('ix_rating_appeals_rating_id', 'rating_appeals', ['rating_id'])
    op.create_index('ix_rating_appeals_applicant_user', 'rating_appeals', ['applicant_user'])
    op.create_index('ix_rating_appeals_status', 'rating_appeals', ['status'])
    op.create_table(
        'pad_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('hall', sa.String(length=32), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('opened_by', sa.String(length=64), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('nonce'),
    )
    op.create_index('ix_pad_requests_hall', 'pad_requests', ['hall'])
    op.create_index('ix_pad_requests_case_id', 'pad_requests', ['case_id'])
    op.create_table(
        'bookings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=True),
        sa.Column('applicant_user', sa.String(length=64), nullable=False),
        sa.Column('hall', sa.String(length=32), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('slot', sa.String(length=5), nullable=False),
        sa.Column('seat', sa.Integer(), nullable=True),
        sa.Column('matter', sa.String(length=200), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('arrived_by', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number'),
        sa.UniqueConstraint('hall', 'day', 'slot', 'seat', name='uq_bookings_seat'),
    )
    op.create_index('ix_bookings_hall_day', 'bookings', ['hall', 'day'])
    op.create_index('ix_bookings_applicant_user', 'bookings', ['applicant_user'])
    op.create_table(
        'booking_capacity',
        sa.Column('hall', sa.String(length=32), nullable=False),
        sa.Column('capacity', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['hall'], ['halls.code'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('hall'),
    )
    op.add_column('stats_case_days', sa.Column('zero_visit', sa.Integer(), nullable=False, server_default='0'))
    # the finished days are rolled up again with the new counter (derived rows: the clock rows stay)
    for table in ('stats_case_days', 'stats_step_days', 'stats_rolled_days'):
        op.execute(sa.text(f'DELETE FROM {table}'))


def downgrade() -> None:
    with op.batch_alter_table('stats_case_days') as b:
        b.drop_column('zero_visit')
    op.drop_table('booking_capacity')
    op.drop_index('ix_bookings_applicant_user', 'bookings')
    op.drop_index('ix_bookings_hall_day', 'bookings')
    op.drop_table('bookings')
    op.drop_index('ix_pad_requests_case_id', 'pad_requests')
    op.drop_index('ix_pad_requests_hall', 'pad_requests')
    op.drop_table('pad_requests')
    op.drop_index('ix_rating_appeals_status', 'rating_appeals')
    op.drop_index('ix_rating_appeals_applicant_user', 'rating_appeals')
    op.drop_index('ix_rating_appeals_rating_id', 'rating_appeals')
    op.drop_table('rating_appeals')
    with op.batch_alter_table('ratings') as b:
        b.drop_column('opened_by')
        b.drop_column('channel')
