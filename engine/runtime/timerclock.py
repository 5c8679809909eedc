"""Timers on the platform's clock and calendar, not the library's.

SpiffWorkflow computes a timer's due time from `datetime.now()` with calendar days, and fires it when its own
clock passes that time. Both are wrong for a service hall: `P5D` on a review means five WORKING days (超时默认 at
the end of the fifth working day), and time must come from the action's clock so that tests move it and a replay
reproduces it. So, for the duration and date timers:

- the due time is computed when the timer starts waiting, from the time of the action that reached it (set here
  by the service layer and by the replay, `use`), in the working-day calendar (or in calendar days when the timer
  declares `calendar=natural`), and kept in the task as the library keeps it (`event_value`);
- a timer fires only when the platform says so: the worker marks the ones its index finds due
  (engine.runtime.timers), a replay the ones a `timer_fired` event names. The library's wall clock never fires one.

Cycle timers (`R3/PT1H`) keep the library's own behaviour.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from datetime import datetime, timezone

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (DurationTimerEventDefinition, TimeDateEventDefinition,
                                                              TimerEventDefinition)
from SpiffWorkflow.util.task import TaskState

from ..model.bpmn import task_meta
from ..clock import as_utc
from ..model.durations import Duration, DurationError, parse_datetime, parse_duration
from . import livetasks
from .workcal import WorkCalendar, default_calendar

_NOW: contextvars.ContextVar = contextvars.ContextVar("onewindow_timer_now", default=None)


@contextmanager
def use(now: datetime, calendar: WorkCalendar | None = None):
    """Timers reached inside this block start counting at `now`, in `calendar`."""
    token = _NOW.set((now, calendar))
    try:
        yield
    finally:
        _NOW.reset(token)


def enter(now: datetime, calendar: WorkCalendar | None = None):
    """As `use`, for a caller that ends the block itself (`leave`): the service layer's action."""
    return _NOW.set((now, calendar))


def leave(token) -> None:
    try:
        _NOW.reset(token)
    except ValueError:  # ended out of order (another action began inside this one): end them all
        _NOW.set(None)


def _context() -> tuple[datetime, WorkCalendar]:
    found = _NOW.get()
    if found is None:
        return datetime.now(timezone.utc), default_calendar()
    now, cal = found
    return now, cal or default_calendar()


def due_of(value, task_spec, start: datetime, calendar: WorkCalendar) -> datetime:
    """When a duration timer evaluated to `value` runs out, counted from `start`."""
    if isinstance(value, datetime):
        return value
    if hasattr(value, "total_seconds"):  # a FEEL duration (a timedelta): whole days are days as in P3D
        if value.seconds or value.microseconds:
            return start + value
        limit = parse_duration(f"P{value.days}D")
    else:
        limit = parse_duration(str(value))
    natural = (task_meta(task_spec).properties.get("calendar") or "").strip() == "natural"
    return calendar.deadline(start, limit, natural).at


def _duration_has_fired(self, my_task):
    if my_task._get_internal_data("event_value") is None:
        start, calendar = _context()
        value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        try:
            due = due_of(value, my_task.task_spec, start, calendar)
        except DurationError as exc:
            raise ValueError(f"timer {my_task.task_spec.bpmn_id}: {exc}") from None
        my_task._set_internal_data(event_value=due.astimezone(timezone.utc).isoformat())
    return my_task._get_internal_data("event_fired", False)


def _date_has_fired(self, my_task):
    if my_task._get_internal_data("event_value") is None:
        value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        at = value if isinstance(value, datetime) else parse_datetime(str(value))
        if at.tzinfo is None:
            from ..clock import zone

            at = at.replace(tzinfo=zone())
        my_task._set_internal_data(event_value=at.astimezone(timezone.utc).isoformat())
    return my_task._get_internal_data("event_fired", False)


def shift(wf, days: int, cal: WorkCalendar) -> list[str]:
    """Move every waiting duration/date timer `days` working days later (the time a 特别程序 took); the ids moved."""
    moved = []
    if days <= 0:
        return moved
    for task in livetasks.live_tasks(wf):
        ev = getattr(task.task_spec, "event_definition", None)
        if task._state != TaskState.WAITING or not isinstance(ev, TimerEventDefinition):
            continue
        value = task._get_internal_data("event_value")
        if not isinstance(value, str):
            continue  # a cycle timer keeps its own schedule
        due = as_utc(datetime.fromisoformat(value))
        task._set_internal_data(event_value=cal.deadline(due, Duration(days=days)).at.isoformat())
        moved.append(task.task_spec.bpmn_id)
    return moved


DurationTimerEventDefinition.has_fired = _duration_has_fired
TimeDateEventDefinition.has_fired = _date_has_fired
