"""The inbox benchmark (`inbox_p95_ms`): a clerk whose groups hold 10,000 open tasks among 200,000 cases, on
PostgreSQL. The rows are the service layer's own: one case is started through Services as a template, and its
case row and open work item are copied (COPY, new ids and numbers, groups spread over the departments) — far
faster than 200,000 real starts, and the same shape the inbox query reads."""
from __future__ import annotations

import io
import random
import statistics
import time
import uuid
from datetime import timedelta

CASES = 200_000
MINE = 10_000  # open tasks in the clerk's group
GROUPS = ["tax", "social", "fund", "police", "health", "estate", "housing", "urban", "water", "power", "gas"]


def pg_url() -> str | None:
    import os

    import psycopg

    admin = os.environ.get("ONEWINDOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        with psycopg.connect(admin, connect_timeout=2):
            return admin
    except Exception:  # noqa: BLE001
        return None


def build(admin_url: str, cases: int = CASES, mine: int = MINE):
    """A fresh database with the catalogue, users, and `cases` cases of which `mine` wait in group market."""
    import psycopg
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from engine.db import make_engine, make_session_factory
    from engine.migrate import upgrade
    from engine.model.catalogue import check
    from engine.model.deploy import deploy
    from engine.runtime.services import Services
    from engine.window.rules import install

    name = f"ow_bench_inbox_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    services = Services(make_session_factory(make_engine(url)))
    install(services, Ed25519PrivateKey.generate())
    with services.uow() as s:
        deploy(s, check())
    services.add_user("market1", "pw", ["market"])
    services.add_user("front1", "pw", ["front_desk"])
    template = services.start_case(services.actor("front1"), "sample_matter",
                                   {"type": "company", "name": "模板企业有限公司", "credit_code": "91330206MA2XXXXX04"},
                                   {}, intake={"accepted": True})
    _copy(url, template["id"], cases, mine)
    return url, services, name


def _copy(url: str, template_id: int, cases: int, mine: int) -> None:
    import psycopg

    rng = random.Random(7)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        case = conn.execute("SELECT version_id, process_id, title, applicant, channel, created_by, created_at, "
                            "state_head FROM cases WHERE id = %s", (template_id,)).fetchone()
        item = conn.execute("SELECT process_id, element_id, name, form, rule FROM work_items WHERE case_id = %s",
                            (template_id,)).fetchone()
        start = conn.execute("SELECT max(id) FROM cases").fetchone()[0] + 1
        base_time = case[6]
        buf_cases, buf_items = io.StringIO(), io.StringIO()
        mine_ids = set(rng.sample(range(cases), mine))
        for k in range(cases):
            cid = start + k
            at = base_time + timedelta(seconds=k)
            number = f"OW{at:%Y%m%d}{cid:06d}"
            applicant = case[3].replace("模板企业有限公司", f"企业{cid}")
            row = [cid, number, case[0], case[1], case[2], applicant, case[4], "running", 1, case[5], at.isoformat(),
                   at.isoformat(), "\\N", "{}", 1, "", 0]
            buf_cases.write("\t".join(_tsv(v) for v in row) + "\n")
            group = "market" if k in mine_ids else GROUPS[k % len(GROUPS)]
            due = (at + timedelta(days=rng.randint(1, 20))).isoformat()
            buf_items.write("\t".join(_tsv(v) for v in [str(uuid.UUID(int=rng.getrandbits(128), version=4)), cid,
                                                        item[0], item[1], item[2], item[3], item[4], group, "", "\\N",
                                                        "ready", at.isoformat(), due]) + "\n")
        with conn.cursor() as cur:
            with cur.copy("COPY cases (id, number, version_id, process_id, title, applicant, channel, status, visits, "
                          "created_by, created_at, updated_at, closed_at, state_head, revision, chain_head, "
                          "event_count) FROM STDIN") as cp:
                cp.write(buf_cases.getvalue())
            with cur.copy("COPY work_items (id, case_id, process_id, element_id, name, form, rule, group_name, "
                          "candidate_users, assignee, status, created_at, due_at) FROM STDIN") as cp:
                cp.write(buf_items.getvalue())
            cur.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
        conn.execute("ANALYZE cases")
        conn.execute("ANALYZE work_items")
        conn.commit()


def _tsv(value) -> str:
    if value == "\\N":
        return value
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def measure(services, rounds: int = 200) -> dict:
    """p50/p95 of one inbox page over a mix — the first page, a page deep in the backlog (by cursor), the newest
    first, by due date (both ways), by case number — and, apart, of a search by applicant or by case number."""
    actor = services.actor("market1")
    cursors = []
    page = services.inbox(actor, limit=50)
    for _ in range(100):  # walk 100 pages in to collect deep cursors
        cursors.append(page.next)
        page = services.inbox(actor, limit=50, cursor=page.next)
    rng = random.Random(11)
    mix = [dict(), dict(cursor=None), dict(desc=True), dict(sort="due"), dict(sort="due", desc=True),
           dict(sort="number", desc=True)]
    searches = [dict(q="企业12"), dict(q="OW2026")]
    times, found = [], []
    for i in range(rounds):
        kw = dict(mix[i % len(mix)])
        if "cursor" in kw:
            kw["cursor"] = rng.choice(cursors)
        t0 = time.perf_counter()
        services.inbox(actor, limit=50, **kw)
        times.append((time.perf_counter() - t0) * 1000)
    for i in range(rounds // 4):
        t0 = time.perf_counter()
        services.inbox(actor, limit=50, **searches[i % len(searches)])
        found.append((time.perf_counter() - t0) * 1000)
    times.sort()
    found.sort()
    return {"inbox_p50_ms": statistics.median(times), "inbox_p95_ms": times[int(len(times) * 0.95) - 1],
            "inbox_search_p95_ms": found[int(len(found) * 0.95) - 1]}


def explain(services) -> str:
    """EXPLAIN ANALYZE of the first page of the clerk's inbox."""
    from sqlalchemy.dialects import postgresql

    from engine.runtime.worklist import query

    stmt = query(services.actor("market1"), limit=50)
    sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    with services.read() as s:
        from sqlalchemy import text

        rows = s.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).all()
    return "\n".join(r[0] for r in rows)


def run() -> tuple[dict, str]:
    admin = pg_url()
    if admin is None:
        return {}, "(no PostgreSQL server reachable: inbox figures not measured)"
    import psycopg

    url, services, name = build(admin)
    try:
        figures = measure(services)
        plan = explain(services)
    finally:
        services.sessions.kw["bind"].dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    figures["inbox_cases"] = CASES
    figures["inbox_my_open_tasks"] = MINE
    return figures, plan
