"""What the service layer reads off a loaded workflow without walking its task tree.

SpiffWorkflow answers these questions (ready tasks, completion, depth) by walking the tree from its root,
which costs time in proportion to the case's history and stops at depth 1,000. These read the task maps,
or just the unfinished tasks a save has already collected.
"""
from __future__ import annotations

from datetime import datetime, timezone

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState


def workflows(wf: BpmnWorkflow) -> list:
    """The workflow and its subprocesses."""
    return [wf, *wf.subprocesses.values()]


def live_tasks(wf: BpmnWorkflow, live=None) -> list:
    """The unfinished tasks of the workflow and its subprocesses (`live` when the caller already has them)."""
    if live is not None:
        return live
    mask = TaskState.NOT_FINISHED_MASK
    return [t for w in workflows(wf) for t in w.tasks.values() if t._state & mask]


def ready_user_tasks(wf: BpmnWorkflow, live=None) -> dict[str, object]:
    """{task id: task} of READY manual tasks, as wf.get_tasks(state=READY, manual=True) finds them, but read
    from the task maps (no tree walk, no depth limit); the order is the maps', not the tree's."""
    ready = TaskState.READY
    return {str(t.id): t for t in live_tasks(wf, live) if t._state == ready and t.task_spec.manual}


def is_completed(wf: BpmnWorkflow, live=None) -> bool:
    """wf.is_completed() (including setting `completed`), read from the task map instead of a tree walk."""
    if not wf.completed:
        if live is not None:
            done = not any(t.workflow is wf for t in live)
        else:
            mask = TaskState.NOT_FINISHED_MASK
            done = not any(t._state & mask for t in wf.tasks.values())
        if done:
            wf.completed = True
    return wf.completed


def max_live_depth(wf: BpmnWorkflow, live=None) -> tuple[int, object]:
    """The deepest unfinished task of the workflow and its subprocesses (task.depth, each in its own tree).

    Restored tasks carry their depth (`_ow_depth`, set from the parent as rows are read), so only tasks
    created since the load walk up, to the nearest ancestor that knows its depth."""
    best, best_task = -1, None
    for t in live_tasks(wf, live):
        d = depth(t)
        if d > best:
            best, best_task = d, t
    return best, best_task


def depth(task) -> int:
    """task.depth (its distance from its tree's root), remembered on the task and its ancestors as `_ow_depth`."""
    tasks = task.workflow.tasks
    chain, node = [], task
    while node is not None and "_ow_depth" not in node.__dict__:
        chain.append(node)
        node = tasks.get(node._parent) if node._parent is not None else None
    d = node.__dict__["_ow_depth"] if node is not None else -1
    for n in reversed(chain):
        d += 1
        n.__dict__["_ow_depth"] = d
    return d


def timers(wf: BpmnWorkflow, live=None) -> list[tuple[str, object]]:
    """(task id, due time) of the waiting timers, from the live tasks when the caller has them."""
    return pending_timers(live_tasks(wf, live))


def pending_timers(tasks) -> list[tuple[str, datetime]]:
    """(task id, due time) of every waiting timer among `tasks` (the unfinished tasks of a case)."""
    out = []
    for task in tasks:
        ev = getattr(task.task_spec, "event_definition", None)
        if task._state != TaskState.WAITING or not isinstance(ev, TimerEventDefinition):
            continue
        due = _due(task._get_internal_data("event_value"))
        if due is not None:
            out.append((str(task.id), due))
    return out


def _due(value) -> datetime | None:
    try:
        if isinstance(value, dict):
            value = value.get("next")
        if not value:
            return None
        due = datetime.fromisoformat(str(value))
        return due if due.tzinfo else due.replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None


def task_path(task) -> list[str]:
    """Where a task sits, free of random ids: the bpmn ids of the call activities above it, then its own
    (with the multi-instance index where there is one), so a replay can find the same task again."""
    path = []
    while task is not None:
        ident = task.task_spec.bpmn_id or task.task_spec.name
        idx = _instance(task)
        path.append(f"{ident}#{idx}" if idx is not None else ident)
        wf = task.workflow
        task = wf.top_workflow.get_task_from_id(wf.parent_task_id) if wf is not wf.top_workflow else None
    return list(reversed(path))


def _instance(task):
    """Which instance of a multi-instance task this is: its item's key or index (parallel), or its pass
    (sequential), as SpiffWorkflow 3.2 records them; None for an ordinary task. Without it, the instances of one
    call activity would share a path and a replay could complete the wrong one."""
    internal = getattr(task, "internal_data", None) or {}
    for key in ("key_or_index", "iteration"):
        if internal.get(key) is not None:
            return internal[key]
    return None
