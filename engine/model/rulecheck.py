"""`onewindow check` for the one-window rules a diagram declares (see engine.model.rulespec).

Two kinds of problem: a task's own declaration (an unknown rule, a rule on the wrong kind of element, a parameter
out of range), reported at the task; and a matter under the window rules — one whose service guide lists
materials or a certificate — that lacks a task its guide calls for (an intake, a 补齐 task when a material may be
deferred, a post-approval check when a commitment may replace a proof, a pickup, a deciding task for every
member, every review level), reported at the process. Every user task of such a matter, in the process and in
the processes it calls, must follow a rule: the service layer completes tasks only through their rules.
"""
from __future__ import annotations

from .bpmn import task_meta
from .guide import LEVELS
from .rulespec import RULES, param_problems, rule_name

KINDS = {"intake": {"UserTask", "StartEvent"}, "auto_decision": {"ScriptTask"}, "deemed": {"ScriptTask"},
         "remind": {"ScriptTask"}}


def _kind(ts) -> str:
    return type(ts).__name__


def task_problems(task_specs) -> list[tuple[str, str]]:
    """(element id, message) for each task whose rule declaration is wrong."""
    out = []
    for ts in task_specs:
        element = getattr(ts, "bpmn_id", None)
        hall_level = task_meta(ts).properties.get("hall_level") if getattr(ts, "manual", False) else None
        if hall_level is not None and hall_level not in LEVELS:  # 转报: the level of hall that does this step
            out.append((element, f"hall_level '{hall_level}' is not one of {', '.join(LEVELS)}"))
        name = rule_name(ts)
        if name is None:
            continue
        for msg in param_problems(name, task_meta(ts).properties):
            out.append((element, f"rule: {msg}"))
        if name in RULES and _kind(ts) not in KINDS.get(name, {"UserTask"}):
            allowed = " or ".join(sorted(KINDS.get(name, {"UserTask"})))
            out.append((element, f"rule '{name}' belongs on a {allowed}, not on a {_kind(ts)}"))
    return out


def uses_window_rules(guide: dict) -> bool:
    """A matter or bundle whose cases the window rules govern: its guide lists materials or a certificate."""
    if not guide or guide.get("derived") or guide.get("kind") == "internal":
        return False
    return bool(guide.get("materials") or guide.get("certificate") or guide.get("members"))


def matter_problems(process_id: str, spec, subs: dict, guide: dict) -> list[str]:
    """What a matter under the window rules lacks, one message each (empty when nothing)."""
    if not uses_window_rules(guide):
        return []
    top = list(spec.task_specs.values())
    every = top + [ts for sub in subs.values() if sub is not None for ts in sub.task_specs.values()]
    declared = [(rule_name(ts), ts) for ts in every]
    in_top = {rule_name(ts) for ts in top}
    out = [f"user task {ts.bpmn_id} ({ts.bpmn_name or ts.bpmn_id}) follows no rule; "
           "under the window rules every user task declares one (property `rule`)"
           for name, ts in declared if name is None and getattr(ts, "manual", False)]
    materials = [m for m in guide.get("materials") or [] if isinstance(m, dict)]
    if "intake" not in in_top:
        out.append("no intake task (`rule=intake` on the front desk's task or on the start event)")
    if any(m.get("deferrable") for m in materials) and "supply" not in in_top:
        out.append("a material may be deferred (容缺) but no task has `rule=supply` to bring it")
    if guide.get("type") != "一件事" and any(m.get("commitment_allowed") for m in materials) \
            and "post_check" not in in_top:
        out.append("a commitment (告知承诺) may replace a proof but no task has `rule=post_check`")
    if guide.get("handling") == "承诺件" and "pickup" not in in_top:
        out.append("a 承诺件 hands out its result, but no task has `rule=pickup`")
    members = guide.get("members") or [process_id[2:] if process_id.startswith("m_") else process_id]
    deciding: dict[str, set[int]] = {}
    finals: set[str] = set()
    for name, ts in declared:
        props = task_meta(ts).properties
        mid = props.get("member") or (members[0] if len(members) == 1 else None)
        if name == "review" and mid:
            level, levels = int(props.get("level") or 1), int(props.get("levels") or props.get("level") or 1)
            deciding.setdefault(mid, set()).add(level)
            if level == levels:
                finals.add(mid)
        elif name in ("on_spot", "auto_decision") and mid:
            finals.add(mid)
    for mid in members:
        if mid not in finals:
            out.append(f"member {mid}: no task decides it (a final `rule=review` level, `on_spot` or `auto_decision` "
                       f"with member={mid})")
    for name, ts in declared:
        props = task_meta(ts).properties
        if name == "review" and props.get("member") in deciding:
            levels = int(props.get("levels") or props.get("level") or 1)
            missing = sorted(set(range(1, levels + 1)) - deciding[props["member"]])
            if missing:
                out.append(f"member {props['member']}: review levels {missing} of {levels} have no task")
                deciding[props["member"]] |= set(missing)  # say it once
    return out
