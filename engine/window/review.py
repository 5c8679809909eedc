"""Decisions on members: department review at each level, joint inspection, the window's on-the-spot decision and
automatic ones (秒批 rules, 告知承诺).

Review levels (承办 → 审核 → 审批, or 一审一核) are tasks with `rule=review`, `level=N` and `levels=M`: a rejection at
any level is final for that member, an approval is final at the last level, `return` (where the task says
`may_return=true`) sends the member back to the level before. One person acts on at most one level of a member
(separation of duties). A member may be returned to the applicant for 补正 once.
"""
from __future__ import annotations

from ..errors import Conflict, Forbidden, Invalid
from ..files.registry import file_refs
from ..messages import Message
from . import ledger as L
from .base import Call, Rule

DECISIONS = {"approve", "reject"}


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _open_member(call: Call, mid: str) -> dict:
    rec = L.member(call.ledger, mid)
    if rec.get("decision"):
        how = "准予" if rec["decision"] == "approve" else "不予许可"
        raise Conflict(f"该事项已有最终决定（{how}），不能再审查 (member {mid} is already decided)")
    return rec


def _decide(call: Call, mid: str, decision: str, opinion: str, source: str, level: int | None = None,
            **extra) -> dict:
    """Record a member's final decision in the ledger and where gateways read it (task data `decisions`)."""
    L.set_member(call.wf, mid, decision=decision, opinion=opinion, source=source, level=level, by=call.actor, **extra)
    return {"decisions": dict(call.task.data.get("decisions") or {}, **{mid: decision})}


class ReviewRule(Rule):
    """`rule=review`: a department's decision on one member at one level."""

    name = "review"

    def apply(self, call: Call) -> dict:
        mid, props = call.member(), call.props
        level, levels = _int(props.get("level"), 1), _int(props.get("levels"), 1)
        rec = _open_member(call, mid)
        decision, opinion = call.data.get("decision"), str(call.data.get("opinion") or "").strip()
        done = rec.get("levels") or {}
        for other, entry in sorted(done.items()):
            if other != str(level) and entry.get("by") == call.actor:
                raise Forbidden(f"职责分离：同一人不得办理同一事项的两个审批层级（您已办理第 {other} 级）"
                                f" (separation of duties: {call.actor} already acted at level {other} of {mid})")
        out = {"decision": decision, "opinion": opinion}
        if decision == "correct":
            if level != 1:
                raise Invalid("补正只能由承办环节退回 (only the first level returns an application for 补正)",
                              {"decision": "只有第一级审查可以退回补正"})
            if rec.get("corrections"):
                raise Invalid("补正只能退回一次，请作出准予或不予的决定 (rule: 补正 at most once per member)",
                              {"decision": "已退回补正过一次，请作出准予或不予的决定"})
            requested = [str(x) for x in call.data.get("corrections") or []]
            L.set_member(call.wf, mid, corrections=[{"requested": requested, "by": call.actor}])
            out["corrections"] = requested
            call.emit("clock_paused", {"reason": "补正", "member": mid})  # the applicant's time is not the limit's
        elif decision == "return":
            if level <= 1 or str(props.get("may_return", "")).lower() != "true":
                raise Invalid("此环节不能退回上一级 (this level cannot return the member to the level before)",
                              {"decision": "此环节不能退回上一级"})
        elif decision not in DECISIONS:
            raise Invalid(f"unknown decision {decision!r}", {"decision": "结论应为准予或不予"})
        L.set_member(call.wf, mid, levels=dict(done, **{str(level): {"decision": decision, "opinion": opinion,
                                                                      "by": call.actor}}))
        if decision == "reject" or (decision == "approve" and level >= levels):
            out.update(_decide(call, mid, decision, opinion, "review", level))
        return out


class CorrectionRule(Rule):
    """`rule=correction`: the applicant's answer to a 补正 request (the review then resumes)."""

    name = "correction"
    takes_files = True

    def apply(self, call: Call) -> dict:
        mid = call.member()
        asks = L.member(call.ledger, mid).get("corrections") or []
        if not asks or "answered" in asks[-1]:
            raise Conflict(f"没有待补正的要求 (no open 补正 request for {mid})")
        supplied = [str(x) for x in call.data.get("supplied") or []]
        if not supplied:
            raise Invalid("请列出补正的材料", {"supplied": "请列出补正的材料"})
        refs = file_refs(call.data.get("files"))
        for key in refs:
            if key not in supplied:
                raise Invalid(Message("文件应对应一项补正的内容", "files go with an item of the answer"),
                              {f"files.{key}": Message("不在已补正的清单中", "not among the items supplied")})
        L.set_member(call.wf, mid, corrections=asks[:-1] + [dict(asks[-1], answered=supplied, by_front=call.actor)])
        call.emit("clock_resumed", {"reason": "补正", "member": mid})
        L.add_files(call.wf, "correction", refs, call.context.get("files") or {}, call.actor, member=mid)
        return {"supplied": supplied, "remark": str(call.data.get("remark") or "")}


class InspectionRule(Rule):
    """`rule=inspection` with `members=a,b`: one department's finding at a joint site inspection (联合踏勘); a
    failed inspection ends those members as 不予许可 with the inspectors' findings."""

    name = "inspection"

    def apply(self, call: Call) -> dict:
        element = call.task.task_spec.bpmn_id
        members = [m.strip() for m in str(call.props.get("members") or "").split(",") if m.strip()]
        passed, findings = bool(call.data.get("passed")), str(call.data.get("findings") or "").strip()
        inspections = dict(call.ledger.get("inspections") or {})
        inspections[element] = {"passed": passed, "findings": findings, "by": call.actor, "members": members}
        L.write(call.wf, inspections=inspections)
        out = {"passed": passed, "findings": findings,
               "inspections": dict(call.task.data.get("inspections") or {}, **{element: passed})}
        if not passed:
            decisions = dict(call.task.data.get("decisions") or {})
            for mid in members:
                rec = L.member(call.ledger, mid)
                opinion = f"联合踏勘未通过（{call.task.task_spec.bpmn_name or element}）：{findings}"
                if rec.get("decision") == "reject" and rec.get("source") == "inspection":
                    opinion = f"{rec['opinion']}；{opinion}"
                elif rec.get("decision"):
                    continue
                L.set_member(call.wf, mid, decision="reject", opinion=opinion, source="inspection", level=None,
                             by=call.actor)
                decisions[mid] = "reject"
            out["decisions"] = decisions
        return out


class OnSpotRule(Rule):
    """`rule=on_spot`: 即办件 — the front desk decides at once."""

    name = "on_spot"

    def apply(self, call: Call) -> dict:
        mid = call.member()
        _open_member(call, mid)
        decision, opinion = call.data.get("decision"), str(call.data.get("opinion") or "").strip()
        if decision not in DECISIONS:
            raise Invalid(f"unknown decision {decision!r}", {"decision": "结论应为准予或不予"})
        return dict({"decision": decision, "opinion": opinion}, **_decide(call, mid, decision, opinion, "on_spot"))


class AutoDecisionRule(Rule):
    """`rule=auto_decision` on a script task that sets `decision` and `opinion` (秒批 by a decision table, or a
    告知承诺 approval with `source=commitment`); applied when the script has run."""

    name = "auto_decision"
    automatic = True

    def apply(self, call: Call) -> dict:
        mid = call.member()
        if L.decided(call.ledger, mid):
            return {}
        decision = call.task.data.get("decision")
        if decision not in DECISIONS:
            return {}
        source = str(call.props.get("source") or "auto")
        L.set_member(call.wf, mid, decision=decision, opinion=str(call.task.data.get("opinion") or ""),
                     source=source, level=None, by="system")
        return {}
