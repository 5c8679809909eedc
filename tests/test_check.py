"""`onewindow check`: every kind of broken file is refused with an exact FILE:LINE: ELEMENT_ID line."""
from __future__ import annotations

import re
import subprocess
import time
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.model.bpmn import TaskMeta, build_specs, parse_xml, task_meta
from engine.model.catalogue import check
from engine.errors import BpmnProblem
from web.cli import cli

ROOT = Path(__file__).resolve().parent.parent
MIWG = Path(os.environ.get("ONEWINDOW_MIWG", Path(__file__).resolve().parents[2] / "shared" / "conformance" / "miwg"))
LINE_RE = re.compile(r"^.+:\d+: \S+: .+$")

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" '
        'targetNamespace="http://example.com/test">\n')
START = '<bpmn:startEvent id="start" />\n<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />\n'
TASK = '<bpmn:userTask id="task" camunda:candidateGroups="market" camunda:formKey="review" />\n'
END = '<bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />\n<bpmn:endEvent id="end" />\n'


def bpmn(body: str, pid: str = "p", executable: str = "true", before: str = "") -> str:
    """A definitions document holding one process with `body`."""
    return (HEAD + before + f'<bpmn:process id="{pid}" isExecutable="{executable}">\n' + body
            + "</bpmn:process>\n</bpmn:definitions>\n")


def line_of(text: str, element_id: str) -> int:
    return text[: text.index(f'id="{element_id}"')].count("\n") + 1


def problems(path: Path) -> list[str]:
    """Problem lines from the engine, checked to be well-formed lines."""
    result = check([str(path)])
    lines = [str(p) for p in result.problems]
    assert all(LINE_RE.match(line) and "\n" not in line for line in lines), lines
    assert all(":None:" not in line and ":0:" not in line for line in lines), lines
    return lines


def cli_check(*paths) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["check", *map(str, paths)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def assert_refused(tmp_path: Path, text: str, element: str, fragment: str, line: int | None = None,
                   name: str = "case.bpmn") -> list[str]:
    """The file is refused, engine and CLI alike, with FILE:LINE: ELEMENT: ...fragment..."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    line = line or line_of(text, element)
    prefix = f"{path}:{line}: {element}: "
    lines = problems(path)
    assert any(ln.startswith(prefix) and fragment in ln for ln in lines), (prefix, fragment, lines)
    code, out = cli_check(path)
    assert code == 1, out
    assert any(ln.startswith(prefix) for ln in out.splitlines()), out
    return lines


# --- the good catalogue -------------------------------------------------------------------------------------


def test_catalogue_passes():
    result = check()
    assert result.ok, result.problems
    assert result.processes and result.forms


def test_cli_binary_on_good_catalogue_exits_0_with_summary():
    proc = subprocess.run([".venv/bin/onewindow", "check"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    *warnings, summary = proc.stdout.splitlines()
    assert re.fullmatch(r"ok: \d+ file\(s\), \d+ process\(es\), \d+ form\(s\), (\d+) warning\(s\); diagrams: "
                        r"0 overlapping shape\(s\), 0 unlabelled condition\(s\), 0 element\(s\) without diagram data",
                        summary), summary
    assert int(re.search(r"(\d+) warning", summary).group(1)) == len(warnings)
    # Only the bare sample files (no service guide), lint findings (engine.model.lint) and the working-day calendar
    # (when today plus the longest statutory limit runs past the years it covers, engine.runtime.caltable) warn,
    # each on one located line; warnings never fail check without --strict.
    assert all(re.fullmatch(r".+\.bpmn:\d+: \S+: warning: (guide: no service guide.*|lint: .+ \[[a-z-]+\])", w)
               or re.fullmatch(r"calendar: warning: .*\d{4}.*", w) for w in warnings), warnings


def test_good_file_passes(tmp_path):
    path = tmp_path / "good.bpmn"
    path.write_text(bpmn(START + TASK + END))
    assert problems(path) == []
    code, out = cli_check(path)
    assert code == 0 and out.splitlines()[-1].startswith("ok: 1 file(s)"), out
    assert "warning: guide: no service guide" in out  # a bare file deploys, with a warning


def test_copy_of_catalogue_file_shadows_it(tmp_path):
    """A checked file redefining a catalogue process id replaces it instead of clashing."""
    copy = tmp_path / "sample_matter.bpmn"
    copy.write_bytes((ROOT / "processes" / "sample_matter.bpmn").read_bytes())
    assert problems(copy) == []


# --- unsafe or broken XML -------------------------------------------------------------------------------------


def test_not_well_formed(tmp_path):
    text = bpmn('<bpmn:startEvent id="start">\n')
    path = tmp_path / "bad.bpmn"
    path.write_text(text)
    lines = problems(path)
    assert len(lines) == 1 and lines[0].startswith(f"{path}:5: -: not well-formed XML: "), lines
    proc = subprocess.run([".venv/bin/onewindow", "check", str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == lines


XXE = ('<?xml version="1.0" encoding="UTF-8"?>\n'
       '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       + HEAD.split("\n", 1)[1]
       + '<bpmn:process id="p" isExecutable="true"><bpmn:documentation>&xxe;</bpmn:documentation>\n'
       + START + TASK + END + "</bpmn:process>\n</bpmn:definitions>\n")


def test_external_entity_refused_and_never_read(tmp_path):
    path = tmp_path / "xxe.bpmn"
    path.write_text(XXE)
    lines = problems(path)
    assert lines == [f"{path}:2: -: DOCTYPE/ENTITY declarations are not allowed"]
    proc = subprocess.run([".venv/bin/onewindow", "check", str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1
    assert "root:" not in proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == lines


def test_doctype_refused_even_when_the_byte_scan_cannot_see_it():
    """UTF-16 hides `<!DOCTYPE` from a byte scan; the parsed tree's doctype is checked too."""
    data = XXE.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    with pytest.raises(BpmnProblem) as exc:
        parse_xml(data, "x.bpmn")
    assert "DOCTYPE" in exc.value.message and "root:" not in exc.value.message


def test_xsd_violation(tmp_path):
    body = START + TASK + '<bpmn:sequenceFlow id="f2" targetRef="end" />\n<bpmn:endEvent id="end" />\n'
    assert_refused(tmp_path, bpmn(body), "f2", "BPMN schema: ")


def test_sequence_flow_to_missing_target(tmp_path):
    body = START + TASK + '<bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="nowhere" />\n'
    assert_refused(tmp_path, bpmn(body), "f2", "nowhere")


# --- structure ------------------------------------------------------------------------------------------------


def test_no_start_event(tmp_path):
    body = TASK + END
    assert_refused(tmp_path, bpmn(body), "p", "start")


def test_non_executable_process(tmp_path):
    assert_refused(tmp_path, bpmn(START + TASK + END, executable="false"), "p", "not executable")


def test_reserved_id(tmp_path):
    body = START.replace('"start"', '"Start"') + TASK + END
    assert_refused(tmp_path, bpmn(body), "Start", "reserved")


def test_missing_form(tmp_path):
    body = START + TASK.replace('"review"', '"no_such_form"') + END
    assert_refused(tmp_path, bpmn(body), "task", "form 'no_such_form' not found")


def test_missing_called_process(tmp_path):
    body = (START.replace('"task"', '"call"')
            + '<bpmn:callActivity id="call" calledElement="no_such_process" />\n'
            + '<bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end" />\n<bpmn:endEvent id="end" />\n')
    assert_refused(tmp_path, bpmn(body), "call", "called process not found: no_such_process")


def test_library_error_without_id_is_located_by_name(tmp_path):
    """SpiffWorkflow names a data store only by its name; the line still points at it."""
    before = '<bpmn:dataStore id="store" name="Archive" />\n'
    assert_refused(tmp_path, bpmn(START + TASK + END, before=before), "store", "Archive has no implementation")


# --- expressions and scripts ----------------------------------------------------------------------------------


def gateway(condition: str) -> str:
    """start -> gateway -(condition)-> end_a, default -> end_b; the condition sits one line below its flow."""
    return bpmn('<bpmn:startEvent id="start" />\n'
                '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw" />\n'
                '<bpmn:exclusiveGateway id="gw" default="f_default" />\n'
                '<bpmn:sequenceFlow id="f_cond" sourceRef="gw" targetRef="end_a">\n'
                f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>\n'
                '</bpmn:sequenceFlow>\n'
                '<bpmn:sequenceFlow id="f_default" sourceRef="gw" targetRef="end_b" />\n'
                '<bpmn:endEvent id="end_a" />\n<bpmn:endEvent id="end_b" />\n')


def script_task(script: str) -> str:
    return bpmn('<bpmn:startEvent id="start" />\n'
                '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="map" />\n'
                f'<bpmn:scriptTask id="map">\n<bpmn:script>{script}</bpmn:script>\n</bpmn:scriptTask>\n'
                '<bpmn:sequenceFlow id="f2" sourceRef="map" targetRef="end" />\n<bpmn:endEvent id="end" />\n')


@pytest.mark.parametrize("condition", ["__import__('os').system('id')", "().__class__.__base__.__subclasses__()"])
def test_malicious_condition_refused(tmp_path, condition):
    text = gateway(condition)
    lines = assert_refused(tmp_path, text, "f_cond", "Python expression: refused by the sandbox")
    assert len(lines) == 1


def dmn(input_entry: str = "&lt; 12", output_entry: str = '"reject"', input_expr: str = "months") -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">\n'
            '<decision id="rules" name="rules">\n<decisionTable id="table" hitPolicy="FIRST">\n'
            f'<input id="in1" label="m"><inputExpression id="ie1" typeRef="integer"><text>{input_expr}</text>'
            '</inputExpression></input>\n'
            '<output id="out1" name="decision" typeRef="string" />\n'
            f'<rule id="r1">\n<inputEntry id="r1_in"><text>{input_entry}</text></inputEntry>\n'
            f'<outputEntry id="r1_out"><text>{output_entry}</text></outputEntry>\n</rule>\n'
            '<rule id="r2">\n<inputEntry id="r2_in"><text>-</text></inputEntry>\n'
            '<outputEntry id="r2_out"><text>"manual"</text></outputEntry>\n</rule>\n'
            '</decisionTable>\n</decision>\n</definitions>\n')


@pytest.mark.parametrize("cell, element", [
    ({"input_entry": "__import__('os').system('id')"}, "r1_in"),
    ({"input_entry": "&gt; ().__class__.__base__.__subclasses__()"}, "r1_in"),
    ({"input_entry": "? in ().__class__.__base__.__subclasses__()"}, "r1_in"),
    ({"output_entry": "__import__('os').system('id')"}, "r1_out"),
    ({"input_expr": "().__class__.__base__.__subclasses__()"}, "ie1"),
])
def test_malicious_decision_table_cell_refused(tmp_path, cell, element):
    """A DMN cell runs in the same sandbox as any expression, so check refuses it too, naming the cell."""
    assert_refused(tmp_path, dmn(**cell), element, "refused by the sandbox", name="rules.dmn")


def test_good_decision_table_passes(tmp_path):
    for cell in ({}, {"input_entry": 'in ("dismissed", "contract_ended")'}, {"input_entry": "? &gt;= 12 and ? &lt; 60"},
                 {"input_entry": '"resigned"'}, {"output_entry": '"个人原因离职"'}):
        path = tmp_path / "rules.dmn"
        path.write_text(dmn(**cell), encoding="utf-8")
        assert problems(path) == [], cell


def test_good_condition_passes(tmp_path):
    path = tmp_path / "ok.bpmn"
    path.write_text(gateway("amount &gt; 1000 and 'tax' in depts"))
    assert problems(path) == []


def test_script_with_import_refused(tmp_path):
    assert_refused(tmp_path, script_task("import os\nos.system('id')"), "map", "import statements are not allowed")


def test_mapping_script_passes(tmp_path):
    path = tmp_path / "ok.bpmn"
    path.write_text(script_task("total = sum(i['amount'] for i in items)"))
    assert problems(path) == []


# --- forms ----------------------------------------------------------------------------------------------------


def test_broken_form_json(tmp_path):
    text = '{\n  "type": "object",\n  "properties": {,}\n}\n'
    assert_refused(tmp_path, text, "bad", "not valid JSON at line 3", line=3, name="bad.json")


def test_form_that_is_not_a_json_schema(tmp_path):
    text = '{\n  "type": "object",\n  "properties": {\n    "age": {"type": "integr"}\n  }\n}\n'
    assert_refused(tmp_path, text, "age_form", "invalid JSON Schema at properties.age.type", line=4,
                   name="age_form.json")


def test_form_top_level_must_be_object(tmp_path):
    assert_refused(tmp_path, '["a"]\n', "list_form", "top level", line=1, name="list_form.json")


def test_good_form_given_explicitly_is_used(tmp_path):
    """A form checked together with a process satisfies that process's formKey."""
    form = tmp_path / "extra.json"
    form.write_text('{"type": "object", "properties": {"x": {"type": "string"}}}')
    proc = tmp_path / "p.bpmn"
    proc.write_text(bpmn(START + TASK.replace('"review"', '"extra"') + END))
    assert [str(p) for p in check([str(proc), str(form)]).problems] == []
    assert problems(proc) == [f"{proc}:{line_of(proc.read_text(), 'task')}: task: form 'extra' not found in forms/"]


def test_unknown_file_kind(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    assert problems(path) == [f"{path}:1: -: not a BPMN (.bpmn/.xml), DMN (.dmn) or form (.json) file"]


def test_missing_file(tmp_path):
    code, out = cli_check(tmp_path / "nope.bpmn")
    assert code == 1 and f"{tmp_path / 'nope.bpmn'}:1: -: no such file or directory" in out


# --- both designer dialects read into the same TaskMeta -------------------------------------------------------

CAMUNDA = bpmn(START + '<bpmn:userTask id="task" camunda:candidateGroups="market, tax" camunda:candidateUsers="market1" '
               'camunda:dueDate="P3D" camunda:formKey="review">\n<bpmn:extensionElements><camunda:properties>'
               '<camunda:property name="level" value="city" /></camunda:properties></bpmn:extensionElements>\n'
               '</bpmn:userTask>\n' + END, pid="camunda_p")

SPIFF = bpmn('<bpmn:laneSet id="lanes"><bpmn:lane id="lane_market" name="market">'
             '<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>task</bpmn:flowNodeRef>'
             '<bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>\n'
             + START + '<bpmn:userTask id="task">\n<bpmn:extensionElements><spiffworkflow:properties>'
             '<spiffworkflow:property name="formJsonSchemaFilename" value="review.json" />'
             '<spiffworkflow:property name="dueDate" value="P3D" />'
             '<spiffworkflow:property name="candidateUsers" value="market1" />'
             '</spiffworkflow:properties></bpmn:extensionElements>\n</bpmn:userTask>\n' + END, pid="spiff_p")


def test_camunda_dialect_task_meta(tmp_path):
    spec = build_specs({"c.bpmn": CAMUNDA.encode()}, "camunda_p").spec
    assert task_meta(spec.task_specs["task"]) == TaskMeta(form="review", groups=["market", "tax"], users=["market1"],
                                                           due="P3D", properties={"level": "city"})


def test_spiffarena_dialect_task_meta():
    spec = build_specs({"s.bpmn": SPIFF.encode()}, "spiff_p").spec
    meta = task_meta(spec.task_specs["task"])
    assert (meta.form, meta.groups, meta.users, meta.due) == ("review", ["market"], ["market1"], "P3D")


@pytest.mark.parametrize("text", [CAMUNDA, SPIFF], ids=["camunda", "spiffarena"])
def test_both_dialects_pass_check(tmp_path, text):
    path = tmp_path / "dialect.bpmn"
    path.write_text(text)
    assert problems(path) == []
    assert [w.message for w in check([str(path)]).warnings if not w.message.startswith("lint: ")] == [
        "guide: no service guide (办事指南); defaults are derived from the diagram"]


# --- the MIWG conformance corpus ------------------------------------------------------------------------------


@pytest.mark.skipif(not MIWG.is_dir(), reason=f"MIWG corpus not present at {MIWG}")
def test_miwg_corpus_never_crashes_check(tmp_path):
    """Every file from ~40 tools is accepted or refused with located problem lines; nothing escapes check().

    Checked one file at a time (the tools reuse process ids) against an empty catalogue, so the time
    measures the files, not our catalogue (about 15 s for 831 files on 2 cores).
    """
    files = sorted(MIWG.rglob("*.bpmn"))
    assert len(files) > 800
    accepted = refused = 0
    started = time.monotonic()
    for path in files:
        result = check([str(path)], processes_dir=tmp_path, forms_dir=tmp_path)
        lines = [str(p) for p in result.problems]
        assert result.ok == (not lines)
        assert all(LINE_RE.match(ln) and "\n" not in ln and ln.startswith(f"{path}:") for ln in lines), lines
        accepted, refused = accepted + result.ok, refused + (not result.ok)
    elapsed = time.monotonic() - started
    print(f"MIWG: {len(files)} files, {accepted} accepted, {refused} refused, {elapsed:.1f} s")
    assert accepted + refused == len(files)
    assert accepted > 0
    assert elapsed < 60


# ---------------------------------------------------------------- the one-window rules a diagram declares
def ruled(rule: str, extra: str = "", kind: str = "userTask") -> str:
    props = f'<camunda:property name="rule" value="{rule}" />{extra}'
    return (START + f'<bpmn:{kind} id="task" camunda:candidateGroups="market" camunda:formKey="review">'
            f"<bpmn:extensionElements><camunda:properties>{props}</camunda:properties></bpmn:extensionElements>"
            f"</bpmn:{kind}>\n" + END)


def test_an_unknown_rule_is_refused_at_its_task(tmp_path):
    text = bpmn(ruled("approve_everything"))
    assert_refused(tmp_path, text, "task", "unknown rule 'approve_everything'", line_of(text, "task"))


def test_a_rule_parameter_out_of_range_is_refused(tmp_path):
    text = bpmn(ruled("review", '<camunda:property name="level" value="4" />'))
    assert_refused(tmp_path, text, "task", "levels are 1 to 3")


def test_a_rule_on_the_wrong_kind_of_element_is_refused(tmp_path):
    text = bpmn(ruled("auto_decision"))  # a script's rule on a user task
    assert_refused(tmp_path, text, "task", "rule 'auto_decision' belongs on a ScriptTask")


def test_a_matter_under_the_window_rules_must_have_the_tasks_its_guide_calls_for(tmp_path):
    """A guide with a deferrable material but no 补齐 task, and a user task without a rule, is refused."""
    import json

    guide = {"code": "x", "name": "测试事项", "type": "行政许可", "department": "市场监管局", "handling": "承诺件",
             "statutory_days": 5, "promised_days": 2,
             "materials": [{"id": "lease", "name": "租赁合同", "deferrable": True}]}
    ext = ('<bpmn:extensionElements><ow:guide xmlns:ow="https://onewindow.example/bpmn/guide">'
           f"{json.dumps(guide, ensure_ascii=False)}</ow:guide></bpmn:extensionElements>\n")
    text = bpmn(ext + START + TASK + END, pid="m_x")
    path = tmp_path / "m_x.bpmn"
    path.write_text(text, encoding="utf-8")
    lines = problems(path)
    assert any("m_x: window rules: user task task" in line and "follows no rule" in line for line in lines), lines
    assert any("no intake task" in line for line in lines) and any("rule=supply" in line for line in lines)
    assert any("rule=pickup" in line for line in lines) and any("member x: no task decides it" in line for line in lines)
    assert all(line.startswith(f"{path}:{line_of(text, 'm_x')}: m_x:") for line in lines if "window rules" in line)


def test_the_catalogue_declares_a_rule_on_every_task_of_its_matters(catalogue):
    from engine.model.rulespec import rule_name

    assert catalogue.ok
    for pid in catalogue.processes:
        if not pid.startswith(("m_", "b_", "rv_")):
            continue
        bundle = build_specs(catalogue.files, pid)
        for ts in bundle.spec.task_specs.values():
            if getattr(ts, "manual", False):
                assert rule_name(ts), f"{pid}: {ts.bpmn_id} declares no rule"


def test_a_directory_is_checked_as_its_files_and_a_missing_path_is_named():
    from web.cli import cli
    from click.testing import CliRunner

    res = CliRunner().invoke(cli, ["check", "processes", "forms"])
    assert res.exit_code == 0, res.output
    assert res.output.strip().splitlines()[-1].startswith("ok: ")
    res = CliRunner().invoke(cli, ["check", "nowhere/m_x.bpmn"])
    assert res.exit_code == 1
    assert "nowhere/m_x.bpmn:1: -: no such file or directory" in res.output
