"""The service layer end to end: both sample processes, typed errors, versions, joins."""
from __future__ import annotations

import pytest

from engine.errors import Conflict, Forbidden, Invalid, NotFound
from tests.conftest import APPLICANT
from tests.helpers import task_named
from tests.walk import pickup_data

DEPT_USER = {"market": "market1", "tax": "tax1", "social": "social1", "fund": "fund1", "police": "police1"}


def start_bundle(services):
    front = services.actor("front")
    case = services.start_case(front, "sample_bundle", APPLICANT, {})
    return services.complete(front, task_named(case, "intake")["id"], {"accepted": True, "remark": "材料齐全"})


LEVELS = [("dept_accept", "market", "market1"), ("dept_review", "market_lead", "market_lead1"),
          ("dept_decide", "market_head", "market_head1")]


def test_single_matter_walks_intake_review_levels_and_pickup(services):
    front, pickup = services.actor("front"), services.actor("pickup1")
    case = services.start_case(front, "sample_matter", APPLICANT, {})
    assert case["number"].startswith("OW") and case["status"] == "running" and case["visits"] == 1
    case = services.complete(front, task_named(case, "intake")["id"], {"accepted": True})
    for level, group, user in LEVELS:  # 承办 → 审核 → 审批, each level its own group
        task = task_named(case, level)
        assert task["group"] == group and task["due"] is not None and task["rule"] == "review"
        case = services.complete(services.actor(user), task["id"], {"decision": "approve", "opinion": f"{level} 同意"})
    assert case["outcomes"][0]["status"] == "approved" and case["outcomes"][0]["level"] == 3
    case = services.complete(pickup, task_named(case, "pickup")["id"], pickup_data("express", "SF123"))
    assert case["status"] == "completed" and case["tasks"] == []
    types = [e["type"] for e in services.events(case["id"])]
    assert types == ["case_started", "task_completed", "intake_accepted", "document_issued"] + ["task_completed"] * 3 \
        + ["document_issued", "task_completed", "case_completed"]  # the 受理通知书, then the 准予许可决定书


def test_a_rejection_at_the_first_level_ends_the_member_without_the_upper_levels(services):
    front = services.actor("front")
    case = services.start_case(front, "sample_matter", APPLICANT, {}, intake={"accepted": True})
    case = services.complete(services.actor("market1"), task_named(case, "dept_accept")["id"],
                             {"decision": "reject", "opinion": "经营场所不符合要求"})
    assert [t["element_id"] for t in case["tasks"]] == ["pickup"]
    assert case["outcomes"][0]["status"] == "rejected" and case["outcomes"][0]["level"] == 1
    assert "经营场所不符合要求" in case["outcomes"][0]["notice"]


def test_one_person_acts_on_at_most_one_level_of_a_member(services):
    services.add_user("both", "pw", ["market", "market_lead"])  # holds two roles: may act, but not twice here
    both = services.actor("both")
    case = services.start_case(services.actor("front"), "sample_matter", APPLICANT, {}, intake={"accepted": True})
    case = services.complete(both, task_named(case, "dept_accept")["id"], {"decision": "approve", "opinion": "承办同意"})
    task = task_named(case, "dept_review")
    before = services.events(case["id"])
    with pytest.raises(Forbidden, match="职责分离|separation of duties"):
        services.complete(both, task["id"], {"decision": "approve", "opinion": "审核同意"})
    assert services.events(case["id"]) == before
    case = services.complete(services.actor("market_lead1"), task["id"], {"decision": "approve", "opinion": "审核同意"})
    assert task_named(case, "dept_decide")["group"] == "market_head"


def test_refused_at_intake_ends_the_case(services):
    front = services.actor("front")
    case = services.start_case(front, "sample_matter", APPLICANT, {})
    case = services.complete(front, task_named(case, "intake")["id"], {"accepted": False, "remark": "缺营业执照"})
    assert case["status"] == "completed" and case["tasks"] == []


def test_bundle_reviews_in_parallel_and_keeps_every_decision_at_the_join(services):
    case = start_bundle(services)
    groups = sorted(t["group"] for t in case["tasks"])
    assert groups == ["fund", "market", "police", "social", "tax"]
    for task in case["tasks"]:
        decision = "reject" if task["group"] == "police" else "approve"
        case = services.complete(services.actor(DEPT_USER[task["group"]]), task["id"],
                                 {"decision": decision, "opinion": f"{task['group']} 意见"})
    assert [t["element_id"] for t in case["tasks"]] == ["pickup"]
    data = services.case_data(case["id"])
    # Every branch wrote `decision`; the plain key holds only the last one, results keep all five.
    reviews = {p: r["review"] for p, r in data["results"].items() if p.startswith("review_")}
    assert {p: r["decision"] for p, r in reviews.items()} == {
        "review_market": "approve", "review_tax": "approve", "review_social": "approve",
        "review_fund": "approve", "review_police": "reject"}
    assert {r["opinion"] for r in reviews.values()} == {f"{g} 意见" for g in DEPT_USER}
    case = services.complete(services.actor("pickup1"), case["tasks"][0]["id"], pickup_data())
    assert case["status"] == "completed"


def test_list_tasks_shows_only_the_users_groups(services):
    start_bundle(services)
    assert [t["group"] for t in services.list_tasks(services.actor("tax1"))] == ["tax"]
    assert services.list_tasks(services.actor("nobody")) == []
    front_tasks = services.list_tasks(services.actor("front"))
    assert front_tasks == []


def test_forbidden_when_not_in_the_tasks_group(services):
    case = start_bundle(services)
    tax_task = next(t for t in case["tasks"] if t["group"] == "tax")
    with pytest.raises(Forbidden):
        services.complete(services.actor("market1"), tax_task["id"], {"decision": "approve", "opinion": "x"})
    with pytest.raises(Forbidden):
        services.claim(services.actor("market1"), tax_task["id"])
    with pytest.raises(Forbidden):
        services.start_case(services.actor("market1"), "sample_matter", APPLICANT, {})


def test_invalid_data_is_refused_field_by_field_and_changes_nothing(services):
    case = start_bundle(services)
    task = next(t for t in case["tasks"] if t["group"] == "market")
    before = services.events(case["id"])
    with pytest.raises(Invalid) as err:
        services.complete(services.actor("market1"), task["id"], {"decision": "maybe", "extra": 1})
    assert set(err.value.fields) == {"decision", "opinion", "extra"}
    assert services.events(case["id"]) == before
    assert task["id"] in [t["id"] for t in services.get_case(case["id"])["tasks"]]
    with pytest.raises(Invalid) as err:
        services.start_case(services.actor("front"), "sample_matter", {"type": "robot"}, {})
    assert set(err.value.fields) == {"applicant.name", "applicant.type"}


def test_claims_and_stale_actions_conflict(services):
    case = start_bundle(services)
    task = next(t for t in case["tasks"] if t["group"] == "market")
    m1, m2 = services.actor("market1"), services.actor("market2")
    assert services.claim(m1, task["id"])["assignee"] == "market1"
    with pytest.raises(Conflict):
        services.claim(m2, task["id"])
    with pytest.raises(Conflict):
        services.complete(m2, task["id"], {"decision": "approve", "opinion": "抢办"})
    services.complete(m1, task["id"], {"decision": "approve", "opinion": "同意"})
    with pytest.raises(Conflict):
        services.complete(m1, task["id"], {"decision": "approve", "opinion": "again"})
    types = [e["type"] for e in services.events(case["id"])]
    assert types.count("task_claimed") == 1


def test_unknown_things_are_not_found(services):
    with pytest.raises(NotFound):
        services.get_case(999)
    with pytest.raises(NotFound):
        services.complete(services.actor("front"), "00000000-0000-0000-0000-000000000000", {})
    with pytest.raises(NotFound):
        services.start_case(services.actor("front"), "no_such_process", APPLICANT, {})


def test_case_stays_on_its_version_after_a_new_deploy(services, tmp_path, catalogue):
    from engine.model.catalogue import PROCESSES_DIR, check
    from engine.model.deploy import deploy

    front = services.actor("front")
    old_case = services.start_case(front, "sample_matter", APPLICANT, {})
    # A designer renames the intake task and deploys: a new version; the old case keeps the old diagram.
    for src in [*PROCESSES_DIR.glob("*.bpmn"), *PROCESSES_DIR.glob("*.dmn")]:
        text = src.read_text(encoding="utf-8")
        if src.name == "sample_matter.bpmn":
            text = text.replace('name="综合受理"', 'name="综合受理（新版）"')
        (tmp_path / src.name).write_text(text, encoding="utf-8")
    result = check(processes_dir=tmp_path)
    with services.uow() as s:
        rows = dict((pid, (vid, new)) for pid, vid, new in deploy(s, result))
    assert rows["sample_matter"][1] is True and rows["sample_matter"][0] != old_case["version_id"]
    assert rows["review_tax"][1] is False  # unchanged files are a no-op
    new_case = services.start_case(front, "sample_matter", APPLICANT, {})
    assert task_named(new_case, "intake")["name"] == "综合受理（新版）"
    old_case = services.complete(front, task_named(old_case, "intake")["id"], {"accepted": True})
    assert services.get_case(old_case["id"])["version_id"] == old_case["version_id"]
    assert task_named(old_case, "dept_accept")["name"] == "承办"


def test_redeploying_the_same_catalogue_is_a_noop(services, catalogue):
    from engine.model.deploy import deploy

    with services.uow() as s:
        assert all(not new for _, _, new in deploy(s, catalogue))


def test_events_form_an_unbroken_hash_chain(services):
    from engine.audit.chain import event_hash

    case = start_bundle(services)
    events = services.events(case["id"])
    prev = ""
    for e in events:
        assert e["prev_hash"] == prev
        prev = e["hash"]
    assert len({e["hash"] for e in events}) == len(events)
    assert event_hash is not None


def test_deploying_named_files_deploys_only_their_processes(db_url, tmp_path):
    from engine.bootstrap import deploy_catalogue
    from engine.model.catalogue import PROCESSES_DIR
    from engine.db import make_engine, make_session_factory
    from engine.runtime.services import Services

    sv = Services(make_session_factory(make_engine(db_url)))  # deploying needs no rule book
    rows = deploy_catalogue(sv, [str(PROCESSES_DIR / "sample_matter.bpmn")])
    assert [(pid, new) for pid, _, new in rows] == [("sample_matter", True)]
    assert [(pid, new) for pid, _, new in deploy_catalogue(sv, [str(PROCESSES_DIR / "sample_matter.bpmn")])] == [
        ("sample_matter", False)]


def test_case_data_shows_every_finished_branch_before_the_join(services):
    case = start_bundle(services)
    for task in case["tasks"][:2]:
        services.complete(services.actor(DEPT_USER[task["group"]]), task["id"], {"decision": "approve", "opinion": "ok"})
    results = services.case_data(case["id"])["results"]
    done = {f"review_{t['group']}" for t in case["tasks"][:2]}
    assert done <= set(results) and all(results[p]["review"]["decision"] == "approve" for p in done)
