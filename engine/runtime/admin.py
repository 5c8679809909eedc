"""Administrative acts on a case: reassign a task, suspend and resume, correct data, migrate to another version.

Each act is one transaction through `Services.case_action` and writes one audit event. What an act does to the
workflow is in engine.runtime.acts, shared with the replay, so `onewindow audit verify` passes on cases that had
them. Moving many cases of a process at once (in batches, resumable, undoable) is engine.runtime.migration, built
on `migration_problems` and `move_case` here.
"""
from __future__ import annotations

from uuid import UUID

from sqlalchemy import select, update

from . import livetasks
from .acts import Unsafe, correct_data, migrate, next_status, open_tasks
from .livetasks import task_path
from .services import find_case
from .filled import form_problems
from ..db import ProcessVersion, WorkItem
from ..errors import Conflict, Forbidden, Invalid, NotFound, WorkflowFailed

__all__ = ["Admin", "Unsafe", "case_ref", "migration_problems", "move_case", "next_status", "open_tasks"]

ADMIN_GROUPS = ("admin", "supervisor")

# ---------------------------------------------------------------- the acts
def require_admin(actor) -> None:
    if not set(ADMIN_GROUPS) & set(actor.groups):
        raise Forbidden("只有管理员或督办人员可以执行管理操作 (only admins and supervisors may do administrative acts)")


def authorise(actor, reason) -> str:
    """The trimmed reason, once the actor may do administrative acts (Forbidden) and gave one (Invalid)."""
    require_admin(actor)
    reason = str(reason or "").strip()
    if not reason:
        raise Invalid("a reason is required", {"reason": "必填：请说明原因 (required: give a reason)"})
    return reason

def acting_group(actor) -> str:
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
        reason = authorise(actor, reason)
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
                group=acting_group(actor), task_id=task_id, element_id=item.element_id)
        return tx.result

    def suspend(self, actor, case_id: int, reason: str = "") -> dict:
        return self._status(actor, case_id, reason, "case_suspended")

    def resume(self, actor, case_id: int, reason: str = "") -> dict:
        return self._status(actor, case_id, reason, "case_resumed")

    def _status(self, actor, case_id: int, reason: str, type_: str) -> dict:
        reason = authorise(actor, reason)
        with self.sv.case_action(case_id) as tx:
            after = next_status(tx.case.status, type_)
            if after is None:
                zh, en = ("挂起", "suspend") if type_ == "case_suspended" else ("恢复", "resume")
                raise Conflict(f"案件当前状态为 {tx.case.status}，不能{zh} (case is {tx.case.status}: cannot {en} it)")
            tx.append(actor, type_, {"reason": reason, "from": tx.case.status, "to": after}, group=acting_group(actor))
            tx.case.status, tx.case.updated_at = after, tx.now
        return tx.result

    def correct_data(self, actor, case_id: int, changes: dict, reason: str = "") -> dict:
        """Correct case data (dotted keys, e.g. `applicant.name`) on every open task of the case."""
        reason = authorise(actor, reason)
        if not isinstance(changes, dict) or not changes or not all(isinstance(k, str) and k.strip(".") for k in changes):
            raise Invalid("changes must map data keys to values", {"changes": "请给出要更正的字段 (give key=value)"})
        with self.sv.case_action(case_id) as tx:
            _not_closed(tx.case)
            if not open_tasks(tx.wf):
                raise Conflict("案件没有待办环节，无法更正 (the case has no open task to correct)")
            done = correct_data(tx.wf, changes)
            tx.append(actor, "data_corrected", {"changes": done, "reason": reason}, group=acting_group(actor))
            tx.save()
        return tx.result

    def migrate_version(self, actor, case_id: int, to_version_id: int, reason: str = "", *,
                        allow_older: bool = False, run: int | None = None) -> dict:
        """Move a running case onto a newer deployed version of its process (an older one only with `allow_older`:
        moving a case back). `run` names the batch migration (engine.runtime.migration) the move belongs to."""
        reason = authorise(actor, reason)
        with self.sv.case_action(case_id) as tx:
            new = tx.s.get(ProcessVersion, int(to_version_id))
            if new is None:
                raise NotFound(f"no such process version: {to_version_id}")
            move_case(self.sv, tx, actor, new, reason, allow_older=allow_older, run=run)
        return tx.result


# ---------------------------------------------------------------- migration, shared with engine.runtime.migration
def migration_problems(services, tx, new: ProcessVersion, allow_older: bool = False) -> list[tuple[str, str]]:
    """Why the case of `tx` cannot move to version `new`, as (element id, why); [] when it can. On [] the loaded
    workflow has been moved and stepped (save it, or dispose of the transaction to leave the case as it was)."""
    case = tx.case
    if case.status != "running":
        return [("-", f"只能迁移办理中的案件 (only running cases can be migrated; this one is {case.status})")]
    if new.process_id != case.process_id:
        return [("-", f"版本 {new.id} 属于 {new.process_id}，不是本事项 (version {new.id} is a version of "
                      f"{new.process_id}, not of {case.process_id})")]
    if new.id == case.version_id:
        return [("-", f"案件已在版本 {new.id} (the case is on version {new.id} already)")]
    if new.id < case.version_id and not allow_older:
        return [("-", f"版本 {new.id} 不是本事项的新版本 (version {new.id} is not a newer version of "
                      f"{case.process_id}; the case is on version {case.version_id}; moving it back must be asked "
                      "for explicitly)")]
    old = services.version(tx.s, case.version_id)
    problems = form_problems(services, tx.s, case.id, old, new)
    try:
        migrate(tx.wf, services.spec_bundle(tx.s, new))
    except Unsafe as exc:
        return exc.problems + problems
    if problems:
        return problems
    try:
        services._step(tx.wf)
    except WorkflowFailed as exc:
        return [(exc.details.get("element") or "-", f"the new version cannot continue from here: {exc.message}")]
    return []


def move_case(services, tx, actor, new: ProcessVersion, reason: str, *, allow_older: bool = False,
              run: int | None = None) -> None:
    """Move the case of an open case transaction to version `new` and record `version_migrated` (raises Conflict,
    naming the elements, when it is not safe; nothing is saved then)."""
    problems = migration_problems(services, tx, new, allow_older)
    if problems:
        raise Conflict(f"该案件不能安全迁移到版本 {new.id} (the case cannot be migrated safely): "
                       + "; ".join(f"{e}: {why}" for e, why in problems),
                       elements=[e for e, _ in problems if e != "-"])
    old = tx.case.version_id
    tx.case.version_id, tx.version = new.id, services.version(tx.s, new.id)
    payload = {"from_version_id": old, "to_version_id": new.id, "reason": reason}
    if run is not None:
        payload["run"] = run
    tx.append(actor, "version_migrated", payload, group=acting_group(actor))
    tx.save()
    _rename_open_items(tx)


def _rename_open_items(tx) -> None:
    """Open work items show their element's name in the version the case is on now (after the save re-indexed
    them; plain statements, so the ORM never holds a row the index may have deleted)."""
    ready = livetasks.ready_user_tasks(tx.wf)
    rows = tx.s.execute(select(WorkItem.id, WorkItem.name).where(WorkItem.case_id == tx.case.id)).all()
    for item_id, name in rows:
        task = ready.get(item_id)
        new = (task.task_spec.bpmn_name or task.task_spec.bpmn_id) if task is not None else None
        if new and new != name:
            tx.s.execute(update(WorkItem).where(WorkItem.id == item_id).values(name=new))


def case_ref(services, ref) -> int:
    """A case id from an id or a case number."""
    with services.uow() as s:
        case = find_case(s, ref)
        if case is None:
            raise NotFound(f"no such case: {ref}")
        return case.id

