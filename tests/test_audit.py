"""Tamper evidence: every kind of tampering is named by `verify` (first bad event and why); the CLI reports it."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update

from engine.audit.chain import event_hash
from engine.db import Case, Event, TaskRow
from engine.audit.verify import verify_ids
from tests.conftest import APPLICANT
from tests.walk import pickup_data

DEPT_USER = {"market": "market1", "tax": "tax1", "social": "social1", "fund": "fund1", "police": "police1"}


def bundle_case(services, order=("market", "tax", "social", "fund", "police"), finish=True, claim=False) -> dict:
    front = services.actor("front")
    case = services.start_case(front, "sample_bundle", APPLICANT, {"note": "test"})
    case = services.complete(front, case["tasks"][0]["id"], {"accepted": True, "remark": "材料齐全"})
    tasks = {t["group"]: t for t in case["tasks"]}
    for g in order:
        actor = services.actor(DEPT_USER[g])
        if claim:
            services.claim(actor, tasks[g]["id"])
        case = services.complete(actor, tasks[g]["id"], {"decision": "reject" if g == "tax" else "approve",
                                                         "opinion": f"{g} 意见"})
    if finish and len(order) == 5:
        case = services.complete(services.actor("pickup1"), case["tasks"][0]["id"], pickup_data())
    return case


def verdict(services, case_id):
    (finding,) = list(verify_ids(services, [case_id]))
    return finding


def seq_of(services, case_id, type_, element=None, group=None) -> int:
    with services.uow() as s:
        q = select(Event.seq).where(Event.case_id == case_id, Event.type == type_).order_by(Event.seq)
        if element:
            q = q.where(Event.element_id == element)
        if group:
            q = q.where(Event.group_name == group)
        return s.scalars(q).first()


def rechain(s, case_id: int) -> None:
    """What a tamperer with database access would do: recompute every hash and the case's head."""
    prev = ""
    events = s.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.seq)).all()
    for e in events:
        e.prev_hash = prev
        e.hash = prev = event_hash(prev, e.case_id, e.seq, e.at, e.type, e.actor, e.group_name, e.task_id,
                                   e.element_id, e.payload)
    case = s.get(Case, case_id)
    case.chain_head, case.event_count = prev, len(events)


def test_untouched_cases_verify_ok(services):
    ids = [bundle_case(services)["id"], bundle_case(services, finish=False, order=("police", "fund"))["id"],
           bundle_case(services, claim=True)["id"]]
    front = services.actor("front")
    refused = services.start_case(front, "sample_matter", APPLICANT, {})
    ids.append(services.complete(front, refused["tasks"][0]["id"], {"accepted": False, "remark": "缺材料"})["id"])
    ids.append(services.start_case(front, "sample_matter", APPLICANT, {})["id"])
    findings = list(verify_ids(services, ids))
    assert [f.kind for f in findings] == ["ok"] * 5, [f.line() for f in findings]


def test_edited_payload_is_named(services):
    cid = bundle_case(services)["id"]
    seq = seq_of(services, cid, "task_completed", group="tax")
    with services.uow() as s:
        e = s.scalar(select(Event).where(Event.case_id == cid, Event.seq == seq))
        e.payload = e.payload.replace("reject", "approve")
    f = verdict(services, cid)
    assert (f.kind, f.seq) == ("edited", seq)
    assert f"event #{seq}" in f.line() and "edited" in f.line()


def test_edited_actor_is_named(services):
    cid = bundle_case(services)["id"]
    with services.uow() as s:
        s.execute(update(Event).where(Event.case_id == cid, Event.seq == 2).values(actor="someone_else"))
    f = verdict(services, cid)
    assert (f.kind, f.seq) == ("edited", 2)


def test_deleted_event_row_is_named(services):
    cid = bundle_case(services)["id"]
    with services.uow() as s:
        s.execute(delete(Event).where(Event.case_id == cid, Event.seq == 4))
    f = verdict(services, cid)
    assert (f.kind, f.seq) == ("deleted", 4)


def test_deleted_last_event_is_named(services):
    cid = bundle_case(services)["id"]
    with services.uow() as s:
        last = s.get(Case, cid).event_count
        s.execute(delete(Event).where(Event.case_id == cid, Event.seq == last))
    f = verdict(services, cid)
    assert (f.kind, f.seq) == ("deleted", last)


def test_deleted_and_renumbered_event_is_named(services):
    cid = bundle_case(services)["id"]
    with services.uow() as s:
        s.execute(delete(Event).where(Event.case_id == cid, Event.seq == 3))
        for e in s.scalars(select(Event).where(Event.case_id == cid, Event.seq > 3).order_by(Event.seq)).all():
            e.seq -= 1
            s.flush()
    f = verdict(services, cid)
    assert (f.kind, f.seq) == ("deleted", 3), f.line()


def test_swapped_seq_is_reordered(services):
    cid = bundle_case(services)["id"]
    with services.uow() as s:
        s.execute(update(Event).where(Event.case_id == cid, Event.seq == 4).values(seq=-1))
        s.execute(update(Event).where(Event.case_id == cid, Event.seq == 5).values(seq=4))
        s.execute(update(Event).where(Event.case_id == cid, Event.seq == -1).values(seq=5))
    f = verdict(services, cid)
    assert (f.kind, f.seq) == ("reordered", 4), f.line()


def test_rechained_payload_edit_is_caught_by_replay(services):
    cid = bundle_case(services)["id"]
    seq = seq_of(services, cid, "task_completed", group="tax")
    with services.uow() as s:
        e = s.scalar(select(Event).where(Event.case_id == cid, Event.seq == seq))
        e.payload = e.payload.replace("reject", "approve")
        rechain(s, cid)
    f = verdict(services, cid)
    # the edited decision now implies a 准予许可决定书 where the next event records the 不予许可决定书 it issued
    assert (f.kind, f.seq) == ("replay", seq + 1), f.line()
    assert "replay differs" in f.detail and "approval" in f.detail and "rejection" in f.detail


def test_rechained_reordered_completions_are_caught_by_replay(services):
    """Swapping who-did-what between two parallel reviews keeps a valid chain; replay notices."""
    cid = bundle_case(services)["id"]
    with services.uow() as s:
        rows = s.scalars(select(Event).where(Event.case_id == cid, Event.type == "task_completed")
                         .order_by(Event.seq)).all()
        a, b = rows[1], rows[2]  # market, tax
        a.payload, b.payload = b.payload, a.payload
        rechain(s, cid)
    f = verdict(services, cid)
    assert (f.kind, f.seq) == ("replay", a.seq), f.line()


def test_corrupt_task_row_is_caught_by_replay(services):
    cid = bundle_case(services)["id"]
    seq = seq_of(services, cid, "task_completed", group="market")
    with services.uow() as s:
        task_id = s.scalar(select(Event.task_id).where(Event.case_id == cid, Event.seq == seq))
        rows = s.scalars(select(TaskRow).where(TaskRow.case_id == cid).order_by(TaskRow.seq)).all()
        # The row of the task that event completed: its own row, or the chunk row it was packed into
        # (where its data is JSON text inside JSON, so its quotes are escaped).
        row = next(r for r in rows if r.task_id == task_id or (r.task_id.startswith("chunk:") and task_id in r.body))
        before = row.body
        for quote in ('"', '\\"'):
            row.body = row.body.replace(f'{quote}market 意见{quote}', f'{quote}market 同意，已核查{quote}')
        assert row.body != before
    f = verdict(services, cid)
    assert (f.kind, f.seq) == ("replay", seq), f.line()


def test_corrupt_state_head_is_caught_by_replay(services):
    cid = bundle_case(services, finish=False, order=("market",))["id"]
    with services.uow() as s:
        case = s.get(Case, cid)
        head = json.loads(case.state_head)
        head["data"]["channel"] = "online"
        case.state_head = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
        last = case.event_count
    f = verdict(services, cid)
    assert (f.kind, f.seq) == ("replay", last)
    assert "workflow state differs" in f.detail


def test_unreadable_task_row_is_reported(services):
    cid = bundle_case(services, finish=False, order=())["id"]
    with services.uow() as s:
        row = s.scalars(select(TaskRow).where(TaskRow.case_id == cid)).first()
        row.body = "{not json"
    f = verdict(services, cid)
    assert f.kind == "replay" and "unreadable" in f.detail


@pytest.fixture
def cli_env(db_url):
    return {"ONEWINDOW_DATABASE_URL": db_url}


def test_cli_verify_reports_failures_and_exit_code(services, cli_env):
    from web.cli import cli

    good = bundle_case(services)
    bad = bundle_case(services)
    runner = CliRunner()
    res = runner.invoke(cli, ["audit", "verify", good["number"], str(good["id"])], env=cli_env)
    assert res.exit_code == 0, res.output
    assert "2 case(s) verified: 2 ok, 0 failed" in res.output
    with services.uow() as s:
        s.execute(update(Event).where(Event.case_id == bad["id"], Event.seq == 3).values(actor="mallory"))
    res = runner.invoke(cli, ["audit", "verify", "--all"], env=cli_env)
    assert res.exit_code == 1
    failing = [line for line in res.stdout.splitlines() if line.startswith("OW")]
    assert failing == [f"{bad['number']}: edited: event #3: content does not match its hash"]
    assert "2 case(s) verified: 1 ok, 1 failed" in res.stdout
    assert "verifying" in res.stderr  # the progress bar goes to stderr
    res = runner.invoke(cli, ["audit", "verify", "OW-NOPE"], env=cli_env)
    assert res.exit_code == 2 and "no such case" in res.stderr


def test_auditor_pages_step_through_and_verify(services, db_url):
    from web import create_app

    services.add_user("auditor1", "pw", ["auditor"])
    case = bundle_case(services)
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user"], sess["e"], sess["csrf"] = "market1", 0, "t"
    assert client.get("/audit/").status_code == 403  # not an auditor
    with client.session_transaction() as sess:
        sess["user"], sess["e"] = "auditor1", 0
    page = client.get(f"/audit/?q={case['number']}").get_data(as_text=True)
    assert case["number"] in page
    page = client.get(f"/audit/cases/{case['id']}?step=2").get_data(as_text=True)
    assert "综合受理" in page and 'title="results.sample_bundle.intake.accepted"' in page and 'id="timeline"' in page
    assert "<svg" in page  # the diagram as it stood after step 2
    assert 'id="diagram-legend"' in page and "已完成" in page and "未到达" in page  # what its colours say
    assert client.post(f"/audit/cases/{case['id']}/verify").status_code == 400  # no CSRF token
    page = client.post(f"/audit/cases/{case['id']}/verify", data={"_csrf": "t"}).get_data(as_text=True)
    assert 'id="verify-result"' in page and "校验通过" in page
    with services.uow() as s:
        s.execute(update(Event).where(Event.case_id == case["id"], Event.seq == 2).values(actor="mallory"))
    page = client.post(f"/audit/cases/{case['id']}/verify", data={"_csrf": "t"}).get_data(as_text=True)
    assert "edited" in page and "#2" in page
