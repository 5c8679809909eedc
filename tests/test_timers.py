"""Timers: indexed at save, fired by the worker on the service layer's clock (tests move it; nothing sleeps)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from engine.db import Timer
from engine.runtime.timers import fire_due
from tests.conftest import APPLICANT
from tests.helpers import deploy_files, task_named
from tools.bpmngen import Process


class Clock:
    """An injectable clock: `Services(clock=...)` reads it, tests move it."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def move(self, **delta) -> datetime:
        self.at += timedelta(**delta)
        return self.at


def _timer_process(directory, duration='"PT2H"'):
    p = Process("timer_matter", "定时事项", dialect="camunda")
    p.start("start")
    p.user("intake", "受理", group="front_desk")
    p.timer("wait", "公示期", duration)
    p.user("decide", "决定", group="front_desk")
    p.end("end")
    p.chain("start", "intake", "wait", "decide", "end")
    p.write(str(directory / "timer_matter.bpmn"))


def _timers(services, case_id):
    with services.uow() as s:
        return [(t.task_id, t.due_at if t.due_at.tzinfo else t.due_at.replace(tzinfo=timezone.utc))
                for t in s.scalars(select(Timer).where(Timer.case_id == case_id)).all()]


def test_a_timer_is_indexed_then_fired_by_the_worker(services, tmp_path):
    _timer_process(tmp_path)
    deploy_files(services, tmp_path)
    clock = services.clock = Clock(datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc))  # Wednesday 10:00 Beijing
    front = services.actor("front")
    case = services.start_case(front, "timer_matter", APPLICANT, {})
    case = services.complete(front, task_named(case, "intake")["id"], {})
    assert case["tasks"] == []
    [(_, due)] = _timers(services, case["id"])
    assert due == clock.at + timedelta(hours=2)  # counted from the action's time, not the machine's
    assert fire_due(services) == 0  # not due yet by the service layer's clock
    clock.move(hours=2, seconds=1)
    fired = fire_due(services)
    assert fired == 1 and fired.lags == [1.0]
    after = services.get_case(case["id"])
    assert [t["element_id"] for t in after["tasks"]] == ["decide"]
    assert [e["type"] for e in services.events(case["id"])][-1] == "timer_fired"
    assert fire_due(services) == 0  # fired once only
    assert _timers(services, case["id"]) == []


def test_a_timer_of_days_counts_working_days(services, tmp_path):
    _timer_process(tmp_path, "P3D")
    deploy_files(services, tmp_path)
    services.clock = Clock(datetime(2026, 9, 30, 2, 0, tzinfo=timezone.utc))  # the Wednesday before National Day
    front = services.actor("front")
    case = services.start_case(front, "timer_matter", APPLICANT, {})
    services.complete(front, task_named(case, "intake")["id"], {})
    [(_, due)] = _timers(services, case["id"])
    # Oct 1-7 are holidays: the third working day is Saturday Oct 10 (调休), ending 23:59:59 Beijing time
    assert due == datetime(2026, 10, 10, 15, 59, 59, tzinfo=timezone.utc)
