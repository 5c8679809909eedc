"""Camunda 8 files (`zeebe:` extensions, as Camunda Modeler 5 writes them) read like Camunda 7 ones, deploy and run."""
from __future__ import annotations

from pathlib import Path

from engine.audit.verify import verify_ids
from engine.model.bpmn import TaskMeta, build_specs, task_meta
from engine.model.catalogue import check
from tests.conftest import APPLICANT
from tests.helpers import deploy_files, task_named
from tests.walk import pickup_data

DATA = Path(__file__).resolve().parent / "data" / "camunda8"
FILES = {p.name: p.read_bytes() for p in sorted(DATA.glob("*.bpmn"))}


def test_the_files_are_camunda_8_as_the_modeler_writes_them():
    text = FILES["c8_permit.bpmn"].decode()
    assert 'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"' in text
    assert 'modeler:executionPlatform="Camunda Cloud"' in text and 'exporter="Camunda Modeler"' in text
    assert "camunda:" not in text and "spiffworkflow" not in text
    assert ">=accepted = true<" in text  # a FEEL condition, as the modeler writes it


def test_zeebe_declarations_read_like_camunda_7():
    bundle = build_specs(FILES, "c8_permit")
    specs = bundle.spec.task_specs
    assert task_meta(specs["Activity_0intake"]) == TaskMeta(form="intake", groups=["front_desk"])
    review = task_meta(specs["Activity_1review"])
    # task headers and zeebe:properties both become properties (a property wins over a header of the same name)
    assert (review.form, review.groups, review.users) == ("review", ["market"], ["market2"])
    assert review.properties == {"level": "district", "channel": "hall"}
    assert specs["Activity_0pickup"].spec == "c8_pickup"  # zeebe:calledElement processId
    handout = task_meta(bundle.subprocess_specs["c8_pickup"].task_specs["Activity_1handout"])
    assert (handout.form, handout.groups, handout.users) == ("pickup", ["pickup"], ["pickup1"])  # assignee offered


def _one_task(extension: str, attrs: str = "") -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
            'id="d" targetNamespace="http://bpmn.io/schema/bpmn">\n'
            '<bpmn:process id="one" isExecutable="true">\n<bpmn:startEvent id="s" />\n'
            '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />\n'
            f'<bpmn:userTask id="t" {attrs}>\n<bpmn:extensionElements>{extension}</bpmn:extensionElements>\n'
            '</bpmn:userTask>\n<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" />\n<bpmn:endEvent id="e" />\n'
            '</bpmn:process>\n</bpmn:definitions>\n').encode()


def test_form_key_due_date_and_assignees():
    meta = task_meta(build_specs({"one.bpmn": _one_task(
        '<zeebe:formDefinition formKey="camunda-forms:deployment:review" />'
        '<zeebe:assignmentDefinition assignee="tax1" candidateUsers="tax2, tax3" />'
        '<zeebe:taskSchedule dueDate="P2D" />')}, "one").spec.task_specs["t"])
    assert (meta.form, meta.groups, meta.users, meta.due) == ("review", [], ["tax1", "tax2", "tax3"], "P2D")
    camunda7 = task_meta(build_specs({"one.bpmn": _one_task("", 'camunda:assignee="tax1" camunda:candidateGroups="tax"')},
                                     "one").spec.task_specs["t"])
    assert (camunda7.groups, camunda7.users) == (["tax"], ["tax1"])


def test_a_feel_expression_for_a_group_is_refused_where_it_is(tmp_path):
    text = _one_task('<zeebe:userTask /><zeebe:assignmentDefinition candidateGroups="=reviewers" />')
    path = tmp_path / "feel.bpmn"
    path.write_bytes(text)
    result = check([str(path)])
    line = text.decode()[: text.decode().index('id="t"')].count("\n") + 1
    assert [str(p) for p in result.problems] == [
        f"{path}:{line}: t: zeebe:assignmentDefinition candidateGroups is a FEEL expression (=reviewers); "
        "give a static value (e.g. a group name)"]


def test_check_passes_the_camunda_8_files_without_lint():
    result = check([str(p) for p in sorted(DATA.glob("*.bpmn"))])
    assert result.ok, [str(p) for p in result.problems]
    assert not [str(w) for w in result.warnings if "lint:" in w.message]
    assert {"c8_permit", "c8_pickup"} <= set(result.processes)
    assert result.processes["c8_permit"].calls == {"c8_pickup"}


def test_a_camunda_8_file_deploys_and_runs(services):
    deployed = {pid: vid for pid, vid, _ in deploy_files(services, DATA)}
    assert set(deployed) == {"c8_permit", "c8_pickup"}
    front = services.actor("front")
    case = services.start_case(front, "c8_permit", APPLICANT, {})
    intake = task_named(case, "Activity_0intake")
    assert (intake["group"], intake["form"]) == ("front_desk", "intake")
    case = services.complete(front, intake["id"], {"accepted": True, "remark": "齐全"})
    review = task_named(case, "Activity_1review")
    assert (review["group"], review["form"]) == ("market", "review")
    services.add_user("market9", "pw", ["visitors"])
    assert review["id"] not in [t["id"] for t in services.list_tasks(services.actor("market9"))]
    assert review["id"] in [t["id"] for t in services.list_tasks(services.actor("market2"))]
    case = services.complete(services.actor("market2"), review["id"], {"decision": "approve", "opinion": "同意"})
    handout = task_named(case, "Activity_1handout")
    assert handout["process_id"] == "c8_pickup" and handout["group"] == "pickup"
    case = services.complete(services.actor("pickup1"), handout["id"], pickup_data())
    assert case["status"] == "completed"
    refused = services.start_case(front, "c8_permit", APPLICANT, {})
    refused = services.complete(front, task_named(refused, "Activity_0intake")["id"], {"accepted": False})
    assert refused["status"] == "completed" and refused["tasks"] == []  # the default flow
    findings = list(verify_ids(services, [case["id"], refused["id"]]))
    assert [f.kind for f in findings] == ["ok", "ok"], [f.line() for f in findings]
