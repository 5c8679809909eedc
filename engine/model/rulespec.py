"""The one-window rules a diagram may declare on a task, as designers write them.

A task names its rule with the extension property `rule` — in Camunda Modeler under "Extension properties"
(`camunda:properties`), in SpiffArena as a task property (`spiffworkflow:properties`) — and gives the rule's
parameters as further properties. The service layer runs the named rule whenever the task is completed, from
any front end; `onewindow check` refuses a rule it does not know, a parameter out of range, and a matter under
the window rules that lacks the tasks its guide calls for. The rules themselves live in engine.window.
"""
from __future__ import annotations

from .bpmn import task_meta

# rule -> (what kind of element carries it, parameters it reads, what it does)
RULES: dict[str, dict] = {
    "intake": {"on": "user task or start event", "params": [],
               "does": "综合受理: materials judged against the guide (一次性告知, 容缺, 告知承诺, 数据共享), or 不予受理"},
    "review": {"on": "user task", "params": ["member", "level", "levels", "may_return"],
               "does": "a department's decision at one level (承办/审核/审批): reject ends the member, approve at the "
                       "last level decides it, 补正 once at level 1, `return` to the level before where allowed; "
                       "one person per level of a member"},
    "correction": {"on": "user task", "params": ["member"], "does": "the answer to a 补正 request"},
    "inspection": {"on": "user task", "params": ["members"],
                   "does": "联合踏勘 finding; a failed one ends the listed members as 不予许可"},
    "on_spot": {"on": "user task", "params": ["member"], "does": "即办件: the front desk decides at once"},
    "auto_decision": {"on": "script task", "params": ["member", "source"],
                      "does": "the script's `decision`/`opinion` decide the member (秒批; source=commitment for 告知承诺)"},
    "supply": {"on": "user task", "params": [], "does": "补齐: every owed (容缺) material must be brought"},
    "post_check": {"on": "user task", "params": [],
                   "does": "事后核查 of a 告知承诺 approval; 'violation' revokes the certificates it won"},
    "pickup": {"on": "user task", "params": [], "does": "出件 at the window or by express; refused while materials are owed"},
    "deemed": {"on": "script task", "params": ["member", "level", "levels"],
               "does": "超时默认: reached from a review's interrupting timer, records 默认同意 at that level (the "
                       "member's approval at the last level; certificates follow with the automatic seal)"},
    "remind": {"on": "script task", "params": ["task", "member"],
               "does": "催办: reached from a review's non-interrupting timer, sends the group (or the assignee) of "
                       "task `task` an in-app reminder"},
}
AUTOMATIC = {"auto_decision", "deemed", "remind"}


def rule_name(task_spec) -> str | None:
    """The rule a task spec declares, or None."""
    return (task_meta(task_spec).properties.get("rule") or "").strip() or None


def param_problems(rule: str, props: dict) -> list[str]:
    """What is wrong with a rule's parameters (empty when nothing)."""
    out = []
    if rule not in RULES:
        return [f"unknown rule '{rule}' (known: {', '.join(sorted(RULES))})"]
    if rule == "review":
        level, levels = props.get("level", "1"), props.get("levels", props.get("level", "1"))
        if not (str(level).isdigit() and str(levels).isdigit() and 1 <= int(level) <= int(levels) <= 3):
            out.append(f"review level {level!r} of {levels!r}: levels are 1 to 3 and level <= levels")
        if str(props.get("may_return", "false")).lower() not in ("true", "false"):
            out.append("may_return must be true or false")
    if rule == "deemed":
        level, levels = props.get("level", "1"), props.get("levels", props.get("level", "1"))
        if not (str(level).isdigit() and str(levels).isdigit() and 1 <= int(level) <= int(levels) <= 3):
            out.append(f"deemed level {level!r} of {levels!r}: levels are 1 to 3 and level <= levels")
    if rule == "remind" and not str(props.get("task") or "").strip():
        out.append("remind needs `task`: the id of the task whose group is reminded")
    if rule == "inspection" and not str(props.get("members") or "").strip():
        out.append("inspection needs `members`: the members a failed inspection ends")
    return out
