"""The database schema (SQLAlchemy 2) and the session factory.

Workflow state is kept as TEXT, never JSON/JSONB: SpiffWorkflow 3.2 stores each task's data as a
change from its parent, so a store that reorders keys silently loses data. Task state is one row
per workflow task so that a step writes only the rows it changed (cost independent of history).
"""
from __future__ import annotations

import os
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import (BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, create_engine, event, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

ROOT = Path(__file__).resolve().parent.parent


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Group(Base):
    __tablename__ = "groups"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="")


class Hall(Base):
    """A service hall (政务服务中心 / 便民服务中心 / 服务站) at one level of the organisation: city, district, street,
    community; `parent` is the hall one level up (None at the top)."""

    __tablename__ = "halls"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    parent: Mapped[str | None] = mapped_column(ForeignKey("halls.code"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HallDepartment(Base):
    """A department (its group, e.g. `market`) present at a hall, with the name it has there."""

    __tablename__ = "hall_departments"
    hall: Mapped[str] = mapped_column(ForeignKey("halls.code", ondelete="CASCADE"), primary_key=True)
    group_name: Mapped[str] = mapped_column(ForeignKey("groups.name"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    hall: Mapped[str | None] = mapped_column(String(32), nullable=True)  # a halls.code (None: no organisation yet)
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    auth_epoch: Mapped[int] = mapped_column(Integer, default=0)  # moved on by logout/revoke: old tokens stop working
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Applicant(Base):
    """An applicant identity (a person or a business) behind a user of group `applicant`, signed in with its
    mobile number; the account is inactive until the code sent to that mobile is confirmed."""

    __tablename__ = "applicants"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    type: Mapped[str] = mapped_column(String(10))  # person | company
    name: Mapped[str] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(18), nullable=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), nullable=True)
    legal_rep: Mapped[str | None] = mapped_column(String(100), nullable=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)  # optional: notices also by e-mail
    code_hash: Mapped[str] = mapped_column(String(64), default="")  # the pending confirmation code, hashed
    code_expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Rating(Base):
    """好差评: the applicant's one rating of a finished case (一次一评), and the 差评整改 case it started, if any.
    Kept beside the case, not in its event chain: a closed case's audit trail stays as it was when it ended."""

    __tablename__ = "ratings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    applicant_user: Mapped[str] = mapped_column(String(64), index=True)
    level: Mapped[int] = mapped_column(Integer)  # 5 非常满意 .. 1 非常不满意
    comment: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the group concerned
    remediation_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    channel: Mapped[str] = mapped_column(String(10), default="portal")  # portal | qr | pad
    opened_by: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the clerk who opened the pad


class RatingAppeal(Base):
    """申诉: the applicant contests the outcome of a finished 差评整改; a supervisor upholds (a new 整改 starts) or
    dismisses it, with a reason. One appeal per 整改 case (`remediation_case_id`, the one appealed)."""

    __tablename__ = "rating_appeals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id", ondelete="CASCADE"), index=True)
    remediation_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    applicant_user: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)  # open | upheld | dismissed
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decision: Mapped[str | None] = mapped_column(Text, nullable=True)  # the supervisor's reason
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    new_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PadRequest(Base):
    """The window pad (评价器) of a hall opened by a pickup clerk for one finished case: the applicant taps the level
    on the pad with its one-time `nonce`, which no clerk page or API ever shows; it expires after a few minutes."""

    __tablename__ = "pad_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall: Mapped[str] = mapped_column(String(32), index=True)  # the clerk's hall ('' without an organisation)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Booking(Base):
    """预约: an applicant's booked window slot (hall, working day, slot start). `seat` numbers the places of a slot
    (1..capacity); its uniqueness per slot is what keeps a slot from being overbooked under concurrency, and a
    cancelled booking gives its seat back (NULL)."""

    __tablename__ = "bookings"
    __table_args__ = (UniqueConstraint("hall", "day", "slot", "seat", name="uq_bookings_seat"),
                      Index("ix_bookings_hall_day", "hall", "day"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    applicant_user: Mapped[str] = mapped_column(String(64), index=True)
    hall: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    slot: Mapped[str] = mapped_column(String(5))  # HH:MM, the slot's start in the hall's zone
    seat: Mapped[int | None] = mapped_column(Integer, nullable=True)
    matter: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="booked")  # booked | arrived | cancelled
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    arrived_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class BookingCapacity(Base):
    """Places per booking slot at a hall (the global default, ONEWINDOW_BOOKING_CAPACITY, where a hall has none)."""

    __tablename__ = "booking_capacity"
    hall: Mapped[str] = mapped_column(ForeignKey("halls.code", ondelete="CASCADE"), primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)


class Delivery(Base):
    """How the applicant of an online case wants the result (送达方式): at a window or by express to an address.
    Chosen online until the pickup is done; a row beside the case (not an event in its chain): the pickup clerk's
    task shows it and the pickup rule records it as that task's lookup, so a replay reads it from the event."""

    __tablename__ = "deliveries"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))  # window | express
    name: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    chosen_by: Mapped[str] = mapped_column(String(64))
    chosen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Resubmission(Base):
    """An online application made again after the front desk returned the earlier one at 预审 (一次性告知): the new
    case and the returned one it answers (each returned case is answered once)."""

    __tablename__ = "resubmissions"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    of_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Authorisation(Base):
    """帮办代办: an applicant (the principal) authorises an agent — another applicant account (a company's staff, a
    relative) or a hall's 帮办员 (group `agent`) — to act for them on some matters (None: all) and acts, from
    `valid_from` until `valid_until`, unless revoked; `created_by` is the principal, or the front-desk clerk who
    recorded it at the window on the principal's signed paper (`channel` window)."""

    __tablename__ = "authorisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal_user: Mapped[str] = mapped_column(String(64), index=True)
    agent_user: Mapped[str] = mapped_column(String(64), index=True)
    matters: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list of matter/bundle codes; None: all
    acts: Mapped[str] = mapped_column(Text, default="[]")  # JSON list: apply, track, answer, delivery, rate
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel: Mapped[str] = mapped_column(String(20), default="online")  # online (from /me) | window (on paper)
    created_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginFailure(Base):
    """A failed sign-in, by user name and by address (for throttling across server processes)."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Membership(Base):
    __tablename__ = "memberships"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    group_name: Mapped[str] = mapped_column(ForeignKey("groups.name"), primary_key=True)


class Blob(Base):
    """A deployed file (BPMN, DMN or form), stored once by content hash."""

    __tablename__ = "blobs"
    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text)


class ProcessVersion(Base):
    """One deployed version of a process; `files` pins every file it needs (name -> blob hash)."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("process_id", "content_hash"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    file_name: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    files: Mapped[str] = mapped_column(Text)  # JSON {file name: blob hash}
    meta: Mapped[str] = mapped_column(Text, default="{}")  # JSON: kind, start form, guide
    deployed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Case(Base):
    """A case (办件): one application, pinned to the process version it started on."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    applicant: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    channel: Mapped[str] = mapped_column(String(20), default="window")
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    visits: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    applicant_user: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # applied online by
    # 首接负责: the hall that accepted the case; the competent authority (hall + department group) that decides it
    hall: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    authority_hall: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    authority_group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # 转办: when the authority the case was handed to must have acknowledged it (None: no hand-over waits)
    transfer_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    state_head: Mapped[str] = mapped_column(Text, default="{}")  # workflow-level state, see engine.runtime.store
    revision: Mapped[int] = mapped_column(Integer, default=0)
    chain_head: Mapped[str] = mapped_column(String(64), default="")
    event_count: Mapped[int] = mapped_column(Integer, default=0)


class TaskRow(Base):
    """One SpiffWorkflow task of a case, serialized as text; `seq` keeps parents before children."""

    __tablename__ = "task_rows"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workflow: Mapped[str] = mapped_column(String(36), default="")  # '' top level, else subprocess task id
    seq: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)


class WorkItem(Base):
    """The index of open user tasks: what inboxes query, without loading any workflow."""

    __tablename__ = "work_items"
    __table_args__ = (Index("ix_work_items_group", "group_name", "status"),
                      Index("ix_work_items_group_created", "group_name", "created_at", "id"),
                      Index("ix_work_items_group_due", "group_name", "due_at", "id"),
                      Index("ix_work_items_assignee", "assignee", "created_at", "id"),
                      Index("ix_work_items_offered", "created_at", "id", postgresql_where=text("candidate_users <> ''"),
                            sqlite_where=text("candidate_users <> ''")))
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the SpiffWorkflow task id
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    process_id: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300), default="")
    form: Mapped[str | None] = mapped_column(String(200), nullable=True)
    rule: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the one-window rule it follows
    group_name: Mapped[str] = mapped_column(String(64), default="")
    hall: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)  # whose inbox: group AT hall
    candidate_users: Mapped[str] = mapped_column(String(500), default="")
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="ready")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Event(Base):
    """The append-only, hash-chained audit log of a case."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    type: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64), default="")
    group_name: Mapped[str] = mapped_column(String(64), default="")
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    element_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    payload: Mapped[str] = mapped_column(Text, default="{}")  # JSON text, as hashed
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64))


class IdempotencyKey(Base):
    """A request that started a case, by the caller's key: the same request again gets the same case."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("actor", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TimerFailure(Base):
    """A due timer whose case could not be stepped: kept apart from the timer index (rewritten at every save),
    so the worker backs off from it, goes on with the others, and supervisors see it."""

    __tablename__ = "timer_failures"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    retry_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class OutboxMessage(Base):
    """A message leaving the system, written with the event that causes it (engine.runtime.outbox)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_try_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(500), index=True)
    payload: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UserNotice(Base):
    """An in-app notice to one user (engine.runtime.notify): written when the outbox delivers an `inapp` message, so
    delivered means visible; `read_at` is set when the user marks it read."""

    __tablename__ = "user_notices"
    __table_args__ = (Index("ix_user_notices_user", "username", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), nullable=True)
    event: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    text_en: Mapped[str] = mapped_column(Text, default="")
    key: Mapped[str] = mapped_column(String(250), unique=True)  # the outbox key (+ the user for a group's message)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebhookSubscription(Base):
    """A regulator's subscription to events (审管联动): each matching event is posted to `url`, signed with `secret`."""

    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[str] = mapped_column(String(500))  # comma-separated event types
    secret: Mapped[str] = mapped_column(String(200))  # kept to sign each body (HMAC-SHA256), never shown
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Regulator(Base):
    """A regulator that may send findings back (POST /api/v1/regulator/findings), signing them with `secret`."""

    __tablename__ = "regulators"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RegulatorFinding(Base):
    """A finding received from a regulator, by the digest of its body: the same finding again is the same answer."""

    __tablename__ = "regulator_findings"
    __table_args__ = (UniqueConstraint("regulator", "digest"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    regulator: Mapped[str] = mapped_column(ForeignKey("regulators.name"))
    digest: Mapped[str] = mapped_column(String(64))
    certificate: Mapped[str] = mapped_column(String(40), index=True)
    action: Mapped[str] = mapped_column(String(20))
    finding: Mapped[str] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Timer(Base):
    """Pending timer events, so a worker finds due cases without loading workflows."""

    __tablename__ = "timers"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def default_url() -> str:
    var = Path(os.environ.get("ONEWINDOW_VAR", ROOT / "var"))
    var.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var / 'onewindow.db'}"


def database_url() -> str:
    return os.environ.get("ONEWINDOW_DATABASE_URL") or default_url()


def make_engine(url: str | None = None):
    """Create an engine; SQLite gets WAL and `BEGIN IMMEDIATE` so writers queue instead of failing."""
    url = url or database_url()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            if ":memory:" not in url and url != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Writers take the write lock at BEGIN (no deadlock on upgrade); a read-only transaction (execution
            # option `readonly`, see Services.read) reads its WAL snapshot without blocking anyone.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("readonly") else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def make_session_factory(engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
