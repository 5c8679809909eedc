"""Loading and saving a case's workflow, one row per task, writing only what a step changed.

Saving the whole serialized workflow at every step costs time proportional to the case's history;
we keep SpiffWorkflow's own per-task serialization (so the format stays the library's), but store
each task as its own row and, after a step, re-serialize only tasks that can have changed:
new tasks, tasks whose state changed, tasks still live (not finished; their data may change in
place), and the parents of added or removed tasks (their child lists changed). Finished tasks
never change again, and their data delta is relative to a finished parent, so it stays valid.
Rows keep the order SpiffWorkflow created tasks in (`seq`), because restoring a delta needs the
parent restored first. The spec is never stored per case: it comes from the pinned version.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

_FINISHED = TaskState.COMPLETED | TaskState.CANCELLED | TaskState.ERROR

_REGISTRY = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
SERIALIZER = BpmnWorkflowSerializer(_REGISTRY)
_ENCODER = SERIALIZER._encoder_cls
# The library's own workflow converter, reused for the workflow-level attributes and subprocesses.
_WF_CONVERTER = _REGISTRY.convert_from_dict["BpmnWorkflow"].args[0].__self__


def _dumps(obj) -> str:
    _REGISTRY._encoder_mode = True
    try:
        return json.dumps(SERIALIZER.to_dict(obj), cls=_ENCODER, ensure_ascii=False, separators=(",", ":"))
    finally:
        _REGISTRY._encoder_mode = False


def _convert(value):
    return _REGISTRY.convert(_REGISTRY.clean(value)) if isinstance(value, dict) else _REGISTRY.convert(value)


@dataclass
class Snapshot:
    """What was loaded, so a save can tell what changed."""

    bodies: dict[str, str] = field(default_factory=dict)       # task id -> stored text
    changes: dict[str, float] = field(default_factory=dict)    # task id -> last_state_change at load
    workflows: dict[str, str] = field(default_factory=dict)    # task id -> workflow key
    next_seq: int = 0


@dataclass
class Delta:
    """Rows to write after a step: (task id, workflow key, seq, body) upserts and deletions."""

    upserts: list[tuple[str, str, int, str]]
    deletes: list[str]
    head: str


def _head(wf: BpmnWorkflow) -> dict:
    def attrs(w) -> dict:
        return {
            "data": _convert(w.data),
            "correlations": w.correlations,
            "last_task": str(w.last_task.id) if w.last_task is not None else None,
            "success": w.success,
            "completed": w.completed,
            "root": str(w.task_tree.id),
        }

    head = attrs(wf)
    head["bpmn_events"] = _REGISTRY.convert(wf.bpmn_events)
    head["subprocesses"] = {str(k): dict(attrs(sp), spec=sp.spec.name) for k, sp in wf.subprocesses.items()}
    return head


def head_text(wf: BpmnWorkflow) -> str:
    _REGISTRY._encoder_mode = True
    try:
        return json.dumps(_head(wf), cls=_ENCODER, ensure_ascii=False, separators=(",", ":"))
    finally:
        _REGISTRY._encoder_mode = False


def _all_tasks(wf: BpmnWorkflow):
    """Every task of the workflow and its subprocesses, with its workflow key ('' = top level)."""
    for task_id, task in wf.tasks.items():
        yield "", task_id, task
    for sp_id, sp in wf.subprocesses.items():
        key = str(sp_id)
        for task_id, task in sp.tasks.items():
            yield key, task_id, task


def diff(wf: BpmnWorkflow, snap: Snapshot) -> Delta:
    """The rows a save must write; updates `snap` to describe the new stored state."""
    current: dict[str, tuple[str, object]] = {}
    dirty: set[str] = set()
    for key, task_id, task in _all_tasks(wf):
        sid = str(task_id)
        current[sid] = (key, task)
        if sid not in snap.bodies:
            dirty.add(sid)
            if task._parent is not None:
                dirty.add(str(task._parent))
        elif task.last_state_change != snap.changes.get(sid) or not task.state & _FINISHED:
            dirty.add(sid)
    deletes = [sid for sid in snap.bodies if sid not in current]
    for sid in deletes:
        parent = json.loads(snap.bodies[sid]).get("parent")
        if parent:
            dirty.add(parent)
    upserts = []
    for key, task_id, task in _all_tasks(wf):  # creation order, so new rows get ascending seq
        sid = str(task_id)
        if sid not in dirty:
            continue
        body = _dumps(task)
        if snap.bodies.get(sid) == body:
            snap.changes[sid] = task.last_state_change
            continue
        if sid in snap.bodies:
            seq = -1  # keep the stored seq
        else:
            seq = snap.next_seq
            snap.next_seq += 1
        upserts.append((sid, key, seq, body))
        snap.bodies[sid] = body
        snap.changes[sid] = task.last_state_change
        snap.workflows[sid] = key
    for sid in deletes:
        snap.bodies.pop(sid, None)
        snap.changes.pop(sid, None)
        snap.workflows.pop(sid, None)
    return Delta(upserts, deletes, head_text(wf))


def restore(spec_bundle, head: str, rows: list[tuple[str, str, int, str]], script_engine) -> tuple[BpmnWorkflow, Snapshot]:
    """Rebuild a workflow from its head and task rows (task id, workflow key, seq, body)."""
    rows = sorted(rows, key=lambda r: r[2])
    bodies = json.loads("[" + ",".join(r[3] for r in rows) + "]") if rows else []
    by_wf: dict[str, dict[str, dict]] = {}
    snap = Snapshot(next_seq=(rows[-1][2] + 1) if rows else 0)
    for (sid, key, _seq, text), body in zip(rows, bodies):
        by_wf.setdefault(key, {})[sid] = body
        snap.bodies[sid] = text
        snap.changes[sid] = body["last_state_change"]
        snap.workflows[sid] = key
    h = json.loads(head)
    dct = {"tasks": by_wf.get("", {}), **{k: v for k, v in h.items() if k != "subprocesses"}}
    wf = BpmnWorkflow(spec_bundle.spec, spec_bundle.subprocess_specs, script_engine=script_engine, deserializing=True)
    wf_conv = _WF_CONVERTER
    wf.tasks = {UUID(k): _REGISTRY.restore(v, workflow=wf) for k, v in dct["tasks"].items()}
    wf.task_tree = wf.tasks.get(UUID(dct["root"]))
    wf_conv.set_default_attributes(wf, dct)
    subs = {k: dict(v, tasks=by_wf.get(k, {})) for k, v in h.get("subprocesses", {}).items()}
    for v in subs.values():
        v["typename"] = "BpmnSubWorkflow"
    wf_conv.subprocesses_from_dict(subs, wf)
    wf.bpmn_events = _REGISTRY.restore(dct.get("bpmn_events", []))
    return wf, snap


def full_snapshot(wf: BpmnWorkflow) -> Delta:
    """Rows for a brand-new case: every task."""
    return diff(wf, Snapshot())
