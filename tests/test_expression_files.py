"""Expression languages read from the files: which language each expression is in, Camunda 7 (JUEL) and
Camunda 8 (FEEL) diagrams run through parallel review, the FEEL decision table, `onewindow check`'s located
messages, and the MIWG corpus read in its own languages."""
from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.util.task import TaskState

from engine.model.bpmn import build_specs, parse_xml
from engine.model.catalogue import PROCESSES_DIR, check
from engine.model.expressions import feel
from engine.model.expressions.dialect import bpmn_language, bpmn_sources, dmn_cells
from engine.model.sandbox import make_script_engine
from test_check import HEAD, LINE_RE, assert_refused, bpmn, dmn, gateway, line_of, problems

DATA_DIR = Path(__file__).resolve().parent / "data"
MIWG = Path(os.environ.get("ONEWINDOW_MIWG", Path(__file__).resolve().parents[2] / "shared" / "conformance" / "miwg"))


# --- which language -------------------------------------------------------------------------------------------

def condition(text: str, defs: str = "", attrs: str = 'xsi:type="bpmn:tFormalExpression"'):
    """The conditionExpression element of a small document, and the document's root."""
    doc = (HEAD.replace('targetNamespace', f'{defs} targetNamespace') +
           f'<bpmn:process id="p" isExecutable="true"><bpmn:sequenceFlow id="f" sourceRef="a" targetRef="b">'
           f'<bpmn:conditionExpression {attrs}>{text}</bpmn:conditionExpression></bpmn:sequenceFlow>'
           '</bpmn:process></bpmn:definitions>')
    root = parse_xml(doc.encode(), "x.bpmn").getroot()
    return root.find(".//{*}conditionExpression"), root


FEEL_URI = 'expressionLanguage="https://www.omg.org/spec/DMN/20191111/FEEL/"'

LANGUAGES = [  # (text, definitions attributes, expression attributes, language)
    ("accepted == True", "", 'xsi:type="bpmn:tFormalExpression"', "python"),
    ("results.get('x', {}).get('decision') == 'approve'", "", "", "python"),
    ("${approved}", "", "", "juel"),
    ("${amount &gt; 1000 &amp;&amp; type == 'A'}", 'expressionLanguage="http://www.w3.org/1999/XPath"', "", "juel"),
    ("#{approved}", "", "", "juel"),
    ("= approved", "", "", "feel"),
    ("=fraud", 'expressionLanguage="http://www.w3.org/TR/XPath"', "", "feel"),
    ('Vacation Approval = "Approved"', FEEL_URI, "", "feel"),
    ("approved", FEEL_URI, "", "feel"),
    ('Vacation Approval = "Approved"', "", "", "feel"),          # not Python, but FEEL
    ("approved", 'expressionLanguage="juel"', "", "juel"),
    ("approved", "", 'language="feel"', "feel"),
    ("approved", FEEL_URI, 'language="python"', "python"),          # the expression's own language wins
    ("x &gt; 1", "", 'language="http://www.python.org/"', "python"),
    ("bpmn:getDataObject('approved')", "", "", "xpath"),
    ("not(bpmn:getDataObject('approved'))", 'expressionLanguage="http://www.w3.org/1999/XPath"', "", "xpath"),
    ("${approved}", "", 'language="text/javascript"', "text/javascript"),
    ("true", 'expressionLanguage="http://groovy.codehaus.org/"', "", "http://groovy.codehaus.org/"),
    ("Condition", "", 'xsi:type="bpmn:tExpression"', "informal"),
    ("${approved}", "", 'xsi:type="bpmn:tExpression" language="python"', "juel"),  # informal: no language attribute
    ("Service Level == 'Premium'", "", "", "python"),                 # neither Python nor FEEL: reported as Python
    ('note == "${x}"', "", "", "python"),                              # a Python string that happens to hold ${
    ("PT${minutes}M", "", "", "juel"),                                 # composite JUEL
]


@pytest.mark.parametrize("text, defs, attrs, language", LANGUAGES, ids=[f"{t} [{d} {a}]" for t, d, a, _ in LANGUAGES])
def test_language_is_read_from_the_file(text, defs, attrs, language):
    el, root = condition(text, defs, attrs)
    assert bpmn_language(el, root, "expression").language == language


@pytest.mark.parametrize("text, literal", [("P3D", True), ("PT48H", True), ("R3/PT1H", True), ("R1/P5D", True),
                                           ("2026-12-01T09:00:00", True), ("1970-01-01T00:00:00", True),
                                           ('"PT48H"', False), ("P3X", False), ("due", False)])
def test_iso_timer_values_are_literals(text, literal):
    doc = (HEAD + f'<bpmn:process id="p" isExecutable="true"><bpmn:timeDuration>{text}</bpmn:timeDuration>'
           '</bpmn:process></bpmn:definitions>')
    root = parse_xml(doc.encode(), "x.bpmn").getroot()
    written = bpmn_language(root.find(".//{*}timeDuration"), root, "timer")
    assert written.literal is literal
    if literal:
        assert written.stored() == repr(text)


def test_script_format_other_than_python_is_refused(tmp_path):
    text = bpmn('<bpmn:startEvent id="start" />\n<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="map" />\n'
                '<bpmn:scriptTask id="map" scriptFormat="groovy">\n<bpmn:script>x = 1</bpmn:script>\n</bpmn:scriptTask>\n'
                '<bpmn:sequenceFlow id="f2" sourceRef="map" targetRef="end" />\n<bpmn:endEvent id="end" />\n')
    assert_refused(tmp_path, text, "map", "groovy script: not supported (scriptFormat 'groovy'); scripts are Python")


# --- check: located messages in each language -----------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("${amount = 1}", "JUEL expression: unexpected character '=' (JUEL compares with '==' (or eq), not '=') at column 10"),
    ("${name.getClass()}", "JUEL expression: method getClass() is not supported"),
    ("= amount == 1", "FEEL expression: unexpected '=' (FEEL compares with '=', not '==') at column 11"),
    ("= foo(1)", "FEEL expression: unknown function 'foo' at column 3"),
    ("bpmn:getDataObject('approved')", "XPath expression: not supported"),
    ("amount &gt;", "Python expression: invalid syntax at column 9"),
    ("amount 1000", "Python expression: invalid syntax at column 8"),
])
def test_check_reports_language_and_column(tmp_path, text, message):
    lines = assert_refused(tmp_path, gateway(text), "f_cond", message)
    assert len(lines) == 1


def test_feel_and_juel_conditions_pass_check(tmp_path):
    for text in ("${amount &gt; 1000 &amp;&amp; type == 'A'}", '= amount &gt; 1000 and type = "A"',
                 '=some r in reviews satisfies r.decision = "reject"'):
        path = tmp_path / "ok.bpmn"
        path.write_text(gateway(text))
        assert problems(path) == [], text


def test_feel_dmn_cells_are_checked_in_feel(tmp_path):
    feel_dmn = dmn(input_entry='"dismissed",', output_entry='"reject"').replace(
        'namespace="x"', f'namespace="x" {FEEL_URI}')
    path = tmp_path / "rules.dmn"
    path.write_text(feel_dmn)
    line = line_of(feel_dmn, "r1_in")
    [refused] = problems(path)
    assert refused.startswith(f"{path}:{line}: r1_in: FEEL expression (input entry): unexpected end of expression")
    assert refused.endswith("at column 13")
    for entry in ('"dismissed","contract_ended"', "&lt; 12", "[12..60)", 'not("resigned")', "? &gt;= 12 and ? &lt; 60",
                  "true", "null"):
        path.write_text(dmn(input_entry=entry).replace('namespace="x"', f'namespace="x" {FEEL_URI}'))
        assert problems(path) == [], entry


def test_undeclared_dmn_stays_python_and_hints_at_feel(tmp_path):
    path = tmp_path / "rules.dmn"
    path.write_text(dmn(input_entry="[12..60)"))
    [line] = problems(path)
    assert "r1_in: Python expression (input entry)" in line and "it reads as FEEL: declare expressionLanguage" in line


# --- Camunda 7 (JUEL) and Camunda 8 (FEEL) diagrams through parallel review ---------------------------------

def run_review(path: Path, process_id: str, start: dict, decisions: dict[str, dict]):
    """Start the process, complete each parallel review with its data, step to the end; the workflow."""
    wf = build_specs({path.name: path.read_bytes()}, process_id).new_workflow(make_script_engine())
    wf.get_tasks(state=TaskState.READY)[0].data.update(start)
    wf.do_engine_steps()
    ready = {t.task_spec.bpmn_id: t for t in wf.get_tasks(state=TaskState.READY, manual=True)}
    assert set(ready) == set(decisions), ready
    waiting = wf.waiting_events()
    for task_id, data in decisions.items():
        ready[task_id].data.update(data)
        ready[task_id].run()
        wf.do_engine_steps()
    assert wf.is_completed()
    return wf, waiting


def ended(wf) -> set[str]:
    return {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)
            if t.task_spec.bpmn_id in ("Event_approved", "Event_refused")}


def due_in_days(waiting) -> int:
    """Working days from now to the timer's due time (a timer's days are working days: engine.runtime.timerclock)."""
    from engine.runtime.workcal import default_calendar

    [event] = waiting
    due = dt.datetime.fromisoformat(event.value)
    return default_calendar().workdays_between(dt.datetime.now(dt.timezone.utc), due)


@pytest.mark.parametrize("market, tax, name, end", [
    (True, True, "示例", "Event_approved"), (True, False, "示例", "Event_refused"), (False, True, "示例", "Event_refused"),
    (True, True, "", "Event_refused"),
])
def test_camunda7_diagram_with_juel_conditions(market, tax, name, end):
    path = DATA_DIR / "c7_joint_review.bpmn"
    assert problems(path) == []
    wf, waiting = run_review(path, "c7_joint_review", {"applicant": {"name": name}},
                             {"Activity_market": {"marketApproved": market}, "Activity_tax": {"taxApproved": tax}})
    assert ended(wf) == {end}
    assert due_in_days(waiting) == 3  # the boundary timer's plain `P3D`: three working days


@pytest.mark.parametrize("market, tax, amount, end", [
    ("approve", "approve", 3000, "Event_approved"), ("approve", "reject", 3000, "Event_refused"),
    ("reject", "approve", 3000, "Event_refused"), ("approve", "approve", 9000, "Event_refused"),
])
def test_camunda8_diagram_with_feel_conditions(market, tax, amount, end):
    path = DATA_DIR / "c8_joint_review.bpmn"
    assert problems(path) == []
    wf, waiting = run_review(path, "c8_joint_review", {"amount": amount, "reminder days": 2},
                             {"Activity_market": {"market decision": market}, "Activity_tax": {"tax decision": tax}})
    assert ended(wf) == {end}
    assert due_in_days(waiting) == 2  # =duration("P" + string(reminder days) + "D")


def test_diagrams_store_the_expressions_tagged_with_their_language():
    """What the specs hold (and replay rebuilds): the designer's text behind its language tag."""
    spec = build_specs({"c7.bpmn": (DATA_DIR / "c7_joint_review.bpmn").read_bytes()}, "c7_joint_review").spec
    conditions = [cond.args[0] for cond, _target in spec.task_specs["Gateway_decide"].cond_task_specs]
    assert all(c.startswith("@juel:${") for c in conditions), conditions


# --- the catalogue's decision table in FEEL -------------------------------------------------------------------

RULES = bpmn('<bpmn:startEvent id="start" />\n<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="rules" />\n'
             '<bpmn:businessRuleTask id="rules"><bpmn:extensionElements><spiffworkflow:calledDecisionId>'
             'unemp_rules</spiffworkflow:calledDecisionId></bpmn:extensionElements></bpmn:businessRuleTask>\n'
             '<bpmn:sequenceFlow id="f2" sourceRef="rules" targetRef="end" />\n<bpmn:endEvent id="end" />\n')


@pytest.mark.parametrize("months, reason, registered, decision, why", [
    (30, "resigned", True, "reject", "个人原因离职"), (6, "contract_ended", True, "reject", "缴费不满一年"),
    (30, "contract_ended", True, "approve", "符合条件"), (12, "dismissed", True, "approve", "符合条件"),
    (30, "contract_ended", False, "manual", "转人工"), (30, "other", True, "manual", "转人工"),
    (11, "resigned", True, "reject", "个人原因离职"),
])
def test_unemployment_rules_in_feel(months, reason, registered, decision, why):
    dmn_bytes = (PROCESSES_DIR / "unemp_rules.dmn").read_bytes()
    root = etree.fromstring(dmn_bytes)
    assert "FEEL" in root.get("expressionLanguage")
    wf = build_specs({"r.bpmn": RULES.encode(), "unemp_rules.dmn": dmn_bytes}, "p").new_workflow(make_script_engine())
    wf.get_tasks(state=TaskState.READY)[0].data.update(
        {"insured_months": months, "leaving_reason": reason, "job_registered": registered})
    wf.do_engine_steps()
    assert wf.is_completed()
    assert wf.data["auto_decision"] == decision and why in wf.data["auto_reason"]


def test_catalogue_table_cells_are_standard_feel():
    """Every cell parses as FEEL (unary tests for input entries); none is Python any more."""
    root = etree.fromstring((PROCESSES_DIR / "unemp_rules.dmn").read_bytes())
    cells = []
    for _table, inputs, rules in dmn_cells(root):
        cells += [w for _, _, w in inputs] + [w for _, cs in rules for _, _, w in cs]
    assert cells and all(w.language == "feel" for w in cells)
    for w in cells:
        if w.text != "-":
            feel.translate(w.text, unary_tests=w.kind == "tests")


# --- the MIWG corpus ---------------------------------------------------------------------------------------------

PY_SYNTAX = re.compile(r"^(.+):(\d+): (\S+): Python (expression|script)[^:]*: (?!refused by the sandbox)")


def juel_or_feel(text: str) -> bool:
    """JUEL or FEEL by its own text: a `${...}`, Camunda 8's leading `=`, or FEEL that is not Python."""
    return "${" in text or text.startswith("=") or feel.parses(text)


def _owner_id(el) -> str | None:
    while el is not None and not el.get("id"):
        el = el.getparent()
    return el.get("id") if el is not None else None


@pytest.mark.skipif(not MIWG.is_dir(), reason=f"MIWG corpus not present at {MIWG}")
def test_miwg_juel_and_feel_expressions_are_read_in_their_own_language():
    """No JUEL (`${...}`) or FEEL (`=...`, a declared FEEL, business-style FEEL) expression is reported as a
    Python syntax error: each is accepted, or refused as JUEL/FEEL with its column."""
    counts = {"juel": [0, 0], "feel": [0, 0]}   # language -> [accepted, refused]
    as_python = []
    with tempfile.TemporaryDirectory() as empty:
        for path in sorted(MIWG.rglob("*.bpmn")):
            try:
                root = parse_xml(path.read_bytes(), str(path)).getroot()
            except Exception:  # noqa: BLE001 - unsafe or broken XML is test_check's concern
                continue
            lines = [str(p) for p in check([str(path)], processes_dir=Path(empty), forms_dir=Path(empty)).problems]
            assert all(LINE_RE.match(line) for line in lines), lines
            sources = list(bpmn_sources(root))
            for el, written in sources:
                if written.language in counts:
                    prefix = f": {_owner_id(el)}: {written.language.upper()} expression"
                    refused = any(prefix in line and re.search(r"at (line \d+, )?column \d+$", line) for line in lines)
                    counts[written.language][refused] += 1
            for line in lines:
                m = PY_SYNTAX.match(line)
                if m and any(_owner_id(el) == m.group(3) and juel_or_feel(w.text) for el, w in sources):
                    as_python.append(line)
    print(f"MIWG expressions: JUEL accepted/refused {counts['juel']}, FEEL accepted/refused {counts['feel']}")
    assert sum(counts["juel"]) >= 100 and sum(counts["feel"]) >= 100, counts
    assert as_python == []


def test_script_in_another_language_never_runs():
    """Built without check, a groovy script task stops with the reason instead of running as Python."""
    text = bpmn('<bpmn:startEvent id="start" />\n<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="map" />\n'
                '<bpmn:scriptTask id="map" scriptFormat="groovy">\n<bpmn:script>x = 1</bpmn:script>\n</bpmn:scriptTask>\n'
                '<bpmn:sequenceFlow id="f2" sourceRef="map" targetRef="end" />\n<bpmn:endEvent id="end" />\n')
    wf = build_specs({"g.bpmn": text.encode()}, "p").new_workflow(make_script_engine())
    with pytest.raises(Exception, match="groovy scripts are not supported"):  # noqa: PT011 - wrapped by the library
        wf.do_engine_steps()
    assert "x" not in wf.data


def test_unsupported_condition_never_runs():
    """Built without check, an XPath condition stops with the reason at run time."""
    wf = build_specs({"x.bpmn": gateway("bpmn:getDataObject('approved')").encode()}, "p").new_workflow(
        make_script_engine())
    with pytest.raises(Exception, match="xpath expressions are not supported"):  # noqa: PT011
        wf.do_engine_steps()
