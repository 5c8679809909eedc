"""Administrative acts on a case: reassign a task, suspend and resume, correct data, migrate to a newer version.

Each act is one transaction through `Services.case_action` and writes one audit event. What an act does to the
workflow is in engine.runtime.acts, shared with the replay, so `onewindow audit verify` passes on cases that had
them.
"""
from __future__ import annotations

from uuid import UUID

from .acts import Unsafe, correct_data, migrate, next_status, open_tasks
from .livetasks import task_path
from .services import find_case
from ..db import ProcessVersion, WorkItem
from ..errors import Conflict, Forbidden, Invalid, NotFound

ADMIN_GROUPS = ("admin", "supervisor")

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

