"""Timers: index the pending timer events of each case and fire the due ones from a worker.

The platform keeps its own index of due times (the `timers` table, rewritten at every save) and decides itself when a
timer fires (engine.runtime.timerclock): a worker takes one due case at a time, marks the timers the index finds
due by the worker's clock, and steps the case, all in the case's locked transaction. Several workers on several
nodes may run against one database: on PostgreSQL each claims its case with `FOR UPDATE SKIP LOCKED` (workers never
queue behind each other's cases), and the index is read again under the lock, so each timer fires exactly once.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from SpiffWorkflow.util.task import TaskState

from ..clock import as_utc
from ..db import Case, Timer
from .services import SYSTEM, CaseTx, task_path

LISTENERS: list = []  # callables(lag seconds) told of every timer fired (metrics)


@dataclass
class Fired:
    """What one call of fire_due did: timers fired, and how late each was (seconds past its due time)."""

    count: int = 0
    lags: list[float] = field(default_factory=list)

    def __int__(self) -> int:
        return self.count

    def __eq__(self, other) -> bool:
        return self.count == other if isinstance(other, int) else NotImplemented

    def __bool__(self) -> bool:
        return self.count > 0


def _claim(services, s, now: datetime):
    """The id of one case with a due timer that no other worker holds, locked for this transaction (None if none)."""
    q = (select(Case.id).join(Timer, Timer.case_id == Case.id)
         .where(Timer.due_at <= now, Case.status == "running").order_by(Timer.due_at, Case.id).limit(1))
    for hold in services.timer_holds:
        q = q.where(~hold(Case.id))
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(of=Case, skip_locked=True)
    return s.scalar(q)


def fire_one(services, now: datetime | None = None) -> Fired | None:
    """Fire the due timers of one case in one transaction; None when no case is due (or every due one is being
    fired by another worker)."""
    now = as_utc(now or services.clock())
    out = Fired()
    with services.uow() as s:
        case_id = _claim(services, s, now)
        if case_id is None:
            return None
        case = services._lock_case(s, case_id)
        tx = CaseTx(services, s, case, services.version(s, case.version_id), now=services.clock())
        try:
            due = s.execute(select(Timer.task_id, Timer.due_at).where(Timer.case_id == case_id, Timer.due_at <= now)
                            .order_by(Timer.due_at, Timer.task_id)).all()
            wf = tx.wf
            fired = 0
            for task_id, due_at in due:  # one at a time, each followed by what the rules imply (as a replay does)
                task = _find(wf, task_id)
                if task is None or task._state != TaskState.WAITING:
                    continue  # cancelled by an earlier timer of this case (its task was interrupted)
                task._set_internal_data(event_fired=True)
                wf.refresh_timers()
                services._step(wf)
                tx.append(SYSTEM, "timer_fired", {"due": as_utc(due_at).isoformat(), "path": task_path(task)},
                          task_id=str(task.id), element_id=task.task_spec.bpmn_id)
                tx.settle()
                fired += 1
                lag = max(0.0, (as_utc(tx.now) - as_utc(due_at)).total_seconds())
                out.lags.append(lag)
                for listener in LISTENERS:
                    listener(lag)
            out.count = fired
            tx.save()
            tx.finish()
        finally:
            tx.dispose()
    return out


def _find(wf, task_id: str):
    for w in [wf, *wf.subprocesses.values()]:
        task = w.tasks.get(UUID(task_id))
        if task is not None:
            return task
    return None


def fire_due(services, now: datetime | None = None, limit: int = 100) -> Fired:
    """Fire the due timers of up to `limit` cases, each case in its own transaction; `now` defaults to the service
    layer's clock."""
    total = Fired()
    for _ in range(limit):
        one = fire_one(services, now)
        if one is None:
            break
        total.count += one.count
        total.lags += one.lags
    return total


def run_worker(services, interval: float = 5.0, once: bool = False, log=print) -> None:
    """The `onewindow worker` loop: fire due timers; several workers may run against one database."""
    while True:
        n = fire_due(services)
        if n:
            log(f"fired {n.count} timer(s), lag max {max(n.lags):.1f}s")
        if once:
            return
        time.sleep(interval)
