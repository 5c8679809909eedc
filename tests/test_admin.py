"""Administrative acts: reassign, suspend/resume, correct data, migrate version — each audited and replayable."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from engine.runtime.admin import Admin
from engine.errors import Conflict, Forbidden, Invalid
from engine.audit.verify import verify_ids
from tests.conftest import APPLICANT
from tests.helpers import deploy_files, task_named
from tools.bpmngen import Process
from tests.walk import pickup_data

REASON = "窗口录入错误 (entered wrongly at the window)"


@pytest.fixture
def admin(services):
    assert "supervisor" in services.actor("super1").groups  # a conftest user
    return Admin(services)


def _events(services, case_id, type_):
    return [e for e in services.events(case_id) if e["type"] == type_]


def _ok(services, *case_ids):
    findings = list(verify_ids(services, list(case_ids)))
    assert [f.kind for f in findings] == ["ok"] * len(case_ids), [f.line() for f in findings]


def _accepted_bundle(services):
    """A sample_bundle case accepted at intake: five reviews open."""
    front = services.actor("front")
    case = services.start_case(front, "sample_bundle", APPLICANT, {})
    return services.complete(front, task_named(case, "intake")["id"], {"accepted": True, "remark": "齐全"})


def _matter(directory, version: str, pid: str = "mig_matter"):
    """v1: intake -> review; v2 adds a step after review; v3 drops review; par1/par2: a split gaining a branch."""
    directory.mkdir(exist_ok=True)
    p = Process(pid, "迁移测试", dialect="camunda")
    p.start("start")
    p.user("intake", "受理", group="front_desk")
    if version.startswith("par"):
        branches = ["a", "b"] + (["c"] if version == "par2" else [])
        p.par("split")
        p.par("join")
        for b in branches:
            p.user(b, f"审查{b}", group="front_desk")
            p.chain("split", b, "join")
        p.end("end")
        p.chain("start", "intake", "split")
        p.chain("join", "end")
    else:
        steps = {"v1": ["review"], "v2": ["review", "extra"], "v3": []}[version]
        for s in steps:
            p.user(s, s, group="front_desk")
        p.end("end")
        p.chain("start", "intake", *steps, "end")
    p.write(str(directory / f"{pid}.bpmn"))


@pytest.fixture
def deployer(services, tmp_path):
    """deployer(version, pid) writes that version of the process and deploys it; returns its version id."""
    def deploy(version: str, pid: str = "mig_matter") -> int:
        _matter(tmp_path / version, version, pid)
        return {p: vid for p, vid, _new in deploy_files(services, tmp_path / version)}[pid]

    return deploy


# ---------------------------------------------------------------- permission and reason
def test_every_act_needs_admin_or_supervisor_and_a_reason(services, admin):
    case = _accepted_bundle(services)
    task = task_named(case, "review")["id"]
    clerk, boss = services.actor("market1"), services.actor("admin")
    acts = [lambda a, r: admin.reassign(a, task, to_user="market2", reason=r),
            lambda a, r: admin.suspend(a, case["id"], reason=r),
            lambda a, r: admin.resume(a, case["id"], reason=r),
            lambda a, r: admin.correct_data(a, case["id"], {"remark": "x"}, reason=r),
            lambda a, r: admin.migrate_version(a, case["id"], case["version_id"] + 1, reason=r)]
    for act in acts:
        with pytest.raises(Forbidden):
            act(clerk, REASON)
        with pytest.raises(Invalid) as exc:
            act(boss, "  ")
        assert "reason" in exc.value.fields
    assert [e["type"] for e in services.events(case["id"])] == ["case_started", "task_completed", "intake_accepted",
                                                                "document_issued"]


# ---------------------------------------------------------------- reassign
def test_reassign_gives_the_task_to_another_user_and_group(services, admin):
    case = _accepted_bundle(services)
    item = [t for t in case["tasks"] if t["group"] == "market"][0]
    view = admin.reassign(services.actor("super1"), item["id"], to_user="tax1", reason=REASON)
    moved = [t for t in view["tasks"] if t["id"] == item["id"]][0]
    assert moved["assignee"] == "tax1" and moved["status"] == "claimed"
    assert item["id"] in [t["id"] for t in services.list_tasks(services.actor("tax1"))]
    with pytest.raises(Conflict):  # now held by tax1
        services.complete(services.actor("market1"), item["id"], {"decision": "approve", "opinion": "同意"})
    services.complete(services.actor("tax1"), item["id"], {"decision": "approve", "opinion": "同意"})
    other = [t for t in case["tasks"] if t["group"] == "social"][0]
    view = admin.reassign(services.actor("admin"), other["id"], to_group="fund", reason=REASON)
    assert [t for t in view["tasks"] if t["id"] == other["id"]][0]["group"] == "fund"
    events = _events(services, case["id"], "task_reassigned")
    assert [e["payload"]["to"] for e in events] == [{"user": "tax1", "group": "market"}, {"user": None, "group": "fund"}]
    assert events[0]["payload"]["from"] == {"user": None, "group": "market"}
    assert events[0]["task_id"] == item["id"] and events[0]["element_id"] == "review"
    assert events[0]["payload"]["reason"] == REASON and events[0]["group"] == "supervisor"
    _ok(services, case["id"])


# ---------------------------------------------------------------- suspend / resume
def test_suspended_case_refuses_work_until_resumed(services, admin):
    case = _accepted_bundle(services)
    item = task_named(case, "review")
    boss = services.actor("admin")
    assert admin.suspend(boss, case["id"], reason=REASON)["status"] == "suspended"
    with pytest.raises(Conflict) as exc:
        services.complete(services.actor(item["group"] + "1"), item["id"], {"decision": "approve", "opinion": "同意"})
    assert exc.value.status == 409 and "suspended" in exc.value.message
    with pytest.raises(Conflict):
        services.claim(services.actor(item["group"] + "1"), item["id"])
    with pytest.raises(Conflict):  # twice
        admin.suspend(boss, case["id"], reason=REASON)
    _ok(services, case["id"])  # a suspended case verifies (status replayed from the events)
    assert admin.resume(boss, case["id"], reason="核实完毕")["status"] == "running"
    with pytest.raises(Conflict):
        admin.resume(boss, case["id"], reason="again")
    services.complete(services.actor(item["group"] + "1"), item["id"], {"decision": "approve", "opinion": "同意"})
    assert [e["payload"]["to"] for e in services.events(case["id"]) if e["type"] in ("case_suspended", "case_resumed")] \
        == ["suspended", "running"]
    _ok(services, case["id"])


# ---------------------------------------------------------------- correct data
def test_corrected_data_reaches_every_open_task_and_verifies(services, admin):
    case = _accepted_bundle(services)
    view = admin.correct_data(services.actor("admin"), case["id"], {"applicant.name": "示例科技股份有限公司"},
                              reason=REASON)
    (event,) = _events(services, case["id"], "data_corrected")
    assert event["payload"]["changes"] == {"applicant.name": {"before": APPLICANT["name"], "after": "示例科技股份有限公司"}}
    with services.case_view_tx(case["id"]) as tx:
        from engine.runtime.admin import open_tasks

        names = {t.data["applicant"]["name"] for t in open_tasks(tx.wf)}
        assert names == {"示例科技股份有限公司"} and len(open_tasks(tx.wf)) >= 5
    _ok(services, case["id"])
    for item in view["tasks"]:  # walk it to the end: every later step sees the corrected name
        view = services.complete(services.actor(item["group"] + "1"), item["id"], {"decision": "approve", "opinion": "同意"})
    view = services.complete(services.actor("pickup1"), task_named(view, "pickup")["id"], pickup_data())
    assert view["status"] == "completed"
    assert services.case_data(case["id"])["applicant"]["name"] == "示例科技股份有限公司"
    _ok(services, case["id"])


# ---------------------------------------------------------------- migrate
def test_migrated_case_runs_on_the_new_version_and_verifies(services, admin, deployer):
    v1 = deployer("v1")
    front = services.actor("front")
    case = services.start_case(front, "mig_matter", APPLICANT, {})
    at_review = services.complete(front, task_named(case, "intake")["id"], {"ok": 1})
    v2 = deployer("v2")
    assert v2 > v1 and case["version_id"] == v1
    view = admin.migrate_version(services.actor("admin"), case["id"], v2, reason="新版增加复核环节")
    assert view["version_id"] == v2 and [t["element_id"] for t in view["tasks"]] == ["review"]
    assert view["tasks"][0]["id"] == task_named(at_review, "review")["id"]  # the open task keeps its id
    (event,) = _events(services, case["id"], "version_migrated")
    assert event["payload"]["from_version_id"] == v1 and event["payload"]["to_version_id"] == v2
    _ok(services, case["id"])
    view = services.complete(front, task_named(view, "review")["id"], {"ok": 2})
    assert [t["element_id"] for t in view["tasks"]] == ["extra"]  # the step only v2 has
    view = services.complete(front, task_named(view, "extra")["id"], {"ok": 3})
    assert view["status"] == "completed"
    _ok(services, case["id"])
    with pytest.raises(Conflict):  # completed cases stay where they are
        admin.migrate_version(services.actor("admin"), case["id"], v2, reason="again")


def test_migration_refused_when_a_reached_element_is_removed(services, admin, deployer):
    deployer("v1")
    front = services.actor("front")
    case = services.start_case(front, "mig_matter", APPLICANT, {})
    services.complete(front, task_named(case, "intake")["id"], {})
    v3 = deployer("v3")
    with pytest.raises(Conflict) as exc:
        admin.migrate_version(services.actor("admin"), case["id"], v3, reason="去掉审查")
    assert "review" in exc.value.message and exc.value.details["elements"] == ["review"]
    assert services.get_case(case["id"])["version_id"] != v3 and not _events(services, case["id"], "version_migrated")
    _ok(services, case["id"])


def test_migration_refused_past_a_split_the_new_version_extends(services, admin, deployer):
    deployer("par1", "mig_par")
    front = services.actor("front")
    case = services.start_case(front, "mig_par", APPLICANT, {})
    before = services.start_case(front, "mig_par", APPLICANT, {})  # still at intake: may move
    services.complete(front, task_named(case, "intake")["id"], {})
    v2 = deployer("par2", "mig_par")
    with pytest.raises(Conflict) as exc:
        admin.migrate_version(services.actor("admin"), case["id"], v2, reason="增加并行审查")
    assert "split" in exc.value.details["elements"]
    view = admin.migrate_version(services.actor("admin"), before["id"], v2, reason="增加并行审查")
    view = services.complete(front, task_named(view, "intake")["id"], {})
    assert sorted(t["element_id"] for t in view["tasks"]) == ["a", "b", "c"]
    for item in view["tasks"]:
        view = services.complete(front, item["id"], {})
    assert view["status"] == "completed"
    _ok(services, case["id"], before["id"])


# ---------------------------------------------------------------- CLI
def test_cli_admin_commands(services, db_url):
    from web.cli import cli

    case = _accepted_bundle(services)
    env = {"ONEWINDOW_DATABASE_URL": db_url}
    run = CliRunner().invoke
    res = run(cli, ["admin", "suspend", case["number"], "--reason", REASON, "--as", "admin"], env=env)
    assert res.exit_code == 0, res.output
    assert "suspended" in res.output
    res = run(cli, ["admin", "resume", str(case["id"]), "--as", "admin"], env=env)
    assert res.exit_code != 0 and "reason" in res.output
    res = run(cli, ["admin", "resume", str(case["id"]), "--reason", "ok", "--as", "market1"], env=env)
    assert res.exit_code == 1 and "error:" in res.output
    res = run(cli, ["admin", "resume", str(case["id"]), "--reason", "ok", "--as", "admin"], env=env)
    assert res.exit_code == 0, res.output
    res = run(cli, ["admin", "correct", case["number"], "--set", "applicant.name=新名称", "--set", 'urgent=true',
                    "--reason", REASON, "--as", "admin"], env=env)
    assert res.exit_code == 0, res.output
    (event,) = _events(services, case["id"], "data_corrected")
    assert event["payload"]["changes"]["urgent"]["after"] is True
    task = task_named(case, "review")["id"]
    res = run(cli, ["admin", "reassign", task, "--to-user", "market2", "--reason", REASON, "--as", "admin"], env=env)
    assert res.exit_code == 0, res.output
    res = run(cli, ["admin", "migrate", case["number"], "--to", str(case["version_id"]), "--reason", "x",
                    "--as", "admin"], env=env)
    assert res.exit_code == 1 and "error:" in res.output
    res = run(cli, ["audit", "verify", "--all"], env=env)
    assert res.exit_code == 0, res.output
    assert [e["type"] for e in services.events(case["id"])][3:] == [
        "document_issued", "case_suspended", "case_resumed", "data_corrected", "task_reassigned"]


