"""Timers: indexed at save, fired by the worker, each firing audited."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from engine.db import Timer
from engine.runtime.timers import fire_due
from tests.conftest import APPLICANT
from tests.helpers import deploy_files, task_named
from tools.bpmngen import Process


def _timer_process(directory):
    p = Process("timer_matter", "定时事项", dialect="camunda")
    p.start("start")
    p.user("intake", "受理", group="front_desk")
    p.timer("wait", "公示期", '"PT1S"')
    p.user("decide", "决定", group="front_desk")
    p.end("end")
    p.chain("start", "intake", "wait", "decide", "end")
    p.write(str(directory / "timer_matter.bpmn"))


def test_a_timer_is_indexed_then_fired_by_the_worker(services, tmp_path):
    _timer_process(tmp_path)
    deploy_files(services, tmp_path)
    front = services.actor("front")
    case = services.start_case(front, "timer_matter", APPLICANT, {})
    case = services.complete(front, task_named(case, "intake")["id"], {})
    assert case["tasks"] == []
    with services.uow() as s:
        timers = s.scalars(select(Timer).where(Timer.case_id == case["id"])).all()
        assert len(timers) == 1
        due = timers[0].due_at if timers[0].due_at.tzinfo else timers[0].due_at.replace(tzinfo=timezone.utc)
    assert datetime.now(timezone.utc) - timedelta(seconds=5) < due < datetime.now(timezone.utc) + timedelta(seconds=5)
    assert fire_due(services, now=datetime.now(timezone.utc) - timedelta(seconds=10)) == 0  # not due yet
    time.sleep(max(0.0, (due - datetime.now(timezone.utc)).total_seconds()) + 0.2)
    assert fire_due(services) == 1
    after = services.get_case(case["id"])
    assert [t["element_id"] for t in after["tasks"]] == ["decide"]
    assert [e["type"] for e in services.events(case["id"])][-1] == "timer_fired"
    assert fire_due(services) == 0  # fired once only
    with services.uow() as s:
        assert s.scalars(select(Timer).where(Timer.case_id == case["id"])).all() == []
