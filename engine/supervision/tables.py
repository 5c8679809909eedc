"""The rows 电子监察 reads: one clock per case, one per task, and the notices (催办, 督办, 超时默认) people get.

They are a projection of the audit events (engine.supervision.clocks keeps them as events are appended, in the same
transaction) plus the working-day calendar: due dates are computed, never recorded in the hash chain, so a calendar
corrected after the fact (a year entered late) corrects the due dates of running cases too. Supervision queries
run on these narrow, indexed rows, never on workflows or event payloads.
"""
from __future__ import annotations

from datetime import datetime

from datetime import date

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, utcnow


class CaseClock(Base):
    """A case's time limit: promised and statutory days from acceptance, pauses (补正, 特别程序), the outcome."""

    __tablename__ = "case_clocks"
    __table_args__ = (Index("ix_case_clocks_open", "status", "due_at"),
                      Index("ix_case_clocks_created", "created_at"), Index("ix_case_clocks_closed", "closed_at"),
                      # what the dashboard counts of open cases, readable from the index alone
                      Index("ix_case_clocks_running", "process_id", "department", "status", "due_at", "warn_at",
                            "provisional", postgresql_where=text("status IN ('open', 'paused')"),
                            sqlite_where=text("status IN ('open', 'paused')")))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    department: Mapped[str] = mapped_column(String(64), default="", index=True)  # the matter's group (market, tax ...)
    channel: Mapped[str] = mapped_column(String(20), default="window")
    handling: Mapped[str] = mapped_column(String(20), default="")  # 即办件 / 承诺件
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | paused | done | refused
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    promised_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    statutory_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    statutory_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)  # due counted past the calendar's years
    paused_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    pause_kind: Mapped[str] = mapped_column(String(40), default="")
    paused_workdays: Mapped[int] = mapped_column(Integer, default=0)
    pauses: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    used_workdays: Mapped[int | None] = mapped_column(Integer, nullable=True)
    on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    deferred: Mapped[bool] = mapped_column(Boolean, default=False)    # 容缺受理
    commitment: Mapped[bool] = mapped_column(Boolean, default=False)  # 告知承诺
    deemed: Mapped[int] = mapped_column(Integer, default=0)           # 超时默认 approvals
    reminders: Mapped[int] = mapped_column(Integer, default=0)        # 催办
    urged: Mapped[int] = mapped_column(Integer, default=0)            # 督办
    visits: Mapped[int] = mapped_column(Integer, default=0)           # trips to the hall (最多跑一次), when closed


class TaskClock(Base):
    """A task's time: opened, due, closed — what 'where cases wait' and department figures are read from."""

    __tablename__ = "task_clocks"
    __table_args__ = (Index("ix_task_clocks_open", "closed_at", "due_at"),
                      Index("ix_task_clocks_created", "created_at"),
                      # where cases wait now, readable from the index alone
                      Index("ix_task_clocks_waiting", "process_id", "element_id", "department", "created_at", "due_at",
                            "name", postgresql_where=text("closed_at IS NULL"),
                            sqlite_where=text("closed_at IS NULL")))
    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    process_id: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300), default="")
    group_name: Mapped[str] = mapped_column(String(64), default="")
    department: Mapped[str] = mapped_column(String(64), default="", index=True)  # the group without _lead/_head
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Notice(Base):
    """An in-app notice to a group or a user: 催办 (a reminder timer), 督办 (a supervisor), 超时默认 (deemed)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_to", "group_name", "username"), Index("ix_notices_kind_at", "kind", "at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))  # remind | urge | deemed
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    group_name: Mapped[str] = mapped_column(String(64), default="")
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")
    text_en: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(64), default="")


class CaseDay(Base):
    """One finished day of cases, per matter, department and channel (engine.supervision.rollups): what was created
    and accepted that day, and what was closed that day. A day is written once it is over and never changes, so a
    dashboard over months reads a few thousand of these rows instead of every case."""

    __tablename__ = "stats_case_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    department: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    created: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    immediate: Mapped[int] = mapped_column(Integer, default=0)
    deferred: Mapped[int] = mapped_column(Integer, default=0)
    commitment: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    timed: Mapped[int] = mapped_column(Integer, default=0)
    used_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    used_n: Mapped[int] = mapped_column(Integer, default=0)
    promised_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    statutory_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    limits_n: Mapped[int] = mapped_column(Integer, default=0)
    one_visit: Mapped[int] = mapped_column(Integer, default=0)
    visits_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    zero_visit: Mapped[int] = mapped_column(Integer, default=0)  # closed with no trip to a hall (零跑腿)


class StepDay(Base):
    """One finished day of closed tasks, per step (process, element) and department: how many, how long they took."""

    __tablename__ = "stats_step_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    department: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    done: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    late: Mapped[int] = mapped_column(Integer, default=0)


class RolledDay(Base):
    """The days already rolled up (so each is computed once, by whichever process gets there first)."""

    __tablename__ = "stats_rolled_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
