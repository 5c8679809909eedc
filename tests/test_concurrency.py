"""Parallel approval under real concurrency, on PostgreSQL (20 clerks at once)."""
from __future__ import annotations

import threading
from collections import Counter

import pytest

from engine.errors import Conflict
from tests.conftest import APPLICANT
from tests.helpers import task_named

pytestmark = pytest.mark.postgres

GROUPS = ["market", "tax", "social", "fund", "police"]


def _users(services):
    for g in GROUPS:
        for i in range(4):
            services.add_user(f"{g}{i}", "pw", [g])
    services.add_user("front", "pw", ["front_desk"])


def _accepted_bundle(services):
    front = services.actor("front")
    case = services.start_case(front, "sample_bundle", APPLICANT, {})
    return services.complete(front, task_named(case, "intake")["id"], {"accepted": True})


def _run_at_once(jobs):
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(i, fn):
        barrier.wait()
        try:
            results[i] = ("ok", fn())
        except Exception as exc:  # noqa: BLE001 - recorded and asserted on
            results[i] = (type(exc).__name__, exc)

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_twenty_clerks_on_four_bundles_all_succeed_and_each_join_fires_once(pg_services):
    services = pg_services
    _users(services)
    cases = [_accepted_bundle(services) for _ in range(4)]
    jobs = []
    for n, case in enumerate(cases):
        for task in case["tasks"]:
            actor = services.actor(f"{task['group']}{n}")
            jobs.append(lambda a=actor, t=task: services.complete(a, t["id"], {"decision": "approve", "opinion": a.username}))
    assert len(jobs) == 20
    results = _run_at_once(jobs)
    assert [r[0] for r in results] == ["ok"] * 20, [r for r in results if r[0] != "ok"]
    for case in cases:
        final = services.get_case(case["id"])
        assert [t["element_id"] for t in final["tasks"]] == ["pickup"]  # the join fired exactly once
        events = services.events(case["id"])
        done = [e for e in events if e["type"] == "task_completed"]
        assert len(done) == 6  # intake + five reviews, none lost
        assert len({e["task_id"] for e in done}) == 6
        reviews = services.case_data(case["id"])["results"]
        assert sorted(k for k in reviews if k.startswith("review_")) == sorted(f"review_{g}" for g in GROUPS)


def test_completing_the_same_task_twice_at_once_gives_one_success_and_one_conflict(pg_services):
    services = pg_services
    _users(services)
    case = _accepted_bundle(services)
    task = next(t for t in case["tasks"] if t["group"] == "market")
    a, b = services.actor("market0"), services.actor("market1")
    results = _run_at_once([
        lambda: services.complete(a, task["id"], {"decision": "approve", "opinion": "a"}),
        lambda: services.complete(b, task["id"], {"decision": "reject", "opinion": "b"}),
    ])
    assert Counter(r[0] for r in results) == Counter({"ok": 1, "Conflict": 1})
    assert isinstance(next(r[1] for r in results if r[0] != "ok"), Conflict)
    events = [e for e in services.events(case["id"]) if e["type"] == "task_completed" and e["task_id"] == task["id"]]
    assert len(events) == 1
