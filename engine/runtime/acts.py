"""What administrative acts do to a workflow, as pure functions shared by the acts (engine.runtime.admin) and
by the replay (engine.audit.replay), which applies the recorded events exactly as the acts did: the status
transitions of suspend/resume, a data correction on the open tasks, and a migration to another version.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.specs.mixins import ExclusiveGatewayMixin
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from . import livetasks, store
from .livetasks import task_path

OPEN = TaskState.READY | TaskState.WAITING
LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
PREDICTED = TaskState.PREDICTED_MASK | TaskState.FUTURE
WIRING = {"inputs", "outputs"}  # spec attributes that change when elements are added around a task
COSMETIC = {"bpmn_name", "description", "documentation"}  # what an open task may change (its work item is renamed)
# Spec attributes as a designer knows them, for the reasons a migration gives.
ASPECTS = {"extensions": "group, form or properties", "lane": "lane (group)", "typename": "element type",
           "manual": "user/automatic", "event_definition": "event (timer)", "cond_task_specs": "conditions",
           "default_task_spec": "default flow", "script": "script", "prescript": "pre-script",
           "postscript": "post-script", "spec": "called process"}
# (status before, event type) -> status after
TRANSITIONS = {("running", "case_suspended"): "suspended", ("suspended", "case_resumed"): "running"}

class Unsafe(Exception):
    """A migration the case cannot take; `problems` lists (element id, why)."""

    def __init__(self, problems: list[tuple[str, str]]):
        problems = list(dict.fromkeys(problems))  # a loop has several tasks of one element
        super().__init__("; ".join(f"{e}: {why}" for e, why in problems))
        self.problems = problems

def next_status(status: str, type_: str) -> str | None:
    """The case status after a suspend/resume event, or None when the event does not apply to that status."""
    return TRANSITIONS.get((status, type_))

def _get(data: dict, path: list[str]):
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data

def _set(data: dict, path: list[str], value) -> None:
    """Set a dotted path, rebuilding (never mutating) nested dicts: they may be shared with finished tasks."""
    head, *rest = path
    data[head] = _rebuilt(data.get(head), rest, value) if rest else value

def _rebuilt(node, path: list[str], value) -> dict:
    node = dict(node) if isinstance(node, dict) else {}
    _set(node, path, value)
    return node

def open_tasks(wf) -> list:
    """READY and WAITING tasks of the workflow and its subprocesses, in a stable (path) order."""
    tasks = [t for w in livetasks.workflows(wf) for t in w.tasks.values() if t.state & OPEN]
    return sorted(tasks, key=lambda t: "/".join(task_path(t)))

def correct_data(wf, changes: dict) -> dict:
    """Set each dotted key of `changes` on the data of every open task; returns {key: {before, after}}
    (before: the value on the first open task that had one)."""
    tasks = open_tasks(wf)
    out = {}
    for key, value in changes.items():
        path = key.split(".")
        before = next((v for v in (_get(t.data, path) for t in tasks) if v is not None), None)
        for t in tasks:
            _set(t.data, path, value)
        out[key] = {"before": before, "after": value}
    return out

def _diffs(wf, bundle) -> list[tuple]:
    """(workflow, new spec, SpecDiff, WorkflowDiff) for the top workflow and each subprocess, as the library's
    diff_workflow builds them (kept here because the safety check needs the spec-level changes too)."""
    registry = store.SERIALIZER.registry
    out = []
    for w in livetasks.workflows(wf):
        new_spec = bundle.spec if w is wf else bundle.subprocess_specs.get(w.spec.name)
        spec_diff = SpecDiff(registry, w.spec, new_spec) if new_spec is not None else None
        out.append((w, new_spec, spec_diff, WorkflowDiff(w, spec_diff) if spec_diff else None))
    return out

def _problems(wf, diffs) -> list[tuple[str, str]]:
    """What makes the migration unsafe: reached elements removed or renamed, open tasks changed, or a
    passed split (parallel or inclusive) whose branches changed (its new join would wait forever)."""
    found = []
    for w, _new_spec, spec_diff, d in diffs:
        if d is None:
            owner = wf.get_task_from_id(w.parent_task_id)
            found.append((owner.task_spec.bpmn_id if owner else w.spec.name,
                          f"the new version no longer has process {w.spec.name}"))
            continue
        removed, changed = set(d.removed), spec_diff.changed
        for t in w.get_tasks(skip_subprocesses=True):
            name, new = t.task_spec.bpmn_id or t.task_spec.name, d.alignment.get(t)
            what = set(changed.get(t.task_spec, ()))
            if t in removed and not t.state & PREDICTED:
                found.append((name, "removed in the new version, but this case has reached it"))
            elif new is not None and new.name != t.task_spec.name and not t.state & PREDICTED:
                found.append((name, f"matched to {new.name} in the new version (renamed)"))
            elif t.state & LIVE and what - WIRING - COSMETIC:
                changed_aspects = ", ".join(ASPECTS.get(a, a) for a in sorted(what - WIRING - COSMETIC))
                found.append((name, f"changed in the new version while a case waits in it ({changed_aspects})"))
            elif (t.state == TaskState.COMPLETED and "outputs" in what and len(new.outputs) > 1
                  and not isinstance(t.task_spec, ExclusiveGatewayMixin)):
                found.append((name, "a split this case already passed has different branches in the new version"))
    return found

def migrate(wf, bundle) -> None:
    """Move a workflow (and its subprocesses) onto the specs of another version with the library's
    SpecDiff/WorkflowDiff and migrate_workflow; raise Unsafe, naming the elements, when the instance cannot
    take it. Open tasks are reset and predicted again by the library; their data is kept, and so is the due time
    of a waiting timer (the library would start it again from now)."""
    diffs = _diffs(wf, bundle)
    problems = _problems(wf, diffs)
    if problems:
        raise Unsafe(problems)
    kept = {t.id: t.data for w in livetasks.workflows(wf) for t in w.tasks.values() if t.state & OPEN}
    due = {t.id: t.internal_data["event_value"] for w in livetasks.workflows(wf) for t in w.tasks.values()
           if t.state & OPEN and "event_value" in t.internal_data}
    wf.subprocess_specs = bundle.subprocess_specs
    for w, new_spec, _spec_diff, d in diffs:
        migrate_workflow(d, w, new_spec)
        _predict_after_started(w)
    for w in livetasks.workflows(wf):
        for t in w.tasks.values():
            if t.id in kept:
                t.data = kept[t.id]
            if t.id in due and t.state & OPEN:
                t.internal_data["event_value"] = due[t.id]
    stray = sorted({t.task_spec.name for w in livetasks.workflows(wf) for t in w.tasks.values()
                    if w.spec.task_specs.get(t.task_spec.name) is not t.task_spec})
    if stray:
        raise Unsafe([(name, "has no counterpart in the new version") for name in stray])

def _predict_after_started(w) -> None:
    """A running subprocess or call activity (STARTED) keeps the successors it predicted in the old version (and
    theirs): the library resets only ready and waiting tasks. Predict them again from the new version, when none
    of them has begun (a multi-instance task's instances, for one, are left alone)."""
    not_begun = TaskState.PREDICTED_MASK | TaskState.FUTURE
    for t in list(w.tasks.values()):
        if t.id not in w.tasks or t.state != TaskState.STARTED:
            continue
        if not all(c.state & not_begun for c in t.children):
            continue
        t._drop_children(force=True)
        t.task_spec._predict(t, mask=TaskState.STARTED | TaskState.PREDICTED_MASK | TaskState.FUTURE)
