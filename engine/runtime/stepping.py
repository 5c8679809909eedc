"""Engine steps without a tree walk per pass.

`BpmnWorkflow.do_engine_steps` asks `get_tasks(state=READY)` again and again, and each call walks the whole task tree
(and every subprocess in it) from its root: most of the time of a step, and of a replay, goes into walks over
finished history. `do_engine_steps` here is the library's loop line for line, with one change: the READY tasks are
read off the task maps and put in the order the depth-first walk would have found them (a task's place is its
path of child positions from the root, a subprocess's tree coming before its parent task's children, as
`BpmnTaskIterator` descends). Same tasks, same order, same snapshot semantics, so the result is the library's;
`tests/test_stepping.py` compares both on every step of the catalogue.
"""
from __future__ import annotations

from SpiffWorkflow.util.task import TaskState

READY = TaskState.READY
FUTURE = TaskState.FUTURE


def do_engine_steps(wf) -> None:
    """`BpmnWorkflow.do_engine_steps()` (no callbacks), with the READY tasks found without walking the tree."""
    while _engine_pass(wf):
        pass
    wf.refresh_timers()


def _engine_pass(top) -> bool:
    """One `_do_engine_steps` pass: the active subprocesses deepest first, each until it has nothing to run,
    then the top workflow once. True when something ran or a subprocess started."""
    active = top.get_active_subprocesses()
    for sub in sorted(active, key=lambda v: v.depth, reverse=True):
        count = None
        while count is None or count > 0:
            count = _run_ready(sub, top)
        if sub.parent_task_id is not None:
            task = top.get_task_from_id(sub.parent_task_id)
            task.task_spec._update(task)
    count = _run_ready(top, top)
    return count > 0 or len(top.get_active_subprocesses()) > len(active)


def _run_ready(wf, top) -> int:
    count = 0
    for task in ready_tasks(wf, top):
        if not task.task_spec.manual:
            task.run()
            count += 1
    return count


def ready_tasks(wf, top) -> list:
    """`wf.get_tasks(state=READY)`: the READY tasks reachable from `wf`'s root, in depth-first order."""
    found = []
    for w in _within(wf, top):
        for t in w.tasks.values():
            if t._state == READY:
                key = _place(t, wf, top)
                if key is not None:
                    found.append((key, t))
    found.sort(key=lambda pair: pair[0])
    return [t for _, t in found]


def _within(wf, top) -> list:
    """`wf` and the subprocesses nested in it (at any depth)."""
    if wf is top:
        return [top, *top.subprocesses.values()]
    inside, nested = {id(wf)}, [wf]
    grew = True
    subs = list(top.subprocesses.values())
    while grew:
        grew = False
        for sp in subs:
            if id(sp) not in inside and id(_parent_workflow(sp, top)) in inside:
                inside.add(id(sp))
                nested.append(sp)
                grew = True
    return nested


def _parent_workflow(sub, top):
    task = top.get_task_from_id(sub.parent_task_id)
    return task.workflow if task is not None else None


def _place(task, wf, top) -> tuple | None:
    """The task's position in a depth-first walk from `wf`'s root, as a tuple of child positions; None when the walk
    would not reach it (an ancestor merely predicted, or a subprocess the walk does not enter)."""
    parts = []
    node = task
    while True:
        w = node.workflow
        parent = w.tasks.get(node._parent) if node._parent is not None else None
        if parent is None:
            if w is wf:
                break
            if w is top or getattr(w, "parent_task_id", None) is None:
                return None
            owner = top.get_task_from_id(w.parent_task_id)
            if owner is None or top.subprocesses.get(owner.id) is not w:
                return None
            parts.append(0)  # the subprocess's tree comes first under its task
            node = owner
            continue
        try:
            index = parent._children.index(node.id)
        except ValueError:
            return None
        has_sub = parent.id in top.subprocesses
        if not has_sub and parent._state < FUTURE:
            return None  # the walk does not descend below a predicted task
        parts.append(index + (1 if has_sub else 0))
        node = parent
    parts.reverse()
    return tuple(parts)
