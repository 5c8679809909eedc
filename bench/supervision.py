"""Supervision at scale, on PostgreSQL: `GET /api/v1/stats` over 200,000 cases, and timers fired by several workers.

The 200,000 cases are generated quickly but honestly: a few dozen template cases are run through the service layer
(every matter and bundle of the catalogue done, left open at review, refused, paused for 补正, approved on a
告知承诺, deemed approved by a timer), then their rows — the ones the service layer wrote to `cases`,
`case_clocks`, `task_clocks` and `work_items`, which are what supervision reads — are copied with new ids, task ids
and case numbers, every time of a copy shifted by whole weeks (so weekdays stay weekdays) over 26 weeks. Events and
workflow rows are not copied: no supervision figure reads them.

Needs a PostgreSQL server (ONEWINDOW_BENCH_PG, default the test server postgres@127.0.0.1); a throw-away database is
created and dropped.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time
import uuid
from datetime import datetime, timedelta, timezone

from . import flows

PG_ADMIN = os.environ.get("ONEWINDOW_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
STATS_CASES = int(os.environ.get("BENCH_STATS_CASES", "200000"))
TIMER_CASES = int(os.environ.get("BENCH_TIMER_CASES", "2000"))
STATS_ROUNDS = int(os.environ.get("BENCH_STATS_ROUNDS", "20"))
T0 = datetime(2026, 5, 25, 1, 0, tzinfo=timezone.utc)  # a Monday, 09:00 in Beijing
WEEKS = 26
NOW = T0 + timedelta(weeks=WEEKS, days=2)  # the dashboard's clock: the Wednesday after the last copied week


class Clock:
    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at


def reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=2):
            return True
    except Exception:  # noqa: BLE001
        return False


def create_db() -> str:
    import psycopg

    name = f"ow_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    from engine.migrate import upgrade

    upgrade(url)
    return url


def drop_db(url: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def services_on(url: str):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from engine.db import make_engine, make_session_factory
    from engine.model.catalogue import check
    from engine.model.deploy import deploy
    from engine.runtime.services import Services
    from engine.supervision.clocks import install as install_limits
    from engine.window.rules import install

    sv = Services(make_session_factory(make_engine(url)))
    install(sv, Ed25519PrivateKey.generate())
    install_limits(sv)
    with sv.uow() as s:
        deploy(s, check())
    return sv


# ---------------------------------------------------------------- the templates, through the service layer
def templates(sv, clock) -> None:
    """Cases of every kind the dashboard shows, made by the service layer on a moving clock."""
    from engine.runtime.services import Actor
    from engine.runtime.timers import fire_due

    recipes = flows.catalogue_recipes()
    front = Actor("bench_front", frozenset({"front_desk"}))

    def worker(group):
        return Actor(f"bench_{group}", frozenset({group}))

    def apply(recipe, materials=None):
        return sv.start_case(front, recipe["process_id"], recipe["applicant"], recipe["data"],
                             intake={"accepted": True, "materials": materials or recipe["materials"]})

    def walk(view, hours=3, stop=None):
        for _ in range(80):
            if not view["tasks"] or (stop and stop(view)):
                return view
            clock.at += timedelta(hours=hours)
            item = view["tasks"][0]
            view = sv.complete(worker(item["group"]), item["id"], flows.step_data(item, {"reject": set(),
                                                                                       "materials": {}}))
        return view

    for recipe in recipes:  # done, at a pace of three hours a step (some late, most on time)
        clock.at = T0
        walk(apply(recipe))
    for recipe in recipes[::2]:  # left where the department has it: open, overdue or in warning by the week
        clock.at = T0 + timedelta(days=2)
        apply(recipe)
    by_id = {r["process_id"]: r for r in recipes}
    clock.at = T0
    refused = by_id["m_signboard"]
    sv.start_case(front, refused["process_id"], refused["applicant"], refused["data"],
                  intake={"accepted": False, "reason": "不属于本中心受理范围"})
    corr = apply(refused)  # 补正: the clock stops
    item = corr["tasks"][0]
    sv.complete(worker(item["group"]), item["id"], {"decision": "correct", "opinion": "补正",
                                                    "corrections": ["效果图"]})
    food = by_id["m_food_permit"]
    view = apply(food, dict(food["materials"], layout="commitment", safety_rules="commitment"))
    walk(view)
    deferred = dict(food["materials"], lease="deferred")
    walk(apply(food, deferred))
    water = by_id["m_water_transfer"]
    apply(water)
    clock.at = T0 + timedelta(days=3)
    fire_due(sv)  # deemed approvals and reminders


# ---------------------------------------------------------------- the copies
COPIED = {"cases": "id", "case_clocks": "case_id", "task_clocks": "task_id", "work_items": "id"}
TIMES = {"cases": ("created_at", "updated_at", "closed_at"),
         "case_clocks": ("created_at", "accepted_at", "due_at", "statutory_due_at", "warn_at", "paused_since",
                         "closed_at"),
         "task_clocks": ("created_at", "due_at", "warn_at", "closed_at"), "work_items": ("created_at", "due_at")}


def generate(url: str, n: int) -> float:
    """Copy the template cases until the database holds `n` cases; returns the seconds it took."""
    import psycopg

    t0 = time.perf_counter()
    with psycopg.connect(url) as conn:
        tables = {}
        for table in COPIED:
            cur = conn.execute(f"SELECT * FROM {table}")
            cols = [d.name for d in cur.description]
            tables[table] = (cols, cur.fetchall())
        case_cols, cases = tables["cases"]
        base = conn.execute("SELECT max(id) FROM cases").fetchone()[0]
        by_case = {t: {} for t in ("case_clocks", "task_clocks", "work_items")}
        for t in by_case:
            cols, rows = tables[t]
            ci = cols.index("case_id")
            for r in rows:
                by_case[t].setdefault(r[ci], []).append(r)
        copies = n - len(cases)
        with conn.cursor() as cur:
            buffers = {t: [] for t in COPIED}
            for i in range(copies):
                tpl = cases[i % len(cases)]
                week = (i // len(cases)) % WEEKS
                shift = timedelta(weeks=week, minutes=(i // (len(cases) * WEEKS)) % 360)
                new_id = base + 1 + i
                old_id = tpl[case_cols.index("id")]
                buffers["cases"].append(_copy(case_cols, tpl, "cases", shift, new_id=new_id, case_id=None,
                                              number=f"OB{new_id:09d}"))
                ids = {}
                for t in ("case_clocks", "task_clocks", "work_items"):
                    cols = tables[t][0]
                    for r in by_case[t].get(old_id, []):
                        extra = {"case_id": new_id}
                        if t in ("task_clocks", "work_items"):
                            key = "task_id" if t == "task_clocks" else "id"
                            old_task = r[cols.index(key)]
                            extra[key] = ids.setdefault(old_task, str(uuid.uuid4()))
                        buffers[t].append(_copy(cols, r, t, shift, **extra))
                if len(buffers["cases"]) >= 20000 or i == copies - 1:
                    for t in ("cases", "case_clocks", "task_clocks", "work_items"):
                        cols = tables[t][0]
                        with cur.copy(f"COPY {t} ({', '.join(cols)}) FROM STDIN") as copy:
                            for row in buffers[t]:
                                copy.write_row(row)
                        buffers[t] = []
            cur.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
            conn.commit()
        conn.autocommit = True
        for t in COPIED:  # what autovacuum does after a bulk load: statistics and the visibility map
            conn.execute(f"VACUUM ANALYZE {t}")
    return time.perf_counter() - t0


def _copy(cols, row, table, shift, new_id=None, **values):
    out = list(row)
    for name in TIMES[table]:
        i = cols.index(name)
        if out[i] is not None:
            out[i] = out[i] + shift
    if new_id is not None:
        out[cols.index("id")] = new_id
    for k, v in values.items():
        if v is not None:
            out[cols.index(k)] = v
    return out


def stats_latency(url: str) -> dict:
    """GET /api/v1/stats as a supervisor, through the Flask app (query, figures, JSON), for three views."""
    from web import create_app

    app = create_app(config={"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "bench"})
    sv = app.extensions["onewindow"]
    sv.clock = Clock(NOW)
    try:
        sv.add_user("bench_super", "pw", ["supervisor"])
    except Exception:  # noqa: BLE001 - already there
        pass
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "bench_super", "password": "pw"}).json["token"]
    h = {"Authorization": f"Bearer {token}"}
    first, last = T0.date(), (T0 + timedelta(weeks=WEEKS)).date()
    views = {"all": f"from={first}&to={last}", "30d": "", "dept": f"from={first}&to={last}&department=market"}
    out, every = {}, []
    t0 = time.perf_counter()
    assert client.get(f"/api/v1/stats?{views['all']}", headers=h).status_code == 200
    out["stats_rollup_s"] = time.perf_counter() - t0
    for name, q in views.items():
        r = client.get(f"/api/v1/stats?{q}", headers=h)  # warm-up
        assert r.status_code == 200, r.json
        if name == "all":
            out["stats_cases_in_period"] = r.json["summary"]["cases"]
        times = []
        for _ in range(STATS_ROUNDS):
            t0 = time.perf_counter()
            r = client.get(f"/api/v1/stats?{q}", headers=h)
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200
        out[f"stats_p95_ms_{name}"] = percentile(times, 95)
        every += times
    out["stats_p95_ms"] = percentile(every, 95)
    out["stats_p50_ms"] = percentile(every, 50)
    sv.sessions.kw["bind"].dispose()
    return out


def percentile(values, p) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# ---------------------------------------------------------------- timers on several workers
def _timer_worker(url: str, due_iso: str, started: float, queue) -> None:
    from engine.bootstrap import build_services
    from engine.runtime.timers import fire_due

    due = datetime.fromisoformat(due_iso)
    sv = build_services(url)
    sv.clock = lambda: due + timedelta(seconds=time.monotonic() - started)  # the clock starts at the due time
    fired, lags = 0, []
    while True:
        n = fire_due(sv, limit=50)
        fired += n.count
        lags += n.lags
        if not n.count:
            break
    queue.put((fired, lags))


def timer_throughput(url: str, cases: int, workers: int) -> dict:
    """`cases` timers due at one instant, fired by `workers` worker processes whose clock starts at that instant:
    timers per second and the lag (how long after its due time each fired: the backlog draining)."""
    import tempfile

    from engine.bootstrap import deploy_catalogue
    from engine.runtime.services import Actor
    from tools.bpmngen import Process

    sv = services_on(url)
    with tempfile.TemporaryDirectory() as tmp:
        p = Process("bench_wait", "公示", dialect="camunda")
        p.start("start")
        p.timer("wait", "公示期", "PT1H")
        p.end("end")
        p.chain("start", "wait", "end")
        p.write(f"{tmp}/bench_wait.bpmn")
        deploy_catalogue(sv, [f"{tmp}/bench_wait.bpmn"])
    start = datetime(2026, 6, 1, 1, 0, tzinfo=timezone.utc) + timedelta(days=workers)  # a fresh instant per run
    sv.clock = Clock(start)
    admin = Actor("bench_admin", frozenset({"admin"}))
    for _ in range(cases):
        sv.start_case(admin, "bench_wait", flows.APPLICANT, {})
    sv.sessions.kw["bind"].dispose()
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    due = (start + timedelta(hours=1)).isoformat()
    t0 = time.monotonic()
    procs = [ctx.Process(target=_timer_worker, args=(url, due, t0, queue)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=1800) for _ in procs]
    wall = time.monotonic() - t0
    for proc in procs:
        proc.join(timeout=60)
    fired = sum(f for f, _ in results)
    lags = [x for _, found in results for x in found]
    assert fired == cases, (fired, cases)
    return {f"timers_per_s_{workers}_workers": cases / wall, f"timer_lag_p50_s_{workers}_workers": percentile(lags, 50),
            f"timer_lag_p95_s_{workers}_workers": percentile(lags, 95)}


def run() -> dict:
    """Every supervision figure of the benchmark, or {} (saying why) when no PostgreSQL server is reachable."""
    if not reachable():
        print(f"supervision benchmark skipped: no PostgreSQL server at {PG_ADMIN}")
        return {}
    url = create_db()
    try:
        sv = services_on(url)
        clock = sv.clock = Clock(T0)
        t0 = time.perf_counter()
        templates(sv, clock)
        made = time.perf_counter() - t0
        sv.sessions.kw["bind"].dispose()
        seconds = generate(url, STATS_CASES)
        out = {"stats_cases": STATS_CASES, "stats_templates_s": made, "stats_generate_s": seconds}
        out.update(stats_latency(url))
    finally:
        drop_db(url)
    url = create_db()  # the timers in a database of their own
    try:
        out.update(timer_throughput(url, max(TIMER_CASES // 4, 50), 1))
        out.update(timer_throughput(url, TIMER_CASES, 3))
    finally:
        drop_db(url)
    return out


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k}: {v:.2f}" if isinstance(v, float) else f"{k}: {v}")
