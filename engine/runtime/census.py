"""Where the running cases of a process are: how many sit on each deployed version, and in which elements they wait.

Why load each case: a case waits in user tasks, but also in timers, at a parallel join for its other branches, and
inside called processes; only its workflow knows all of them. Read-only, one short transaction per case.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.util.task import TaskState

from . import livetasks
from .livetasks import task_path
from ..db import Case, ProcessVersion

OPEN_STATUSES = ("running", "suspended")


def waiting_at(wf) -> list[str]:
    """The elements a case waits in, as task paths (`call/sub_task` inside a called process), sorted: ready tasks
    and waiting events and joins; a call activity or subprocess shows through the elements inside it."""
    out = set()
    for w in livetasks.workflows(wf):
        for t in w.tasks.values():
            if (t.state & (TaskState.READY | TaskState.WAITING) and t.task_spec.bpmn_id
                    and not isinstance(t.task_spec, SubWorkflowTask)):
                out.add("/".join(task_path(t)))
    return sorted(out)


@dataclass
class VersionCensus:
    """The open cases of one deployed version of a process."""

    version_id: int
    deployed_at: datetime | None
    running: int = 0
    suspended: int = 0
    positions: Counter = field(default_factory=Counter)  # task path -> cases waiting there
    cases: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (case id, number, where it waits)

    @property
    def total(self) -> int:
        return self.running + self.suspended

    def where(self) -> str:
        return ", ".join(f"{p} ×{n}" for p, n in sorted(self.positions.items(), key=lambda kv: (-kv[1], kv[0])))


def census(services, process_id: str, with_positions: bool = True) -> list[VersionCensus]:
    """Every deployed version of the process, oldest first, with its running and suspended cases."""
    with services.uow() as s:
        versions = s.execute(select(ProcessVersion.id, ProcessVersion.deployed_at)
                             .where(ProcessVersion.process_id == process_id).order_by(ProcessVersion.id)).all()
        out = {vid: VersionCensus(vid, at) for vid, at in versions}
        counts = s.execute(select(Case.version_id, Case.status, func.count()).where(
            Case.process_id == process_id, Case.status.in_(OPEN_STATUSES)).group_by(Case.version_id, Case.status)).all()
        for vid, status, n in counts:
            if vid in out:
                setattr(out[vid], status, n)
        cases = s.execute(select(Case.id, Case.number, Case.version_id).where(
            Case.process_id == process_id, Case.status.in_(OPEN_STATUSES)).order_by(Case.id)).all() \
            if with_positions else []
    for case_id, number, vid in cases:
        with services.case_view_tx(case_id) as tx:
            where = waiting_at(tx.wf)
        if vid in out:
            out[vid].positions.update(where)
            out[vid].cases.append((case_id, number, where))
    return list(out.values())
