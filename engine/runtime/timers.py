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
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError
from SpiffWorkflow.util.task import TaskState

from ..clock import as_utc
from ..db import Case, Timer, TimerFailure
from .services import SYSTEM, CaseTx, task_path

LISTENERS: list = []  # callables(lag seconds) told of every timer fired (metrics)

BACKOFF = (60, 300, 1800, 3600)  # seconds before a failing case's timers are tried again


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
    """The id of one case with a due timer that no other worker holds, locked for this transaction (None if none).
    Suspended cases wait; a case whose timers failed waits for its back-off."""
    backing_off = select(TimerFailure.case_id).where(TimerFailure.retry_at > now)
    q = (select(Case.id).join(Timer, Timer.case_id == Case.id)
         .where(Timer.due_at <= now, Case.status == "running", Case.id.not_in(backing_off))
         .order_by(Timer.due_at, Case.id).limit(1))
    for hold in services.timer_holds:
        q = q.where(~hold(Case.id))
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(of=Case, skip_locked=True)
    return s.scalar(q)


class _Failed(Exception):
    def __init__(self, case_id: int, exc: Exception):
        super().__init__(str(exc))
        self.case_id, self.exc = case_id, exc


def fire_one(services, now: datetime | None = None) -> Fired | None:
    """Fire the due timers of one case in one transaction; None when no case is due (or every due one is being
    fired by another worker). A failure of the case (not of the database) rolls its transaction back and is
    raised as _Failed, naming the case."""
    now = as_utc(now or services.clock())
    out = Fired()
    with services.uow() as s:
        case_id = _claim(services, s, now)
        if case_id is None:
            return None
        try:
            case = services._lock_case(s, case_id)
            tx = CaseTx(services, s, case, services.version(s, case.version_id), now=services.clock())
        except DBAPIError:
            raise
        except Exception as exc:  # noqa: BLE001 - a case that cannot even be loaded is a failing case
            raise _Failed(case_id, exc) from exc
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
            s.execute(delete(TimerFailure).where(TimerFailure.case_id == case_id))
            tx.finish()
        except DBAPIError:
            raise  # the database itself: the worker loop waits for it
        except Exception as exc:  # noqa: BLE001 - one case's failure must not stop the others
            raise _Failed(case_id, exc) from exc
        finally:
            tx.dispose()
    return out


def _find(wf, task_id: str):
    for w in [wf, *wf.subprocesses.values()]:
        task = w.tasks.get(UUID(task_id))
        if task is not None:
            return task
    return None


def fire_due(services, now: datetime | None = None, limit: int = 100, log=None) -> Fired:
    """Fire the due timers of up to `limit` cases, each case in its own transaction; `now` defaults to the service
    layer's clock. A case that fails is recorded (an event on the case, a row in timer_failures that supervisors
    see) and tried again later, backing off; the other cases go on."""
    total = Fired()
    for _ in range(limit):
        try:
            one = fire_one(services, now)
        except _Failed as failed:
            _record_failure(services, failed.case_id, as_utc(now or services.clock()), failed.exc)
            if log is not None:
                log(f"case {failed.case_id}: timer failed: {type(failed.exc).__name__}: {failed.exc}")
            continue
        if one is None:
            break
        total.count += one.count
        total.lags += one.lags
    return total


def _record_failure(services, case_id: int, now: datetime, exc: Exception) -> None:
    """In a transaction of its own (the failed one rolled back): the case's event and the back-off. A case that
    cannot even be loaded gets the back-off row alone (its history cannot take an event it could not replay)."""
    reason = f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"[:2000]
    try:
        with services.case_action(case_id) as tx:
            row = _backoff(tx.s, case_id, now, reason)
            tx.append(SYSTEM, "timer_failed", {"reason": reason, "failures": row.failures,
                                               "retry_at": row.retry_at.isoformat()})
    except DBAPIError:
        raise
    except Exception:  # noqa: BLE001 - see above
        with services.uow() as s:
            _backoff(s, case_id, now, reason)


def _backoff(s, case_id: int, now: datetime, reason: str) -> TimerFailure:
    row = s.get(TimerFailure, case_id)
    if row is None:
        row = TimerFailure(case_id=case_id, failures=0, last_error="", failed_at=now, retry_at=now)
        s.add(row)
    row.failures += 1
    row.last_error, row.failed_at = reason, now
    row.retry_at = now + timedelta(seconds=BACKOFF[min(row.failures, len(BACKOFF)) - 1])
    s.flush()
    return row


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
            sent = batch = outbox.deliver_due(services, senders, now=services.clock())
            while once and batch:  # --once empties what is due now, not one batch of it
                batch = outbox.deliver_due(services, senders, now=services.clock())
                sent += batch
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
            log(f"fired {n.count} timer(s), lag max {max(n.lags, default=0.0):.1f}s")
        if sent:
            log(f"delivered {sent} message(s)")
        if once:
            return
        sleep(interval)
