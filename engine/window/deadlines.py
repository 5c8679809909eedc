"""What a review's timers lead to: 超时默认 (deemed approval) and 催办 (a reminder).

A review task carries an interrupting boundary timer whose path reaches a script task under `rule=deemed`, and a
non-interrupting one whose path reaches a script task under `rule=remind` (see tools/catalogue.py). Both rules are
automatic: they apply once the timer has fired and the script has run, in the action of the timer (the worker's),
and a replay of its `timer_fired` event applies them again.

超时默认 records the level as approved by the system — 默认同意, a decision of the member like any other, so the next
level opens, or at the last level the member is approved and its certificate issued with the automatic seal — and
says so with a `deemed_approved` event. 催办 says `reminder_sent`; the notice itself is written from that event
(engine.supervision.notices).
"""
from __future__ import annotations

from ..model.bpmn import task_meta
from . import ledger as L
from .base import Call, Rule

DEEMED_OPINION = "超时默认同意（承诺时限内未作出决定，视为同意，自动用印）"


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class DeemedRule(Rule):
    """`rule=deemed` with `member`, `level`, `levels`: the review at that level ran out of time."""

    name = "deemed"
    automatic = True

    def apply(self, call: Call) -> dict:
        mid, props = call.member(), call.props
        level, levels = _int(props.get("level"), 1), _int(props.get("levels"), 1)
        rec = L.member(call.ledger, mid)
        if rec.get("decision"):
            return {}
        done = rec.get("levels") or {}
        L.set_member(call.wf, mid, levels=dict(done, **{str(level): {
            "decision": "approve", "opinion": DEEMED_OPINION, "by": "system", "deemed": True}}))
        final = level >= levels
        if final:
            L.set_member(call.wf, mid, decision="approve", opinion=DEEMED_OPINION, source="deemed", level=level,
                         by="system")
        call.emit("deemed_approved", {"member": mid, "level": level, "levels": levels, "final": final,
                                      "element": call.task.task_spec.bpmn_id})
        return {}


class RemindRule(Rule):
    """`rule=remind` with `task` (the reviewed task's id): 催办 its group, or its assignee once claimed."""

    name = "remind"
    automatic = True

    def apply(self, call: Call) -> dict:
        target = str(call.props.get("task") or "")
        spec = call.task.workflow.spec.task_specs
        reminded = next((ts for ts in spec.values() if getattr(ts, "bpmn_id", None) == target), None)
        groups = task_meta(reminded).groups if reminded is not None else []
        call.emit("reminder_sent", {"task": target, "name": (reminded.bpmn_name if reminded is not None else None)
                                    or target, "group": groups[0] if groups else "",
                                    "member": call.props.get("member") or call.member(),
                                    "process_id": call.task.workflow.spec.name})
        return {}
