"""Versions side by side: what a new version changes (elements, forms field by field, other files), and
`onewindow deploy --dry-run`, which also says how many running cases sit on each older version and where."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from engine.db import ProcessVersion
from engine.model.versions import Change, diff_versions
from tests.conftest import APPLICANT
from tests.helpers import task_named
from tests.migration_models import kinds_bpmn, review_form, sub_bpmn
from web.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def files(version: str) -> dict[str, bytes]:
    return {"mig_kinds.bpmn": kinds_bpmn(version).encode(), "mig_sub.bpmn": sub_bpmn().encode(),
            "mig_review.json": json.dumps(review_form(version)).encode()}


def by_id(diff):
    return {e.element_id: e for e in diff.elements}


def test_elements_added_removed_and_changed():
    diff = diff_versions("mig_kinds", files("v2"), files("v5"))  # v5 drops the timer
    elements = by_id(diff)
    assert elements["wait"].kind == "removed" and elements["wait"].type == "intermediateCatchEvent (timer)"
    assert elements["wait"].described["timer"] == 'timeDuration "PT0S" if fast else "PT1H"'
    assert {e.element_id for e in diff.elements if e.kind == "added"} == {"f_split_b"}
    assert "b" not in elements  # its flows changed, not the task itself
    diff = diff_versions("mig_kinds", files("v1"), files("v3"))
    elements = by_id(diff)
    assert elements["final"].kind == "added" and elements["final"].described["group"] == ["front_desk"]
    assert elements["intake"].changes == [Change("name", "综合受理", "综合受理（新）")]
    assert elements["a"].changes == [Change("group", ["front_desk"], ["market"])]
    assert elements["f_emb_end"].kind == "removed" and elements["f_final_end"].kind == "added"
    (form,) = diff.forms
    assert (form.form, form.kind, [(f.field, f.kind) for f in form.fields]) == ("mig_review", "changed",
                                                                                [("note", "added")])
    lines = diff.lines()
    assert '  ~ userTask a "审查A": group front_desk -> market' in lines
    assert "  + form mig_review field note (type string)" in lines


def test_conditions_timers_calls_and_forms_field_by_field():
    old = (ROOT / "processes" / "sample_matter.bpmn").read_text(encoding="utf-8")
    new = (old.replace("accepted == True", "accepted is True")
              .replace('camunda:candidateGroups="market" camunda:formKey="review" camunda:dueDate="P3D"',
                       'camunda:candidateGroups="tax" camunda:formKey="review" camunda:dueDate="P5D"'))
    review = json.loads((ROOT / "forms" / "review.json").read_text(encoding="utf-8"))
    changed = json.loads(json.dumps(review))
    changed["properties"]["decision"]["enum"].append("defer")
    changed["properties"]["score"] = {"type": "integer"}
    changed["required"] = ["decision", "opinion", "score"]
    del changed["properties"]["opinion"]
    diff = diff_versions("sample_matter",
                         {"sample_matter.bpmn": old.encode(), "review.json": json.dumps(review).encode(),
                          "rules.dmn": b"<a/>"},
                         {"sample_matter.bpmn": new.encode(), "review.json": json.dumps(changed).encode(),
                          "rules.dmn": b"<b/>"})
    assert [str(line) for line in diff.lines("")] == [
        '~ userTask dept_review "审核": group market -> tax; due P3D -> P5D',
        '~ sequenceFlow Flow_gw_accepted_dept_accept "受理": condition accepted == True -> accepted is True',
        "~ form review field decision: enum approve, reject -> approve, reject, defer",
        "- form review field opinion (type string; required true)",
        "+ form review field score (type integer; required true)",
        "~ file rules.dmn"]
    assert diff_versions("sample_matter", {"sample_matter.bpmn": old.encode()},
                         {"sample_matter.bpmn": old.encode()}).empty


def _versions(services, pid):
    with services.uow() as s:
        return s.scalar(select(func.count()).select_from(ProcessVersion).where(ProcessVersion.process_id == pid))


def test_deploy_dry_run_prints_changes_and_where_running_cases_wait(services, cli_env, tmp_path):
    front = services.actor("front")
    for accept in (False, True, True):
        case = services.start_case(front, "sample_matter", APPLICANT, {})
        if accept:
            services.complete(front, task_named(case, "intake")["id"], {"accepted": True})
    with services.uow() as s:
        base = services.latest_version(s, "sample_matter").id
    text = (ROOT / "processes" / "sample_matter.bpmn").read_text(encoding="utf-8")
    changed = tmp_path / "sample_matter.bpmn"
    changed.write_text(text.replace('camunda:candidateGroups="market" camunda:formKey="review" camunda:dueDate="P3D"',
                                    'camunda:candidateGroups="tax" camunda:formKey="review" camunda:dueDate="P3D"'),
                       encoding="utf-8")
    run = CliRunner().invoke
    res = run(cli, ["deploy", "--dry-run", str(changed)], env=cli_env)
    assert res.exit_code == 0, res.output
    assert res.output.splitlines() == [
        f"sample_matter: new version, compared with version {base}",
        '  ~ userTask dept_review "审核": group market -> tax',
        f"  running cases on version {base}: 3; waiting at dept_accept ×2, intake ×1",
        "dry run: 0 new process(es), 1 new version(s), 0 unchanged; nothing was deployed"]
    assert _versions(services, "sample_matter") == 1
    res = run(cli, ["deploy", "--dry-run", str(ROOT / "processes" / "sample_matter.bpmn"),
                    str(ROOT / "tests" / "data" / "camunda8" / "c8_permit.bpmn"),
                    str(ROOT / "tests" / "data" / "camunda8" / "c8_pickup.bpmn")], env=cli_env)
    assert res.exit_code == 0, res.output
    assert f"sample_matter: unchanged (version {base})" in res.output
    assert 'c8_permit: new process "Camunda 8 示例：户外广告设置许可" (no version deployed yet)' in res.output
    assert _versions(services, "c8_permit") == 0
    broken = tmp_path / "broken.bpmn"
    broken.write_text(text.replace('targetRef="dept_review"', 'targetRef="nowhere"'), encoding="utf-8")
    res = run(cli, ["deploy", "--dry-run", str(broken)], env=cli_env)
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"{broken}:49: Flow_dept_accept_dept_review: sequence flow targetRef 'nowhere'" in res.output
