"""Versions side by side: what a new version changes (elements, forms field by field, other files), and
`onewindow deploy --dry-run`, which also says how many running cases sit on each older version and where."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from engine.db import ProcessVersion
from engine.model.versions import Change, diff_versions
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


TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="http://example.com/versions">
<bpmn:process id="vp" name="版本" isExecutable="true">
<bpmn:startEvent id="start" />
<bpmn:userTask id="review" name="审核" camunda:candidateGroups="{group}" camunda:formKey="review" camunda:dueDate="{due}" />
<bpmn:exclusiveGateway id="gw" default="f_no" />
<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>{timer}</bpmn:timeDuration>
</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:callActivity id="call" calledElement="{called}" />
<bpmn:scriptTask id="map"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
<bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw" />
<bpmn:sequenceFlow id="f_yes" name="同意" sourceRef="gw" targetRef="wait">
<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="end" />
<bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="call" />
<bpmn:sequenceFlow id="f4" sourceRef="call" targetRef="map" />
<bpmn:sequenceFlow id="f5" sourceRef="map" targetRef="end" />
</bpmn:process>
</bpmn:definitions>
"""
OLD = dict(group="market", due="P3D", timer='"PT1H"', called="sub_a", script="x = 1", condition="ok == True")
REVIEW = {"type": "object", "required": ["decision", "opinion"], "properties": {
    "decision": {"type": "string", "enum": ["approve", "reject"]}, "opinion": {"type": "string", "maxLength": 200}}}


def test_conditions_timers_calls_and_forms_field_by_field():
    new = dict(OLD, group="tax", due="P5D", timer='"PT2H"', called="sub_b", script="x = 2", condition="ok is True")
    review = json.loads(json.dumps(REVIEW))
    review["properties"]["decision"]["enum"].append("defer")
    review["properties"]["score"] = {"type": "integer"}
    review["required"] = ["decision", "score"]
    del review["properties"]["opinion"]
    diff = diff_versions("vp",
                         {"vp.bpmn": TEMPLATE.format(**OLD).encode(), "review.json": json.dumps(REVIEW).encode(),
                          "rules.dmn": b"<a/>"},
                         {"vp.bpmn": TEMPLATE.format(**new).encode(), "review.json": json.dumps(review).encode(),
                          "rules.dmn": b"<b/>"})
    assert diff.lines("") == [
        '~ userTask review "审核": group market -> tax; due P3D -> P5D',
        '~ intermediateCatchEvent (timer) wait: timer timeDuration "PT1H" -> timeDuration "PT2H"',
        "~ callActivity call: calls sub_a -> sub_b",
        "~ scriptTask map: script x = 1 -> x = 2",
        '~ sequenceFlow f_yes "同意": condition ok == True -> ok is True',
        "~ form review field decision: enum approve, reject -> approve, reject, defer",
        "- form review field opinion (type string; required true)",
        "+ form review field score (type integer; required true)",
        "~ file rules.dmn"]
    same = {"vp.bpmn": TEMPLATE.format(**OLD).encode()}
    assert diff_versions("vp", same, dict(same)).empty


def _versions(services, pid):
    with services.uow() as s:
        return s.scalar(select(func.count()).select_from(ProcessVersion).where(ProcessVersion.process_id == pid))


def test_deploy_dry_run_prints_changes_and_where_running_cases_wait(services, cli_env, tmp_path):
    from tests.helpers import deploy_files
    from tests.migration_models import write_version
    from tests.test_migration import case_at

    procs, forms = write_version(tmp_path, "v1")
    base = {pid: vid for pid, vid, _ in deploy_files(services, procs, forms)}["mig_kinds"]
    for kind in ("user task", "user task", "parallel branch"):
        case_at(services, kind)
    procs, forms = write_version(tmp_path, "v3")
    changed = procs / "mig_kinds.bpmn"
    run = CliRunner().invoke
    res = run(cli, ["deploy", "--dry-run", str(changed), str(procs / "mig_sub.bpmn"), str(forms / "mig_review.json")],
              env=cli_env)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == f"mig_kinds: new version, compared with version {base}"
    assert '  ~ userTask intake "综合受理（新）": name 综合受理 -> 综合受理（新）' in lines
    assert '  ~ userTask a "审查A": group front_desk -> market' in lines
    assert '  + userTask final "复核" (group front_desk)' in lines
    assert f"  running cases on version {base}: 3; waiting at intake ×2, a ×1, wait ×1" in lines
    # every version pins the catalogue's decision tables, which the test's first deploy did not have
    assert lines[lines.index("  + file unemp_rules.dmn") + 1:] == [
        f"  running cases on version {base}: 3; waiting at intake ×2, a ×1, wait ×1",
        f"mig_sub: new version, compared with version {base + 1}", "  + file unemp_rules.dmn",
        "  running cases: none", "dry run: 0 new process(es), 2 new version(s), 0 unchanged; nothing was deployed"]
    assert _versions(services, "mig_kinds") == 1
    res = run(cli, ["deploy", "--dry-run", str(ROOT / "tests" / "data" / "camunda8" / "c8_permit.bpmn"),
                    str(ROOT / "tests" / "data" / "camunda8" / "c8_pickup.bpmn")], env=cli_env)
    assert res.exit_code == 0, res.output
    assert 'c8_permit: new process "Camunda 8 示例：户外广告设置许可" (no version deployed yet)' in res.output
    assert _versions(services, "c8_permit") == 0
    c8 = [str(ROOT / "tests" / "data" / "camunda8" / name) for name in ("c8_permit.bpmn", "c8_pickup.bpmn")]
    assert run(cli, ["deploy", *c8], env=cli_env).exit_code == 0
    res = run(cli, ["deploy", "--dry-run", *c8], env=cli_env)
    assert res.exit_code == 0 and "c8_permit: unchanged (version " in res.output, res.output
    assert res.output.splitlines()[-1] == "dry run: 0 new process(es), 0 new version(s), 2 unchanged; nothing was deployed"
    text = changed.read_text(encoding="utf-8")
    broken = tmp_path / "broken.bpmn"
    broken.write_text(text.replace('targetRef="final"', 'targetRef="nowhere"'), encoding="utf-8")
    line = text[: text.index('id="f_emb_final"')].count("\n") + 1
    res = run(cli, ["deploy", "--dry-run", str(broken)], env=cli_env)
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"{broken}:{line}: f_emb_final: sequence flow targetRef 'nowhere'" in res.output
