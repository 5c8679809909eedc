"""`onewindow check` for time limits: every `dueDate` and every literal timer is read completely, or refused.

A task's `dueDate` (Camunda attribute or SpiffArena property) must be an ISO 8601 duration or date-time; a timer
written as a literal (`P5D`, `"PT48H"`, `2026-12-01T09:00:00`) must be one too — an expression (`=duration(...)`,
`${days}`) is evaluated when the case runs. A `calendar` property must be `workdays` or `natural`.
"""
from __future__ import annotations

import re

from .bpmn import NS, read_task_meta
from .durations import DurationError, calendar_problem, parse_datetime, parse_duration, parse_limit, unquote

_LITERAL_DURATION = re.compile(r"^[+-]?[Pp][0-9A-Za-z.,]*$")
_LITERAL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
TASKS = ("userTask", "manualTask", "task")


def problems(tree, where) -> list:
    out = []
    root = tree.getroot()
    for kind in TASKS:
        for el in root.iter(f"{{{NS['bpmn']}}}{kind}"):
            meta = read_task_meta(el, None, {})
            if meta.due:
                try:
                    parse_limit(meta.due)
                except DurationError as exc:
                    out.append(where.problem(el, f"dueDate: {exc}"))
            msg = calendar_problem(meta.properties.get("calendar"))
            if msg:
                out.append(where.problem(el, msg))
    for timer in root.iter(f"{{{NS['bpmn']}}}timerEventDefinition"):
        event = timer.getparent()
        for child in timer:
            if not isinstance(child.tag, str):
                continue
            tag, text = child.tag.rsplit("}", 1)[-1], unquote(child.text or "")
            try:
                if tag == "timeDuration" and _LITERAL_DURATION.match(text):
                    parse_duration(text)
                elif tag == "timeDate" and _LITERAL_DATE.match(text):
                    parse_datetime(text)
            except DurationError as exc:
                out.append(where.problem(event, f"timer {tag}: {exc}"))
        msg = calendar_problem(read_task_meta(event, None, {}).properties.get("calendar"))
        if msg:
            out.append(where.problem(event, msg))
    return out
