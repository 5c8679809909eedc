"""Acts on a case's time: 特别程序 (hearing, testing, expert review ... which the law keeps out of the time limit) and
督办 (a supervisor presses the departments holding a case).

Each is one transaction through `Services.case_action` and one audit event, replayed by engine.audit.replay with the
functions here: a 特别程序 stops the case's clock and holds its timers (engine.supervision.clocks); ending it gives the
working days it took back to the clock and to every waiting timer (so a 超时默认 does not fire for time the
department could not act).
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from ..clock import as_utc
from ..db import Event
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..messages import Message
from ..runtime import timerclock
from ..runtime.hotsql import hot
from ..runtime.services import find_case
from .access import may_supervise

PROCEDURES = {"hearing": Message("听证", "hearing"), "testing": Message("检验检测", "testing"),
              "expert": Message("专家评审", "expert review"), "appraisal": Message("鉴定", "appraisal"),
              "quarantine": Message("检疫", "quarantine"), "publicity": Message("公示", "public notice"),
              "survey": Message("现场勘验", "site survey")}
STAFF_GROUPS = ("admin", "supervisor")


def open_procedures(events) -> dict[str, datetime]:
    """kind -> start time of the 特别程序 open after these events (each a (type, payload, at) triple)."""
    out: dict[str, datetime] = {}
    for type_, payload, at in events:
        if type_ == "procedure_started":
            out[payload.get("kind")] = at
        elif type_ == "procedure_ended":
            out.pop(payload.get("kind"), None)
    return out


class TimeActs:
    """特别程序 and 督办 on cases of one service layer."""

    def __init__(self, services):
        self.sv = services

    def _may_act(self, actor, tx) -> str:
        """The group an actor does a 特别程序 for: one holding an open task of the case, or admin/supervisor."""
        held = {i.group_name for i in hot(tx.s).query("select_case_items", {"k_case": tx.case.id})}
        mine = sorted(held & set(actor.groups))
        if mine:
            return mine[0]
        staff = [g for g in STAFF_GROUPS if g in actor.groups]
        if staff:
            return staff[0]
        raise Forbidden(Message("只有正在办理该案件的部门（或管理员、督办人员）可以启动或结束特别程序",
                                "only a department holding the case (or an admin or supervisor) may start or end a "
                                "special procedure"))

    @staticmethod
    def _kind(kind) -> str:
        if kind not in PROCEDURES:
            names = "、".join(f"{k}（{v}）" for k, v in PROCEDURES.items())
            raise Invalid(Message(f"未知的特别程序：{kind}", f"unknown special procedure: {kind}"),
                          {"kind": Message(f"应为 {names} 之一", f"one of {', '.join(PROCEDURES)}")})
        return kind

    @staticmethod
    def _text(value, field: str, required: bool = True) -> str:
        text = str(value or "").strip()
        if required and not text:
            raise Invalid(Message("请说明原因", "give a reason"), {field: Message("必填", "required")})
        if len(text) > 1000:
            raise Invalid(Message("说明过长", "too long"), {field: Message("最多 1000 字", "at most 1000 characters")})
        return text

    def start_procedure(self, actor, case_id: int, kind: str, reason: str) -> dict:
        kind, reason = self._kind(kind), self._text(reason, "reason")
        with self.sv.case_action(case_id) as tx:
            group = self._may_act(actor, tx)
            if tx.case.status != "running":
                raise Conflict(Message("案件不在办理中，不能启动特别程序", f"the case is {tx.case.status}"))
            if kind in self._open(tx):
                raise Conflict(Message(f"{PROCEDURES[kind]}已在进行中", f"a {PROCEDURES[kind].en} is already open"))
            tx.append(actor, "procedure_started", {"kind": kind, "name": str(PROCEDURES[kind]), "reason": reason},
                      group=group)
        return self.sv.case_view(case_id)

    def end_procedure(self, actor, case_id: int, kind: str, result: str) -> dict:
        kind, result = self._kind(kind), self._text(result, "result")
        with self.sv.case_action(case_id) as tx:
            group = self._may_act(actor, tx)
            started = self._open(tx).get(kind)
            if started is None:
                raise Conflict(Message(f"没有进行中的{PROCEDURES[kind]}", f"no {PROCEDURES[kind].en} is open"))
            cal = self.sv.calendar.get(tx.s)
            days = cal.workdays_between(as_utc(started), tx.now, [])
            timerclock.shift(tx.wf, days, cal)
            tx.append(actor, "procedure_ended", {"kind": kind, "name": str(PROCEDURES[kind]), "result": result,
                                                 "workdays": days}, group=group)
            tx.save()
        return self.sv.case_view(case_id)

    def _open(self, tx) -> dict[str, datetime]:
        rows = tx.s.execute(select(Event.type, Event.payload, Event.at).where(
            Event.case_id == tx.case.id, Event.type.in_(("procedure_started", "procedure_ended")))
            .order_by(Event.seq)).all()
        return open_procedures([(t, json.loads(p), a) for t, p, a in rows])

    def urge(self, actor, case_ref, text: str) -> dict:
        """督办: a supervisor presses the groups holding a case's open tasks (an event; a notice to each group)."""
        if not may_supervise(actor):
            raise Forbidden(Message("只有督办人员可以督办", "only supervisors may press a case (督办)"))
        text = self._text(text, "text")
        with self.sv.uow() as s:
            case = find_case(s, case_ref)
            if case is None:
                raise NotFound(f"no such case: {case_ref}")
            case_id = case.id
        with self.sv.case_action(case_id) as tx:
            if tx.case.status not in ("running", "suspended"):
                raise Conflict(Message("案件已办结，无需督办", "the case is closed: nothing to press"))
            groups = sorted({i.group_name for i in hot(tx.s).query("select_case_items", {"k_case": tx.case.id})})
            if not groups:
                raise Conflict(Message("案件当前没有待办环节，无法督办", "the case has no open task to press"))
            tx.append(actor, "case_urged", {"text": text, "groups": groups}, group="supervisor")
        return self.sv.case_view(case_id)
