"""首接负责 and 转办: the hall that accepted a case owns it until it is handed on, and every hand-over is tracked.

A mis-routed case is transferred to another competent authority (hall + department) with a reason: its open
department tasks move to that hall's inbox (unclaimed), and the new authority must acknowledge the hand-over within
ACK_DAYS working days — until it does, the case shows the transfer, overdue once that time has passed. Both acts are
audited events (`case_transferred`, `transfer_acknowledged`) that the replay checks in order: a transfer must start
from the authority the case had, an acknowledgement must come from the hall it was handed to.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

from sqlalchemy import select, update

from ..clock import iso_utc
from ..db import Case, Event, Hall, HallDepartment, WorkItem
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..messages import Message
from . import access
from .workcal import deadline_from

ACK_DAYS = 1  # working days the receiving authority has to acknowledge a hand-over


class Transfers:
    def __init__(self, services):
        self.sv = services

    def transfer(self, actor, case_id: int, to: str, reason: str, department: str | None = None) -> dict:
        """Hand a case (its open department tasks) to the authority at hall `to`; the case view after it."""
        if not str(reason or "").strip():
            raise Invalid(Message("转办须说明理由", "a transfer needs a reason"), {"reason": Message("必填", "required")})
        with self.sv.case_action(case_id) as tx:
            case = tx.case
            access.check_read(tx.s, actor, case)
            if case.authority_hall is None:
                raise Invalid(Message("该案件不属于任何大厅，无法转办", "the case has no hall: nothing to transfer"))
            self._check_may_hand_over(actor, case)
            if case.status == "completed":
                raise Conflict("办结的案件不能转办 (a completed case cannot be transferred)")
            target = tx.s.get(Hall, to)
            if target is None:
                raise Invalid(Message(f"大厅 {to} 不存在", f"no such hall: {to}"), {"to": Message("大厅不存在", "no such hall")})
            dept = department or case.authority_group
            present = set(tx.s.scalars(select(HallDepartment.group_name).where(HallDepartment.hall == to)).all())
            if present and dept and dept not in present:
                raise Invalid(Message(f"{target.name}没有部门 {dept}", f"{to} has no department {dept}"),
                              {"department": Message("目标大厅无此部门", "not at that hall")})
            if to == case.authority_hall and dept == case.authority_group:
                raise Conflict("已由该主管部门办理 (the case is already with that authority)")
            found = deadline_from(f"P{ACK_DAYS}D", tx.now, self.sv.calendar.get(tx.s))
            due = found.at if found is not None else None
            before = {"hall": case.authority_hall, "department": case.authority_group}
            after = {"hall": to, "department": dept}
            moved = tx.s.execute(update(WorkItem).where(  # the authority's own tasks (not those forwarded higher)
                WorkItem.case_id == case.id, WorkItem.hall == case.authority_hall,
                WorkItem.group_name.not_in(sorted(access.WINDOW_SIDE)))
                .values(hall=to, assignee=None, status="ready")).rowcount
            tx.s.execute(update(Case).where(Case.id == case.id).values(
                authority_hall=to, authority_group=dept, transfer_due=due))
            case.authority_hall, case.authority_group, case.transfer_due = to, dept, due
            tx.append(actor, "case_transferred", {"from": before, "to": after, "reason": reason.strip(),
                                                  "acknowledge_by": iso_utc(due), "tasks": moved})
        return tx.result

    def acknowledge(self, actor, case_id: int) -> dict:
        """The receiving authority takes the case on (签收转办)."""
        with self.sv.case_action(case_id) as tx:
            case = tx.case
            access.check_read(tx.s, actor, case)
            if case.transfer_due is None:
                raise Conflict("没有待签收的转办 (no transfer waits for acknowledgement)")
            if not (access.is_system(actor) or actor.is_admin or actor.hall == case.authority_hall):
                raise Forbidden("只有接收转办的大厅可以签收 (only the receiving hall acknowledges)")
            tx.s.execute(update(Case).where(Case.id == case.id).values(transfer_due=None))
            late = tx.now > _aware(case.transfer_due)
            case.transfer_due = None
            tx.append(actor, "transfer_acknowledged", {"hall": case.authority_hall, "late": late})
        return tx.result

    @staticmethod
    def _check_may_hand_over(actor, case) -> None:
        """The accepting hall (首接负责), the deciding authority's hall, or an overseer of it."""
        if access.is_system(actor) or actor.hall is None:
            return
        if actor.hall in (case.hall, case.authority_hall):
            return
        if actor.groups & access.OVERSEERS and access.in_halls(actor, case.authority_hall):
            return
        raise Forbidden("只有受理大厅、主管大厅或其上级可以转办 (only the accepting or deciding hall transfers)")

    def options(self, actor, case: dict) -> dict:
        """What the case page offers this actor (a case view): the halls it may hand the case to — those of the
        deciding authority's level — and whether it may acknowledge a hand-over waiting there."""
        out = {"targets": [], "may_acknowledge": False}
        authority = case.get("authority")
        if not authority or case.get("status") == "completed":
            return out
        place = SimpleNamespace(hall=case.get("hall"), authority_hall=authority["hall"])
        try:
            self._check_may_hand_over(actor, place)
        except Forbidden:
            pass
        else:
            with self.sv.read() as s:
                here = s.get(Hall, authority["hall"])
                rows = s.scalars(select(Hall).where(Hall.level == here.level, Hall.code != here.code)
                                 .order_by(Hall.code)).all() if here is not None else []
                out["targets"] = [{"code": h.code, "name": h.name} for h in rows]
        if case.get("transfer") is not None:
            out["may_acknowledge"] = access.is_system(actor) or actor.is_admin or actor.hall == authority["hall"]
        return out

    def pending(self, actor, now) -> list[dict]:
        """Transfers not yet acknowledged, in the halls the actor sees, the overdue first."""
        with self.sv.read() as s:
            stmt = select(Case).where(Case.transfer_due.is_not(None)).order_by(Case.transfer_due)
            halls = getattr(actor, "halls", None)
            if halls is not None:
                stmt = stmt.where((Case.authority_hall.in_(sorted(halls))) | (Case.hall.in_(sorted(halls))))
            out = []
            for case in s.scalars(stmt.limit(500)).all():
                info = transfer_state(s, case, now)
                if info is not None:
                    out.append(dict(info, case_id=case.id, number=case.number))
            return out


def transfer_state(s, case, now) -> dict | None:
    """The hand-over a case waits to have acknowledged: from, to, reason, due and whether it is overdue."""
    due = getattr(case, "transfer_due", None)
    if due is None:
        return None
    payload = s.scalar(select(Event.payload).where(Event.case_id == case.id, Event.type == "case_transferred")
                       .order_by(Event.seq.desc()).limit(1))
    ev = json.loads(payload or "{}")
    return {"from": ev.get("from"), "to": ev.get("to"), "reason": ev.get("reason", ""), "due": iso_utc(due),
            "overdue": _aware(due) < now}


def _aware(dt):
    from datetime import timezone

    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
