"""正常 / 预警 / 逾期 / 暂停 / 办结: the state of a case's or a task's time limit at a moment.

预警 (warning) begins when less than a configurable share of the time from start to due is left: the setting
ONEWINDOW_WARNING_SHARE (default 0.2, i.e. the last fifth). The share is read once per process.
"""
from __future__ import annotations

import os
from datetime import datetime

from ..clock import as_utc
from ..messages import Message

STATES = ("normal", "warning", "overdue", "paused", "done")
LABELS = {"normal": Message("正常", "on time"), "warning": Message("预警", "warning"),
          "overdue": Message("逾期", "overdue"), "paused": Message("暂停", "paused"), "done": Message("办结", "done")}
ENV = "ONEWINDOW_WARNING_SHARE"


def warning_share() -> float:
    raw = os.environ.get(ENV, "0.2")
    try:
        share = float(raw)
    except ValueError:
        raise ValueError(f"{ENV}={raw!r}: give a share of the time left, between 0 and 1 (e.g. 0.2)") from None
    if not 0 <= share < 1:
        raise ValueError(f"{ENV}={raw!r}: give a share of the time left, between 0 and 1 (e.g. 0.2)")
    return share


def warn_at(start: datetime | None, due: datetime | None, share: float | None = None) -> datetime | None:
    """When the warning begins: `share` of the time from start to due is left."""
    if start is None or due is None:
        return None
    share = warning_share() if share is None else share
    start, due = as_utc(start), as_utc(due)
    return due - (due - start) * share if due > start else due


def state(now: datetime, due: datetime | None, warn: datetime | None, paused: bool = False,
          done: bool = False) -> str:
    if done:
        return "done"
    if paused:
        return "paused"
    if due is None:
        return "normal"
    now = as_utc(now)
    if now > as_utc(due):
        return "overdue"
    if warn is not None and now >= as_utc(warn):
        return "warning"
    return "normal"


# the order an inbox puts tasks in when sorted by urgency
URGENCY = {"overdue": 0, "warning": 1, "normal": 2, "paused": 3, "done": 4}
