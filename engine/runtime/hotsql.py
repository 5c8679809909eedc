"""The statements of a case action, run straight on the DBAPI connection.

Each is a SQLAlchemy Core statement compiled once per dialect, so the SQL text and the type conversions
(bind and result processors, e.g. SQLite's datetime strings) are SQLAlchemy's own; what is skipped is its
per-execution bookkeeping, about 40 µs a statement, more than SQLite takes to run most of them. They run
on the connection of the caller's Session, inside its transaction.

`LISTENERS` are told of every statement (the benchmark counts statements and rows written with them,
as it does for SQLAlchemy's own through its cursor events).
"""
from __future__ import annotations

from collections import namedtuple

from sqlalchemy import bindparam, delete, insert, select, update

from ..db import Case, Event, TaskRow, Timer, WorkItem

LISTENERS: list = []  # callables (sql text, rows written, or rows returned by a query)

# Run once per case through SQLAlchemy (RETURNING differs between dialects).
INSERT_CASE = insert(Case.__table__).returning(Case.__table__.c.id)

CASE_COLUMNS = ("number", "version_id", "state_head", "updated_at", "revision", "status", "closed_at",
                "event_count", "chain_head", "visits")


def _statements() -> dict:
    t, c, w, tm, e = (TaskRow.__table__, Case.__table__, WorkItem.__table__, Timer.__table__, Event.__table__)

    def insert_all(table, skip=()):
        return insert(table).values({col.name: bindparam(col.name) for col in table.c if col.name not in skip})

    return {
        "select_rows": select(t.c.task_id, t.c.workflow, t.c.seq, t.c.body).where(t.c.case_id == bindparam("k_case")),
        "delete_row": delete(t).where(t.c.case_id == bindparam("k_case"), t.c.task_id == bindparam("k_task")),
        "insert_row": insert_all(t),
        "update_row": update(t).where(t.c.case_id == bindparam("k_case"), t.c.task_id == bindparam("k_task"))
        .values(body=bindparam("body")),
        "lock_case": select(c).where(c.c.id == bindparam("k_case")).with_for_update(),
        "update_case": update(c).where(c.c.id == bindparam("k_case"))
        .values({name: bindparam(name) for name in CASE_COLUMNS}),
        "select_item": select(w).where(w.c.id == bindparam("k_id")),
        "select_item_ids": select(w.c.id).where(w.c.case_id == bindparam("k_case")),
        "select_case_items": select(w).where(w.c.case_id == bindparam("k_case")).order_by(w.c.created_at, w.c.id),
        "delete_item": delete(w).where(w.c.id == bindparam("k_id")),
        "insert_item": insert_all(w),
        "delete_timers": delete(tm).where(tm.c.case_id == bindparam("k_case")),
        "insert_timer": insert_all(tm),
        "insert_event": insert_all(e, skip=("id",)),
    }


class Prepared:
    """One statement compiled for one dialect: its SQL, its parameters in order, its type conversions."""

    def __init__(self, name: str, stmt, dialect):
        compiled = stmt.compile(dialect=dialect)
        self.name, self.sql = name, compiled.string
        binds = compiled._bind_processors
        rendered = {bp.key: compiled.bind_names[bp] for bp in compiled.binds.values()}
        self.positional = compiled.positional
        if self.positional:
            keys = {v: k for k, v in rendered.items()}
            self.keys = [keys[n] for n in compiled.positiontup]
            self.procs = [binds.get(n) for n in compiled.positiontup]
        else:
            self.keys = list(rendered)
            self.names = [rendered[k] for k in self.keys]
            self.procs = [binds.get(rendered[k]) for k in self.keys]
        self.plain = not any(self.procs)
        self.writes = not stmt.is_select
        self.row = None
        if stmt.is_select:
            cols = compiled._result_columns
            self.row = namedtuple(f"{name}_row", [col.keyname for col in cols], rename=True)
            self.result_procs = [col.type._cached_result_processor(dialect, None) for col in cols]
            self.result_plain = not any(self.result_procs)

    def params(self, values: dict):
        if self.positional:
            if self.plain:
                return [values[k] for k in self.keys]
            return [p(values[k]) if p else values[k] for k, p in zip(self.keys, self.procs)]
        if self.plain:
            return {n: values[k] for n, k in zip(self.names, self.keys)}
        return {n: (p(values[k]) if p else values[k]) for n, k, p in zip(self.names, self.keys, self.procs)}

    def rows(self, raw) -> list:
        make = self.row._make
        if self.result_plain:
            return [make(r) for r in raw]
        procs = self.result_procs
        return [make([p(v) if p else v for p, v in zip(procs, r)]) for r in raw]


class _Dialect:
    """The prepared statements of one dialect, built on first use."""

    _cache: dict[str, dict[str, Prepared]] = {}

    @classmethod
    def statements(cls, dialect) -> dict[str, Prepared]:
        stmts = cls._cache.get(dialect.name)
        if stmts is None:
            stmts = cls._cache[dialect.name] = {name: Prepared(name, st, dialect) for name, st in _statements().items()}
        return stmts


class Hot:
    """The prepared statements, bound to one SQLAlchemy connection (and so to its transaction)."""

    __slots__ = ("stmts", "driver")

    def __init__(self, conn):
        self.stmts = _Dialect.statements(conn.dialect)
        self.driver = conn.connection.driver_connection

    def run(self, name: str, values: dict) -> int:
        """Execute a write once; the number of rows it touched."""
        st = self.stmts[name]
        cur = self.driver.cursor()
        cur.execute(st.sql, st.params(values))
        count = cur.rowcount
        for listener in LISTENERS:
            listener(st.sql, count)
        return count

    def many(self, name: str, rows: list[dict]) -> None:
        """Execute a write once per row of parameters (nothing when there are none)."""
        if not rows:
            return
        st = self.stmts[name]
        cur = self.driver.cursor()
        cur.executemany(st.sql, [st.params(r) for r in rows])
        for listener in LISTENERS:
            listener(st.sql, cur.rowcount if cur.rowcount >= 0 else len(rows))

    def query(self, name: str, values: dict) -> list:
        """The rows of a query, converted as SQLAlchemy would, with attribute access by column name."""
        st = self.stmts[name]
        cur = self.driver.cursor()
        cur.execute(st.sql, st.params(values))
        rows = st.rows(cur.fetchall())
        for listener in LISTENERS:
            listener(st.sql, len(rows))
        return rows

    def first(self, name: str, values: dict):
        rows = self.query(name, values)
        return rows[0] if rows else None


def hot(session) -> Hot:
    """The prepared statements on a Session's connection (beginning its transaction if need be)."""
    return Hot(session.connection())
