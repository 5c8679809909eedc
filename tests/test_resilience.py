"""Resilience: a failing timer is recorded and the worker goes on with the others; the worker outlives the
database going away; the web answers 503 with Retry-After (never 500) while the database cannot be reached; a
committed action is reported from its own transaction."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from engine.audit.verify import verify_ids
from engine.db import TimerFailure
from engine.runtime import timers
from tests.conftest import APPLICANT
from tests.helpers import deploy_files, task_named
from tools.bpmngen import Process
from web import create_app


def _process(directory, pid: str, script: str):
    p = Process(pid, f"定时事项 {pid}", dialect="camunda")
    p.start("start")
    p.user("intake", "受理", group="front_desk")
    p.timer("wait", "公示期", '"PT1S"')
    p.script("after", "公示后处理", script)
    p.user("decide", "决定", group="front_desk")
    p.end("end")
    p.chain("start", "intake", "wait", "after", "decide", "end")
    p.write(str(directory / f"{pid}.bpmn"))


def test_a_failing_timer_is_recorded_and_the_others_go_on(services, tmp_path):
    _process(tmp_path, "timer_bad", "x = no_such_variable + 1")
    _process(tmp_path, "timer_good", "x = 1")
    deploy_files(services, tmp_path)
    front = services.actor("front")
    bad = services.start_case(front, "timer_bad", APPLICANT, {})
    good = services.start_case(front, "timer_good", APPLICANT, {})
    for case in (bad, good):
        services.complete(front, task_named(case, "intake")["id"], {})
    time.sleep(1.2)  # the library's timers read the real clock
    logged = []
    assert timers.fire_due(services, log=logged.append) == 1  # the good one fired; the bad one did not stop it
    assert [t["element_id"] for t in services.get_case(good["id"])["tasks"]] == ["decide"]
    assert "no_such_variable" in logged[0]
    failed = [e for e in services.events(bad["id"]) if e["type"] == "timer_failed"]
    assert len(failed) == 1 and "no_such_variable" in failed[0]["payload"]["reason"]
    [row] = timers.failing(services)
    assert row["case_id"] == bad["id"] and row["failures"] == 1
    assert timers.fire_due(services) == 0  # backing off: not tried again at once
    later = datetime.now(timezone.utc) + timedelta(seconds=timers.BACKOFF[0] + 1)
    assert timers.fire_due(services, now=later) == 0 and timers.failing(services)[0]["failures"] == 2
    assert [f.kind for f in verify_ids(services, [bad["id"], good["id"]])] == ["ok", "ok"]  # timer_failed replays


def test_the_worker_outlives_the_database_going_away(services, monkeypatch):
    calls, logged, slept = [], [], []

    def flaky(services_, log=None):
        calls.append(1)
        if len(calls) <= 2:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        if len(calls) == 3:
            return 2
        raise KeyboardInterrupt  # end of the test's loop

    monkeypatch.setattr(timers, "fire_due", flaky)
    with pytest.raises(KeyboardInterrupt):
        timers.run_worker(services, interval=5, log=logged.append, sleep=slept.append)
    assert len(calls) == 4 and slept == [10.0, 20.0, 5]  # backed off twice, then back to its interval
    assert "database unreachable" in logged[0] and logged[2] == "fired 2 timer(s)"


def test_the_web_answers_503_while_the_database_is_unreachable(services, db_url, monkeypatch):
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "k" * 40})
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "front", "password": "pw"}).json["token"]
    sv = app.extensions["onewindow"]

    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("could not connect to server"))

    monkeypatch.setattr(sv, "inbox", down)
    r = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 503 and r.headers["Retry-After"] == "5" and r.json["error"]["code"] == "unavailable"
    monkeypatch.setattr(sv, "authenticate", down)
    page = client.post("/login", data={"username": "front", "password": "pw"})
    assert page.status_code in (400, 503)  # (no CSRF token here: 400 before any database work)


def _pg_restart_possible() -> bool:
    import os
    import shutil

    from tests.conftest import BACKEND

    return BACKEND == "postgres" and os.geteuid() == 0 and shutil.which("pg_ctlcluster") is not None \
        and os.path.isdir("/etc/postgresql")


@pytest.mark.postgres
@pytest.mark.skipif(not _pg_restart_possible(), reason="needs the PostgreSQL backend and root to restart the server")
def test_a_real_postgresql_restart(services, db_url):
    """While PostgreSQL restarts: no 500 — 503 with Retry-After or a normal answer —, every completion that was
    answered 200 is committed and every other one is not, the worker survives; afterwards all works again."""
    import os
    import subprocess
    import threading

    version = sorted(os.listdir("/etc/postgresql"))[0]
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "k" * 40})
    client = app.test_client()
    h = {"Authorization": "Bearer " + client.post("/api/v1/auth/token",
                                                  json={"username": "market1", "password": "pw"}).json["token"]}
    front = services.actor("front")
    cases = [services.start_case(front, "sample_matter", APPLICANT, {}, intake={"accepted": True}) for _ in range(12)]
    tasks = [task_named(c, "dept_accept") for c in cases]
    restart = threading.Thread(target=subprocess.run, args=(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],), kwargs={"check": True})
    statuses, answered = [], {}
    restart.start()
    worker_log = []
    for t in tasks:
        r = client.post(f"/api/v1/tasks/{t['id']}/complete", headers=h,
                        json={"data": {"decision": "approve", "opinion": "同意"}})
        answered[t["id"]] = r.status_code
        statuses.append(client.get("/api/v1/tasks", headers=h).status_code)
        timers.run_worker(services, once=True, log=worker_log.append)  # never raises
        time.sleep(0.25)
    restart.join(60)
    deadline = time.monotonic() + 30
    while client.get("/api/v1/tasks", headers=h).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert 500 not in statuses and 500 not in answered.values(), (statuses, answered)
    assert set(statuses) | set(answered.values()) <= {200, 409, 503}
    for t in tasks:  # what was reported is what happened
        events = services.events(t["case_id"])
        done = any(e["type"] == "task_completed" and e["task_id"] == t["id"] for e in events)
        assert done == (answered[t["id"]] == 200), (t["id"], answered[t["id"]])
    assert client.get("/api/v1/tasks", headers=h).status_code == 200
