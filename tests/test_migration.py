"""Migrating running cases: where they wait, a dry run per case (safe or not, and why), batch runs that move the safe
ones (each move an audited, replayable event), resuming an interrupted run, moving a run's cases back."""
from __future__ import annotations

from collections import Counter

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.audit.verify import verify_ids
from engine.db import Case, Event, Timer
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.runtime import admin as admin_module
from engine.runtime.admin import Admin
from engine.runtime.census import census
from engine.runtime.migration import MigrationRun, Migrations
from engine.runtime.timers import fire_due
from tests.conftest import APPLICANT
from tests.helpers import deploy_files, task_named
from tests.migration_models import write_version
from tests.walk import add_users

REASON = "新版本调整审查环节 (the new version changes the review)"
# where a case waits -> the elements it waits in
KINDS = {"user task": ["intake"], "parallel branch": ["a", "wait"], "timer and join": ["join", "wait"],
         "call activity": ["call/sub_task"], "subprocess": ["emb/emb_task"]}


@pytest.fixture
def versions(services, tmp_path):
    """versions(name) deploys that version of mig_kinds (and mig_sub) and returns the id of mig_kinds' version."""
    def deploy(version: str) -> int:
        procs, forms = write_version(tmp_path, version)
        return {pid: vid for pid, vid, _ in deploy_files(services, procs, forms)}["mig_kinds"]
    return deploy


@pytest.fixture
def migrations(services):
    add_users(services, [("super1", ["supervisor"])])  # conftest may have made it
    return Migrations(services)


def case_at(services, kind: str) -> dict:
    """A mig_kinds case on the latest version, waiting at one kind of element."""
    front = services.actor("front")
    case = services.start_case(front, "mig_kinds", APPLICANT, {"fast": kind in ("call activity", "subprocess")})
    if kind == "user task":
        return case
    case = services.complete(front, task_named(case, "intake")["id"], {"accepted": True})
    if kind == "parallel branch":
        return case
    case = services.complete(front, task_named(case, "a")["id"], {"decision": "approve", "opinion": "同意"})
    if kind == "timer and join":
        return case
    fire_due(services)  # (a timer of no time may already have passed at the last step)
    case = services.complete(front, task_named(services.get_case(case["id"]), "b")["id"], {"decision": "approve"})
    if kind == "call activity":
        return case
    return services.complete(front, task_named(case, "sub_task")["id"], {})


def snapshot(services) -> tuple:
    """Everything a dry run must leave alone: case versions and statuses, every event, every timer."""
    with services.uow() as s:
        return (s.execute(select(Case.id, Case.version_id, Case.status, Case.revision).order_by(Case.id)).all(),
                s.scalar(select(Event.id).order_by(Event.id.desc()).limit(1)),
                s.execute(select(Timer.case_id, Timer.due_at).order_by(Timer.case_id)).all())


def ok(services, ids):
    findings = list(verify_ids(services, list(ids)))
    assert [f.kind for f in findings] == ["ok"] * len(ids), [f.line() for f in findings if not f.ok]


def migrated_events(services, case_id):
    return [e for e in services.events(case_id) if e["type"] == "version_migrated"]


# ---------------------------------------------------------------- where cases wait
def test_census_finds_cases_waiting_at_every_kind_of_element(services, versions):
    v1 = versions("v1")
    cases = {kind: case_at(services, kind) for kind in KINDS}
    v2 = versions("v2")
    extra = case_at(services, "user task")
    admin_ = services.actor("admin")
    Admin(services).suspend(admin_, cases["subprocess"]["id"], reason=REASON)
    (first, second) = census(services, "mig_kinds")
    assert (first.version_id, first.running, first.suspended) == (v1, 4, 1)
    assert first.positions == Counter(p for where in KINDS.values() for p in where)
    assert {number: where for _id, number, where in first.cases} == {
        cases[k]["number"]: w for k, w in KINDS.items()}
    assert (second.version_id, second.total, second.positions) == (v2, 1, Counter(["intake"]))
    assert [number for _id, number, _ in second.cases] == [extra["number"]]


# ---------------------------------------------------------------- dry run
def test_dry_run_gives_each_case_safe_or_unsafe_and_why_and_changes_nothing(services, versions, migrations):
    versions("v1")
    cases = {kind: case_at(services, kind) for kind in KINDS}
    v5 = versions("v5")  # the timer `wait` is gone
    before = snapshot(services)
    report = migrations.plan(services.actor("super1"), "mig_kinds", "latest")
    assert snapshot(services) == before and migrations.runs() == []
    verdicts = {v.case_id: v for v in report.verdicts}
    assert report.to_version == v5 and len(verdicts) == len(KINDS)
    by_kind = {kind: verdicts[c["id"]] for kind, c in cases.items()}
    assert {k: v.waits_at for k, v in by_kind.items()} == KINDS
    assert {k for k, v in by_kind.items() if v.safe} == {"user task"}
    # a case that waits in the removed timer, or has passed it, cannot move; the elements are named
    for kind in ("parallel branch", "timer and join", "call activity", "subprocess"):
        assert ("wait", "removed in the new version, but this case has reached it") in by_kind[kind].problems, kind
    assert (report.safe, report.unsafe) == (1, 4)


def test_a_task_a_case_waits_in_that_changes_group_is_unsafe_but_elsewhere_is_fine(services, versions, migrations):
    versions("v1")
    cases = {kind: case_at(services, kind) for kind in KINDS}
    versions("v3")  # `a` goes to market
    verdicts = {v.case_id: v for v in migrations.plan(services.actor("admin"), "mig_kinds", "latest").verdicts}
    unsafe = {k: verdicts[c["id"]].problems for k, c in cases.items() if not verdicts[c["id"]].safe}
    assert unsafe == {"parallel branch": [("a", "changed in the new version while a case waits in it "
                                                "(group, form or properties)")]}


def test_a_form_the_case_filled_that_no_longer_fits_is_unsafe(services, versions, migrations):
    versions("v1")
    cases = {kind: case_at(services, kind) for kind in KINDS}
    versions("v4")  # mig_review requires `score`
    verdicts = {v.case_id: v for v in migrations.plan(services.actor("admin"), "mig_kinds", "latest").verdicts}
    filled_review = {"timer and join", "call activity", "subprocess"}  # they completed a (and b) with mig_review
    for kind, c in cases.items():
        v = verdicts[c["id"]]
        if kind in filled_review:
            assert not v.safe and v.problems[0][0] == "a", (kind, v.problems)
            assert "form mig_review changed and what was filled here no longer fits it (score: " in v.why()
            assert "必填" in v.why()  # the form's own message for the missing field
        else:
            assert v.safe, (kind, v.problems)


# ---------------------------------------------------------------- runs
def test_a_run_moves_the_safe_cases_in_batches_and_each_move_replays(services, versions, migrations):
    versions("v1")
    cases = {kind: case_at(services, kind) for kind in KINDS}
    with services.uow() as s:
        due_before = s.execute(select(Timer.case_id, Timer.due_at).order_by(Timer.case_id)).all()
    v2 = versions("v2")
    batches = []
    report = migrations.start(services.actor("super1"), "mig_kinds", v2, REASON, batch_size=2,
                              progress=lambda n, r: batches.append((n, r.count("moved"), r.count("pending"))))
    assert batches == [(1, 2, 3), (2, 4, 1), (3, 5, 0)]
    assert (report.status, report.count("moved"), report.kind) == ("done", 5, "forward")
    for c in cases.values():
        (event,) = migrated_events(services, c["id"])
        assert event["payload"] == {"from_version_id": c["version_id"], "to_version_id": v2, "reason": REASON,
                                    "run": report.run_id}
        assert event["actor"] == "super1" and event["group"] == "supervisor"
        assert services.get_case(c["id"])["version_id"] == v2
    with services.uow() as s:  # a waiting timer keeps its due time
        assert s.execute(select(Timer.case_id, Timer.due_at).order_by(Timer.case_id)).all() == due_before
    view = services.get_case(cases["user task"]["id"])
    assert task_named(view, "intake")["name"] == "综合受理（新）"  # the open work item shows the new name
    ok(services, [c["id"] for c in cases.values()])
    # the moved cases go on in the new version: emb_task now leads to `final`, which only v2 has
    front = services.actor("front")
    view = services.complete(front, task_named(services.get_case(cases["subprocess"]["id"]), "emb_task")["id"], {})
    view = services.complete(front, task_named(view, "final")["id"], {})
    assert view["status"] == "completed"
    ok(services, [c["id"] for c in cases.values()])
    again = migrations.start(services.actor("super1"), "mig_kinds", v2, REASON)  # nothing left to move
    assert again.verdicts == [] and again.status == "done"


def test_an_interrupted_run_resumes_where_it_stopped(services, versions, migrations, monkeypatch):
    versions("v1")
    cases = [case_at(services, kind) for kind in KINDS for _ in range(2)]
    v2 = versions("v2")
    real, calls = admin_module.move_case, []

    def crash_on_the_fourth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt  # the operator pressed Ctrl-C, or the machine went down, mid-batch
        return real(*args, **kwargs)

    monkeypatch.setattr(admin_module, "move_case", crash_on_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        migrations.start(services.actor("admin"), "mig_kinds", "latest", REASON, batch_size=3)
    (run,) = migrations.runs("mig_kinds")
    report = migrations.report(run.id)
    assert (run.status, report.count("moved"), report.count("pending")) == ("running", 3, 7)
    assert sum(len(migrated_events(services, c["id"])) for c in cases) == 3  # the fourth rolled back whole
    monkeypatch.setattr(admin_module, "move_case", real)
    report = migrations.resume(services.actor("admin"), run.id)
    assert (report.status, report.count("moved"), report.count("pending")) == ("done", 10, 0)
    assert [len(migrated_events(services, c["id"])) for c in cases] == [1] * 10
    assert {services.get_case(c["id"])["version_id"] for c in cases} == {v2}
    ok(services, [c["id"] for c in cases])
    assert migrations.resume(services.actor("admin"), run.id).count("moved") == 10  # a finished run stays so


def test_moving_a_run_back(services, versions, migrations):
    v1 = versions("v1")
    cases = {kind: case_at(services, kind) for kind in KINDS}
    versions("v2")
    forward = migrations.start(services.actor("admin"), "mig_kinds", "latest", REASON)
    front = services.actor("front")
    # one case goes on into `final`, which v1 does not have; another is completed (nothing to move back then)
    view = services.complete(front, task_named(services.get_case(cases["subprocess"]["id"]), "emb_task")["id"], {})
    assert [t["element_id"] for t in view["tasks"]] == ["final"]
    view = services.complete(front, task_named(services.get_case(cases["call activity"]["id"]), "sub_task")["id"], {})
    view = services.complete(front, task_named(view, "emb_task")["id"], {})
    services.complete(front, task_named(view, "final")["id"], {})
    dry = migrations.plan_back(services.actor("admin"), forward.run_id)
    assert {v.case_id: v.state for v in dry.verdicts} == {
        cases["user task"]["id"]: "pending", cases["parallel branch"]["id"]: "pending",
        cases["timer and join"]["id"]: "pending", cases["subprocess"]["id"]: "unsafe",
        cases["call activity"]["id"]: "skipped"}
    back = migrations.back(services.actor("admin"), forward.run_id, "撤回迁移 (undo)")
    states = {v.case_id: v.state for v in back.verdicts}
    assert states == {v.case_id: ("moved" if v.state == "pending" else v.state) for v in dry.verdicts}
    assert "final: removed in the new version, but this case has reached it" in \
        [v for v in back.verdicts if v.case_id == cases["subprocess"]["id"]][0].why()
    for kind in ("user task", "parallel branch", "timer and join"):
        c = cases[kind]
        assert services.get_case(c["id"])["version_id"] == v1
        assert [e["payload"]["to_version_id"] for e in migrated_events(services, c["id"])] == [
            forward.to_version, v1]
    ok(services, [c["id"] for c in cases.values()])
    with pytest.raises(Conflict):  # a move back is not itself moved back
        migrations.back(services.actor("admin"), back.run_id, "again")


def test_one_case_moves_back_only_when_asked(services, versions):
    v1 = versions("v1")
    case = case_at(services, "parallel branch")
    v2 = versions("v2")
    boss, admin_ = services.actor("admin"), Admin(services)
    admin_.migrate_version(boss, case["id"], v2, reason=REASON)  # the old signature still works
    with pytest.raises(Conflict) as exc:
        admin_.migrate_version(boss, case["id"], v1, reason="撤回")
    assert "moving it back must be asked for explicitly" in exc.value.message
    view = admin_.migrate_version(boss, case["id"], v1, reason="撤回", allow_older=True)
    assert view["version_id"] == v1
    ok(services, [case["id"]])


# ---------------------------------------------------------------- refusals
def test_bad_input_is_refused_and_changes_nothing(services, versions, migrations):
    v1 = versions("v1")
    case_at(services, "user task")
    versions("v2")
    boss, clerk = services.actor("admin"), services.actor("front")
    before = snapshot(services)
    with pytest.raises(Forbidden):
        migrations.start(clerk, "mig_kinds", "latest", REASON)
    with pytest.raises(Forbidden):
        migrations.plan(clerk, "mig_kinds", "latest")
    with pytest.raises(Invalid) as exc:
        migrations.start(boss, "mig_kinds", "latest", "  ")
    assert "reason" in exc.value.fields
    with pytest.raises(Invalid) as exc:
        migrations.start(boss, "mig_kinds", "newest", REASON)
    assert "to" in exc.value.fields
    with pytest.raises(NotFound):
        migrations.start(boss, "no_such_process", "latest", REASON)
    with pytest.raises(NotFound):
        migrations.start(boss, "mig_kinds", "99999", REASON)
    with services.uow() as s:
        sample = services.latest_version(s, "sample_matter").id
    with pytest.raises(Invalid):
        migrations.start(boss, "mig_kinds", sample, REASON)
    with pytest.raises(Invalid):
        migrations.start(boss, "mig_kinds", v1, REASON, batch_size=0)
    with pytest.raises(NotFound):
        migrations.resume(boss, 12345)
    assert snapshot(services) == before and migrations.runs() == []


# ---------------------------------------------------------------- the command
def test_cli_migrate_dry_run_run_show_and_back(services, versions, cli_env):
    from web.cli import cli

    versions("v1")
    cases = {kind: case_at(services, kind) for kind in KINDS}
    v3 = versions("v3")
    env, run = cli_env, CliRunner().invoke
    res = run(cli, ["admin", "migrate", "--process", "mig_kinds", "--to", "latest", "--dry-run", "--as", "admin"],
              env=env)
    assert res.exit_code == 0, res.output
    assert f"mig_kinds: 5 open case(s) to move to version {v3}" in res.output
    assert f"{cases['parallel branch']['number']}  version" in res.output and "UNSAFE  a: changed" in res.output
    assert "waits at: call/sub_task" in res.output and "dry run: 4 safe, 1 unsafe; nothing was changed" in res.output
    assert not any(migrated_events(services, c["id"]) for c in cases.values())
    res = run(cli, ["admin", "migrate", cases["user task"]["number"], "--to", str(v3), "--dry-run", "--as", "admin"],
              env=env)
    assert res.exit_code == 0 and res.output.endswith("safe    waits at: intake\ndry run: safe; nothing was changed\n")
    assert not migrated_events(services, cases["user task"]["id"])
    res = run(cli, ["admin", "migrate", "--process", "mig_kinds", "--to", str(v3), "--batch-size", "2",
                    "--reason", REASON, "--as", "admin"], env=env)
    assert res.exit_code == 0, res.output
    assert "batch 3: 4 moved, 1 unsafe, 0 pending" in res.output
    assert "done: 4 moved, 1 unsafe, 0 skipped, 0 pending" in res.output
    with services.uow() as s:
        run_id = s.scalar(select(MigrationRun.id))
    res = run(cli, ["admin", "migrate", "--show", str(run_id), "--as", "ghost1"], env=env)
    assert res.exit_code == 1 and "error:" in res.output  # no such user yet: refused cleanly
    res = run(cli, ["admin", "migrate", "--show", str(run_id), "--as", "admin"], env=env)
    assert res.exit_code == 0 and res.output.count(" moved\n") == 4, res.output
    res = run(cli, ["admin", "migrate", "--back", str(run_id), "--dry-run", "--as", "admin"], env=env)
    assert res.exit_code == 0 and "dry run: 4 safe, 0 unsafe" in res.output, res.output
    res = run(cli, ["admin", "migrate", "--back", str(run_id), "--reason", "撤回", "--as", "admin"], env=env)
    assert res.exit_code == 0 and "(back, mig_kinds) done: 4 moved" in res.output, res.output
    res = run(cli, ["audit", "verify", "--all"], env=env)
    assert res.exit_code == 0 and "5 case(s) verified: 5 ok, 0 failed" in res.output, res.output


@pytest.mark.parametrize("args, message", [
    (["--to", "latest"], "give exactly one of CASE, --process, --resume, --back or --show"),
    (["--process", "mig_kinds"], "--to is required"),
    (["--process", "mig_kinds", "--resume", "1", "--to", "latest"], "(got --process, --resume)"),
    (["1", "--to", "latest", "--reason", "x"], "for one case --to is a version id"),
    (["--process", "mig_kinds", "--to", "latest", "--allow-older", "--reason", "x"], "--allow-older is for one case"),
])
def test_cli_migrate_usage_errors(services, cli_env, args, message):
    from web.cli import cli

    res = CliRunner().invoke(cli, ["admin", "migrate", *args, "--as", "admin"],
                             env=cli_env)
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output, res.output


# ---------------------------------------------------------------- the acceptance run: 100 cases, two versions
def test_one_hundred_running_cases_across_two_versions(services, versions, cli_env):
    """60 cases on v1 and 40 on v2, waiting at every kind of element, move to v3 (where `a` belongs to another
    group): a dry run first, then the run, then `onewindow audit verify --all`; then the run is moved back."""
    import re
    import time

    from web.cli import cli

    v1 = versions("v1")
    kinds = list(KINDS)
    cases = [(kinds[i % 5], case_at(services, kinds[i % 5])) for i in range(60)]
    v2 = versions("v2")
    cases += [(kinds[i % 5], case_at(services, kinds[i % 5])) for i in range(40)]
    v3 = versions("v3")
    assert Counter(c["version_id"] for _, c in cases) == {v1: 60, v2: 40}
    env, run = cli_env, CliRunner().invoke

    before = snapshot(services)
    started = time.monotonic()
    res = run(cli, ["admin", "migrate", "--process", "mig_kinds", "--to", "latest", "--dry-run", "--as", "admin"],
              env=env)
    dry_s = time.monotonic() - started
    assert res.exit_code == 0, res.output
    assert snapshot(services) == before
    assert "mig_kinds: 100 open case(s) to move to version %d" % v3 in res.output
    assert "dry run: 80 safe, 20 unsafe; nothing was changed" in res.output
    unsafe_numbers = set(re.findall(r"(OW\d+)  version \d+ -> \d+  UNSAFE  a: changed in the new version while a "
                                    r"case waits in it \(group, form or properties\)", res.output))
    assert unsafe_numbers == {c["number"] for kind, c in cases if kind == "parallel branch"}

    started = time.monotonic()
    res = run(cli, ["admin", "migrate", "--process", "mig_kinds", "--to", "latest", "--batch-size", "25",
                    "--reason", REASON, "--as", "admin"], env=env)
    run_s = time.monotonic() - started
    assert res.exit_code == 0, res.output
    assert "batch 4: 80 moved, 20 unsafe, 0 pending" in res.output
    assert "done: 80 moved, 20 unsafe, 0 skipped, 0 pending" in res.output
    with services.uow() as s:
        on = dict(s.execute(select(Case.number, Case.version_id)).all())
    assert {n for n, v in on.items() if v == v3} == {c["number"] for _, c in cases} - unsafe_numbers

    started = time.monotonic()
    res = run(cli, ["audit", "verify", "--all"], env=env)
    verify_s = time.monotonic() - started
    assert res.exit_code == 0 and "100 case(s) verified: 100 ok, 0 failed" in res.output, res.output

    # the moved cases run on in v3: those in the subprocess finish through `final`, which v1 lacks
    front = services.actor("front")
    for kind, c in cases:
        if kind == "subprocess":
            view = services.complete(front, task_named(services.get_case(c["id"]), "emb_task")["id"], {})
            assert services.complete(front, task_named(view, "final")["id"], {})["status"] == "completed"
    with services.uow() as s:
        run_id = s.scalar(select(MigrationRun.id))
    res = run(cli, ["admin", "migrate", "--back", str(run_id), "--reason", "撤回 (undo)", "--as", "admin"], env=env)
    assert res.exit_code == 0, res.output
    assert "(back, mig_kinds) done: 60 moved, 0 unsafe, 20 skipped, 0 pending" in res.output
    with services.uow() as s:
        on = dict(s.execute(select(Case.number, Case.version_id)).all())
    assert all(on[c["number"]] == c["version_id"] for kind, c in cases if kind != "subprocess")
    res = run(cli, ["audit", "verify", "--all"], env=env)
    assert res.exit_code == 0 and "100 case(s) verified: 100 ok, 0 failed" in res.output, res.output
    print(f"\n100 cases: dry run {dry_s:.1f} s, run {run_s:.1f} s (80 moved, 20 unsafe), verify --all {verify_s:.1f} s")
