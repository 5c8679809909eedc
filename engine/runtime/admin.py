"""Administrative acts on a case: reassign a task, suspend and resume, correct data, migrate to a newer version.

Each act is one transaction through `Services.case_action` and writes one audit event. The functions that change
the workflow (`next_status`, `correct_data`, `migrate`) are shared with engine.audit.replay, which applies the events
exactly as the acts did, so `onewindow audit verify` still passes on cases that had them.
"""
from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins import ExclusiveGatewayMixin
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from . import livetasks, store
from .livetasks import task_path
from .services import find_case
from ..db import ProcessVersion, WorkItem
from ..errors import Conflict, Forbidden, Invalid, NotFound

ADMIN_GROUPS = ("admin", "supervisor")
OPEN = TaskState.READY | TaskState.WAITING
LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
PREDICTED = TaskState.PREDICTED_MASK | TaskState.FUTURE
WIRING = {"inputs", "outputs"}  # spec attributes that change when elements are added around a task
# (status before, event type) -> status after
TRANSITIONS = {("running", "case_suspended"): "suspended", ("suspended", "case_resumed"): "running"}

class Unsafe(Exception):
    """A migration the case cannot take; `problems` lists (element id, why)."""

    def __init__(self, problems: list[tuple[str, str]]):
        problems = list(dict.fromkeys(problems))  # a loop has several tasks of one element
        super().__init__("; ".join(f"{e}: {why}" for e, why in problems))
        self.problems = problems

# ---------------------------------------------------------------- shared with engine.audit.replay
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
            elif t.state & LIVE and what - WIRING:
                found.append((name, f"changed in the new version while open ({', '.join(sorted(what - WIRING))})"))
            elif (t.state == TaskState.COMPLETED and "outputs" in what and len(new.outputs) > 1
                  and not isinstance(t.task_spec, ExclusiveGatewayMixin)):
                found.append((name, "a split this case already passed has different branches in the new version"))
    return found

def migrate(wf, bundle) -> None:
    """Move a workflow (and its subprocesses) onto the specs of another version with the library's
    SpecDiff/WorkflowDiff and migrate_workflow; raise Unsafe, naming the elements, when the instance cannot
    take it. Open tasks are reset and predicted again by the library; their data is kept."""
    diffs = _diffs(wf, bundle)
    problems = _problems(wf, diffs)
    if problems:
        raise Unsafe(problems)
    kept = {t.id: t.data for w in livetasks.workflows(wf) for t in w.tasks.values() if t.state & OPEN}
    wf.subprocess_specs = bundle.subprocess_specs
    for w, new_spec, _spec_diff, d in diffs:
        migrate_workflow(d, w, new_spec)
    for w in livetasks.workflows(wf):
        for t in w.tasks.values():
            if t.id in kept:
                t.data = kept[t.id]
    stray = sorted({t.task_spec.name for w in livetasks.workflows(wf) for t in w.tasks.values()
                    if w.spec.task_specs.get(t.task_spec.name) is not t.task_spec})
    if stray:
        raise Unsafe([(name, "has no counterpart in the new version") for name in stray])

# ---------------------------------------------------------------- the acts
def _check(actor, reason) -> str:
    if not set(ADMIN_GROUPS) & set(actor.groups):
        raise Forbidden("只有管理员或督办人员可以执行管理操作 (only admins and supervisors may do administrative acts)")
    reason = str(reason or "").strip()
    if not reason:
        raise Invalid("a reason is required", {"reason": "必填：请说明原因 (required: give a reason)"})
    return reason

def _group(actor) -> str:
    return next(g for g in ADMIN_GROUPS if g in actor.groups)

def _not_closed(case) -> None:
    if case.status not in ("running", "suspended"):
        raise Conflict(f"案件已{case.status}，不能操作 (case is {case.status})")

class Admin:
    """Administrative acts for actors in group 'admin' or 'supervisor'; every act needs a reason."""

    def __init__(self, services):
        self.sv = services

    def reassign(self, actor, task_id: str, to_user: str | None = None, to_group: str | None = None,
                 reason: str = "") -> dict:
        """Give an open task to another user (who becomes its assignee and a candidate) and/or group."""
        reason = _check(actor, reason)
        if not to_user and not to_group:
            raise Invalid("name a user or a group", {"to": "请指定用户或组 (give to_user or to_group)"})
        with self.sv.case_action(task_id=task_id) as tx:
            _not_closed(tx.case)
            item = tx.s.get(WorkItem, task_id, populate_existing=True)
            if item is None:
                raise Conflict("task is no longer ready")
            if to_user:
                self.sv._actor(tx.s, to_user)  # NotFound for an unknown user
            task = tx.wf.get_task_from_id(UUID(task_id))
            before = {"user": item.assignee, "group": item.group_name}
            if to_group:
                item.group_name, item.assignee, item.status = to_group, None, "ready"
            if to_user:
                item.assignee, item.status = to_user, "claimed"
                if f",{to_user}," not in (item.candidate_users or ""):
                    item.candidate_users = (item.candidate_users or ",") + f"{to_user},"
            tx.append(actor, "task_reassigned", {
                "name": item.name, "process_id": item.process_id, "path": task_path(task), "reason": reason,
                "from": before, "to": {"user": item.assignee, "group": item.group_name}},
                group=_group(actor), task_id=task_id, element_id=item.element_id)
        return tx.result

    def suspend(self, actor, case_id: int, reason: str = "") -> dict:
        return self._status(actor, case_id, reason, "case_suspended")

    def resume(self, actor, case_id: int, reason: str = "") -> dict:
        return self._status(actor, case_id, reason, "case_resumed")

    def _status(self, actor, case_id: int, reason: str, type_: str) -> dict:
        reason = _check(actor, reason)
        with self.sv.case_action(case_id) as tx:
            after = next_status(tx.case.status, type_)
            if after is None:
                zh, en = ("挂起", "suspend") if type_ == "case_suspended" else ("恢复", "resume")
                raise Conflict(f"案件当前状态为 {tx.case.status}，不能{zh} (case is {tx.case.status}: cannot {en} it)")
            tx.append(actor, type_, {"reason": reason, "from": tx.case.status, "to": after}, group=_group(actor))
            tx.case.status, tx.case.updated_at = after, tx.now
        return tx.result

    def correct_data(self, actor, case_id: int, changes: dict, reason: str = "") -> dict:
        """Correct case data (dotted keys, e.g. `applicant.name`) on every open task of the case."""
        reason = _check(actor, reason)
        if not isinstance(changes, dict) or not changes or not all(isinstance(k, str) and k.strip(".") for k in changes):
            raise Invalid("changes must map data keys to values", {"changes": "请给出要更正的字段 (give key=value)"})
        with self.sv.case_action(case_id) as tx:
            _not_closed(tx.case)
            if not open_tasks(tx.wf):
                raise Conflict("案件没有待办环节，无法更正 (the case has no open task to correct)")
            done = correct_data(tx.wf, changes)
            tx.append(actor, "data_corrected", {"changes": done, "reason": reason}, group=_group(actor))
            tx.save()
        return tx.result

    def migrate_version(self, actor, case_id: int, to_version_id: int, reason: str = "") -> dict:
        """Move a running case onto a newer deployed version of its process."""
        reason = _check(actor, reason)
        with self.sv.case_action(case_id) as tx:
            if tx.case.status != "running":
                raise Conflict(f"只能迁移办理中的案件 (only running cases can be migrated; this one is {tx.case.status})")
            new = tx.s.get(ProcessVersion, int(to_version_id))
            if new is None:
                raise NotFound(f"no such process version: {to_version_id}")
            if new.process_id != tx.case.process_id or new.id <= tx.case.version_id:
                raise Conflict(f"版本 {new.id} 不是本事项的新版本 (version {new.id} is not a newer version of "
                               f"{tx.case.process_id}; the case is on version {tx.case.version_id})")
            wf = tx.wf
            try:
                migrate(wf, self.sv.spec_bundle(tx.s, new))
            except Unsafe as exc:
                raise Conflict(f"该案件不能安全迁移到版本 {new.id} (the case cannot be migrated safely): {exc}",
                               elements=[e for e, _ in exc.problems]) from None
            old = tx.case.version_id
            tx.case.version_id, tx.version = new.id, self.sv.version(tx.s, new.id)
            tx.append(actor, "version_migrated", {"from_version_id": old, "to_version_id": new.id, "reason": reason},
                      group=_group(actor))
            self.sv._step(wf)
            tx.save()
        return tx.result

def case_ref(services, ref) -> int:
    """A case id from an id or a case number."""
    with services.uow() as s:
        case = find_case(s, ref)
        if case is None:
            raise NotFound(f"no such case: {ref}")
        return case.id

