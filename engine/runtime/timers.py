"""Timers: index the pending timer events of each case and fire the due ones from a worker.

SpiffWorkflow's clock is `datetime.now(timezone.utc)` inside the library and time only advances on
`refresh_timers()` + `do_engine_steps()`; so the platform keeps its own index of due times (the
`timers` table, rewritten at every save) and a worker steps only the cases that are due.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from sqlalchemy import select

from ..db import Case, Timer
from .services import SYSTEM, task_path


def fire_due(services, now: datetime | None = None, limit: int = 100) -> int:
    """Step every case with a due timer, each in its own transaction; return how many fired."""
    now = now or datetime.now(timezone.utc)
    with services.uow() as s:
        case_ids = sorted(set(s.scalars(select(Timer.case_id).join(Case, Case.id == Timer.case_id)  # suspended: wait
                                        .where(Timer.due_at <= now, Case.status != "suspended").limit(limit)).all()))
    fired = 0
    for case_id in case_ids:
        with services.case_action(case_id) as tx:
            due = tx.s.scalars(select(Timer).where(Timer.case_id == case_id, Timer.due_at <= now)).all()
            if not due or tx.case.status == "suspended":
                continue  # another worker got there first, or the case was suspended meanwhile
            wf = tx.wf
            wf.refresh_timers()
            services._step(wf)
            for t in due:
                task = next((x for w in [wf, *wf.subprocesses.values()] for x in w.tasks.values()
                             if str(x.id) == t.task_id), None)
                tx.append(SYSTEM, "timer_fired", {"due": t.due_at.isoformat(), "path": task_path(task) if task else None},
                          task_id=t.task_id, element_id=task.task_spec.bpmn_id if task else None)
            tx.save()
            fired += len(due)
    return fired


def run_worker(services, interval: float = 5.0, once: bool = False, log=print) -> None:
    """The `onewindow worker` loop: fire due timers; several workers may run against one database."""
    while True:
        n = fire_due(services)
        if n:
            log(f"fired {n} timer(s)")
        if once:
            return
        time.sleep(interval)
