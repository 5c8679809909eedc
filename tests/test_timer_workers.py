"""Timers on many nodes: three worker processes on one PostgreSQL database fire 1,000 timers, each exactly once."""
from __future__ import annotations

import multiprocessing as mp
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from engine.db import Case, Event, Timer
from tests.conftest import APPLICANT
from tests.helpers import deploy_files
from tools.bpmngen import Process

pytestmark = pytest.mark.postgres

CASES = 1000
START = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
LATER = START + timedelta(hours=2)


def _worker(url: str, queue) -> None:
    """One `onewindow worker` node: its own process, engine and service layer, on the shared clock."""
    from engine.bootstrap import build_services
    from engine.runtime.timers import fire_due

    services = build_services(url)
    services.clock = lambda: LATER
    fired, lags = 0, []
    while True:
        n = fire_due(services, limit=50)
        fired += n.count
        lags += n.lags
        if not n.count:
            break
    queue.put((fired, lags))


def test_three_workers_fire_a_thousand_timers_exactly_once(pg_services, pg_url, tmp_path):
    services = pg_services
    p = Process("wait_matter", "公示", dialect="camunda")
    p.start("start")
    p.timer("wait", "公示期一小时", "PT1H")
    p.end("end")
    p.chain("start", "wait", "end")
    p.write(str(tmp_path / "wait_matter.bpmn"))
    deploy_files(services, tmp_path)
    services.add_user("admin1", "pw", ["admin"])
    admin = services.actor("admin1")
    services.clock = lambda: START
    for _ in range(CASES):
        services.start_case(admin, "wait_matter", APPLICANT, {})
    with services.uow() as s:
        assert s.scalar(select(func.count()).select_from(Timer)) == CASES
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(pg_url, queue)) for _ in range(3)]
    for w in workers:
        w.start()
    results = [queue.get(timeout=600) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    assert sum(f for f, _ in results) == CASES
    lags = [lag for _, found in results for lag in found]
    assert len(lags) == CASES and all(lag == 3600.0 for lag in lags)  # one hour late on the workers' clock
    with services.uow() as s:
        fired = Counter(s.scalars(select(Event.case_id).where(Event.type == "timer_fired")).all())
        assert len(fired) == CASES and set(fired.values()) == {1}  # each timer exactly once
        assert s.scalar(select(func.count()).select_from(Timer)) == 0
        assert set(s.scalars(select(Case.status)).all()) == {"completed"}
    assert sum(1 for f, _ in results if f) >= 2  # the work was shared, not done by one node while others queued
