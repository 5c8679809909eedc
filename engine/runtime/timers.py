"""Timers: index the pending timer events of each case and fire the due ones from a worker.

SpiffWorkflow's clock is `datetime.now(timezone.utc)` inside the library and time only advances on
`refresh_timers()` + `do_engine_steps()`; so the platform keeps its own index of due times (the
`timers` table, rewritten at every save) and a worker steps only the cases that are due.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError

from ..db import Case, Timer, TimerFailure
from .services import SYSTEM, task_path

BACKOFF = (60, 300, 1800, 3600)  # seconds before a failing case's timers are tried again


def fire_due(services, now: datetime | None = None, limit: int = 100, log=None) -> int:
    """Step every case with a due timer, each in its own transaction; return how many fired. A case that fails
    is recorded (an event on the case, a row in timer_failures that supervisors see) and tried again later,
    backing off; the other cases go on."""
    now = now or datetime.now(timezone.utc)
    with services.read() as s:
        waiting = select(TimerFailure.case_id).where(TimerFailure.retry_at > now)
        case_ids = sorted(set(s.scalars(select(Timer.case_id).join(Case, Case.id == Timer.case_id)  # suspended: wait
                                        .where(Timer.due_at <= now, Case.status != "suspended",
                                               Timer.case_id.not_in(waiting)).limit(limit)).all()))
    fired = 0
    for case_id in case_ids:
        try:
            fired += _fire(services, case_id, now)
        except DBAPIError:
            raise  # the database itself: the worker loop waits for it
        except Exception as exc:  # noqa: BLE001 - one case's failure must not stop the others
            _record_failure(services, case_id, now, exc)
            if log is not None:
                log(f"case {case_id}: timer failed: {type(exc).__name__}: {exc}")
    return fired


def _fire(services, case_id: int, now: datetime) -> int:
    with services.case_action(case_id) as tx:
            due = tx.s.scalars(select(Timer).where(Timer.case_id == case_id, Timer.due_at <= now)).all()
            if not due or tx.case.status == "suspended":
                return 0  # another worker got there first, or the case was suspended meanwhile
            wf = tx.wf
            wf.refresh_timers()
            services._step(wf)
            for t in due:
                task = next((x for w in [wf, *wf.subprocesses.values()] for x in w.tasks.values()
                             if str(x.id) == t.task_id), None)
                tx.append(SYSTEM, "timer_fired", {"due": t.due_at.isoformat(), "path": task_path(task) if task else None},
                          task_id=t.task_id, element_id=task.task_spec.bpmn_id if task else None)
            tx.save()
            tx.s.execute(delete(TimerFailure).where(TimerFailure.case_id == case_id))
            return len(due)


def _record_failure(services, case_id: int, now: datetime, exc: Exception) -> None:
    """In a transaction of its own (the failed one rolled back): the case's event and the back-off."""
    reason = f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"[:2000]
    with services.case_action(case_id) as tx:
        row = tx.s.get(TimerFailure, case_id)
        if row is None:
            row = TimerFailure(case_id=case_id, failures=0, last_error="", failed_at=now, retry_at=now)
            tx.s.add(row)
        row.failures += 1
        row.last_error, row.failed_at = reason, now
        row.retry_at = now + timedelta(seconds=BACKOFF[min(row.failures, len(BACKOFF)) - 1])
        tx.append(SYSTEM, "timer_failed", {"reason": reason, "failures": row.failures,
                                           "retry_at": row.retry_at.isoformat()})


def failing(services) -> list[dict]:
    """Cases whose due timers failed (for supervisors): case, number, failures, last error, next try."""
    with services.read() as s:
        rows = s.execute(select(TimerFailure, Case.number).join(Case, Case.id == TimerFailure.case_id)
                         .order_by(TimerFailure.failed_at.desc())).all()
    return [{"case_id": f.case_id, "number": n, "failures": f.failures, "last_error": f.last_error,
             "failed_at": f.failed_at.isoformat(), "retry_at": f.retry_at.isoformat()} for f, n in rows]


def run_worker(services, interval: float = 5.0, once: bool = False, log=print, sleep=time.sleep,
               senders: dict | None = None) -> None:
    """The `onewindow worker` loop: fire due timers, then deliver due outbox messages (engine.runtime.outbox);
    several workers may run against one database. It outlives a database restart: while the database cannot be
    reached it waits, longer each time (up to a minute)."""
    from . import outbox

    pause = interval
    while True:
        try:
            n = fire_due(services, log=log)
            sent = outbox.deliver_due(services, senders, now=services.clock())
        except DBAPIError as exc:
            pause = min(max(pause * 2, 1.0), 60.0)
            log(f"database unreachable ({type(exc.orig).__name__ if exc.orig else type(exc).__name__}); "
                f"trying again in {pause:.0f} s")
            if once:
                return
            sleep(pause)
            continue
        pause = interval
        if n:
            log(f"fired {n} timer(s)")
        if sent:
            log(f"delivered {sent} message(s)")
        if once:
            return
        sleep(interval)
