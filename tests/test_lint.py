"""Lint in `onewindow check`: each rule reported as FILE:LINE: ELEMENT_ID: warning: lint: ... [rule], exit 0
unless --strict (then the same lines are errors and check exits 1)."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from engine.model.catalogue import check
from engine.model.catalogue import PROCESSES_DIR
from engine.model.lint import BPMN, BPMNDI, DC, DIAGRAM_RULES, RULES, tally
from web.cli import cli

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://example.com/lint">\n')


def model(nodes: list[tuple], flows: list[tuple], *, di: bool = True, boxes: dict | None = None,
          undrawn: tuple = ()) -> str:
    """A one-process file: nodes are (kind, id, attributes, inner xml), flows (id, source, target, name, condition).

    Every node gets its own non-overlapping shape and every flow an edge, unless `di` is off, the id is in
    `undrawn`, or `boxes` gives it other bounds (x, y, w, h)."""
    lines = ['<bpmn:process id="lint_p" name="lint" isExecutable="true">']
    for kind, nid, attrs, inner in nodes:
        lines.append(f'<bpmn:{kind} id="{nid}" {attrs}>{inner}</bpmn:{kind}>')
    for fid, src, tgt, name, cond in flows:
        label = f' name="{name}"' if name else ""
        body = (f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{cond}</bpmn:conditionExpression>'
                if cond else "")
        lines.append(f'<bpmn:sequenceFlow id="{fid}"{label} sourceRef="{src}" targetRef="{tgt}">{body}</bpmn:sequenceFlow>')
    lines.append("</bpmn:process>")
    if di:
        lines.append('<bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="plane" bpmnElement="lint_p">')
        for i, (_kind, nid, _a, _inner) in enumerate(nodes):
            if nid in undrawn:
                continue
            x, y, w, h = (boxes or {}).get(nid, (100 + 150 * i, 100, 100, 80))
            lines.append(f'<bpmndi:BPMNShape id="{nid}_di" bpmnElement="{nid}"><dc:Bounds x="{x}" y="{y}" '
                         f'width="{w}" height="{h}" /></bpmndi:BPMNShape>')
        for fid, *_ in flows:
            if fid not in undrawn:
                lines.append(f'<bpmndi:BPMNEdge id="{fid}_di" bpmnElement="{fid}"><di:waypoint x="0" y="0" />'
                             '<di:waypoint x="1" y="1" /></bpmndi:BPMNEdge>')
        lines.append("</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>")
    return HEAD + "\n".join(lines) + "\n</bpmn:definitions>\n"


def node(kind, nid, attrs="", inner=""):
    return (kind, nid, attrs, inner)


def flow(fid, src, tgt, name=None, cond=None):
    return (fid, src, tgt, name, cond)


START, END = node("startEvent", "start"), node("endEvent", "end")
GROUP = 'camunda:candidateGroups="market"'


def lint_lines(tmp_path, text: str) -> list[str]:
    path = tmp_path / "lint_p.bpmn"
    path.write_text(text, encoding="utf-8")
    result = check([str(path)])
    assert result.ok, [str(p) for p in result.problems]
    return [str(w) for w in result.warnings if ": lint: " in str(w)]


def line_of(text: str, element_id: str) -> int:
    return text[: text.index(f'id="{element_id}"')].count("\n") + 1


CASES = {
    # (the engine itself refuses several outgoing flows on a task; a start event may have them)
    "implicit-split": ([START, node("task", "t1"), node("task", "t2"), node("endEvent", "e1"), node("endEvent", "e2")],
                       [flow("f0", "start", "t1"), flow("f1", "start", "t2"), flow("f2", "t1", "e1"),
                        flow("f3", "t2", "e2")], "start"),
    "implicit-join": ([START, node("exclusiveGateway", "gw", 'default="f_b"'), node("task", "a"), node("task", "b"),
                       node("task", "t3"), END],
                      [flow("f0", "start", "gw"), flow("f_a", "gw", "a", "甲", "x == 1"), flow("f_b", "gw", "b"),
                       flow("f1", "a", "t3"), flow("f2", "b", "t3"), flow("f3", "t3", "end")], "t3"),
    "parallel-split-without-join": (
        [START, node("parallelGateway", "ps"), node("task", "a"), node("task", "b"), node("endEvent", "e1"),
         node("endEvent", "e2")],
        [flow("f0", "start", "ps"), flow("f1", "ps", "a"), flow("f2", "ps", "b"), flow("f3", "a", "e1"),
         flow("f4", "b", "e2")], "ps"),
    "no-default-flow": ([START, node("exclusiveGateway", "gw"), node("endEvent", "e1"), node("endEvent", "e2")],
                        [flow("f0", "start", "gw"), flow("f1", "gw", "e1", "是", "x == 1"),
                         flow("f2", "gw", "e2", "否", "x != 1")], "gw"),
    "unlabelled-condition": ([START, node("exclusiveGateway", "gw", 'default="f2"'), node("endEvent", "e1"),
                              node("endEvent", "e2")],
                             [flow("f0", "start", "gw"), flow("f1", "gw", "e1", None, "x == 1"),
                              flow("f2", "gw", "e2")], "f1"),
    "no-group": ([START, node("userTask", "t1"), END], [flow("f0", "start", "t1"), flow("f1", "t1", "end")], "t1"),
    "unreachable": ([START, node("task", "t1"), END, node("task", "orphan"), node("endEvent", "e2")],
                    [flow("f0", "start", "t1"), flow("f1", "t1", "end"), flow("f2", "orphan", "e2")], "orphan"),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_structural_rule_is_located(tmp_path, rule):
    nodes, flows, element = CASES[rule]
    text = model(nodes, flows)
    lines = lint_lines(tmp_path, text)
    prefix = f"{tmp_path / 'lint_p.bpmn'}:{line_of(text, element)}: {element}: warning: lint: "
    assert any(ln.startswith(prefix) and ln.endswith(f"[{rule}]") for ln in lines), (prefix, lines)
    assert {re.search(r"\[([a-z-]+)\]$", ln).group(1) for ln in lines} == {rule}, lines


def test_unreachable_names_every_unreached_element(tmp_path):
    nodes, flows, _ = CASES["unreachable"]
    lines = lint_lines(tmp_path, model(nodes, flows))
    assert [ln.split(": ")[1] for ln in lines] == ["orphan", "e2"]


def test_a_clean_diagram_has_no_lint(tmp_path):
    """Gateways split and join, conditions are labelled, a default flow, every element drawn apart, a boundary
    timer on its task's border, an expanded subprocess around its own elements."""
    sub_inner = ('<bpmn:startEvent id="s_start" /><bpmn:task id="s_task" /><bpmn:endEvent id="s_end" />'
                 '<bpmn:sequenceFlow id="s_f1" sourceRef="s_start" targetRef="s_task" />'
                 '<bpmn:sequenceFlow id="s_f2" sourceRef="s_task" targetRef="s_end" />')
    nodes = [START, node("userTask", "intake", GROUP), node("exclusiveGateway", "gw", 'default="f_no"'),
             node("parallelGateway", "split"), node("task", "a"), node("task", "b"), node("parallelGateway", "join"),
             node("subProcess", "sub", "", sub_inner), END, node("endEvent", "refused"),
             node("boundaryEvent", "late", 'attachedToRef="a" cancelActivity="false"',
                  '<bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>'),
             node("endEvent", "late_end")]
    flows = [flow("f0", "start", "intake"), flow("f1", "intake", "gw"), flow("f_yes", "gw", "split", "受理", "ok == True"),
             flow("f_no", "gw", "refused", "不予受理"), flow("f2", "split", "a"), flow("f3", "split", "b"),
             flow("f4", "a", "join"), flow("f5", "b", "join"), flow("f6", "join", "sub"), flow("f7", "sub", "end"),
             flow("f8", "late", "late_end")]
    # on task a's border; around its content; the ends after it
    boxes = {"late": (718, 162, 36, 36), "sub": (1300, 50, 400, 200), "end": (1800, 100, 36, 36),
             "refused": (1900, 100, 36, 36), "late_end": (2000, 100, 36, 36)}
    text = model(nodes, flows, boxes=boxes)
    inner = ('<bpmndi:BPMNShape id="s_start_di" bpmnElement="s_start"><dc:Bounds x="1320" y="100" width="36" height="36" />'
             '</bpmndi:BPMNShape><bpmndi:BPMNShape id="s_task_di" bpmnElement="s_task"><dc:Bounds x="1400" y="80" '
             'width="100" height="80" /></bpmndi:BPMNShape><bpmndi:BPMNShape id="s_end_di" bpmnElement="s_end">'
             '<dc:Bounds x="1600" y="100" width="36" height="36" /></bpmndi:BPMNShape>'
             '<bpmndi:BPMNEdge id="s_f1_di" bpmnElement="s_f1"><di:waypoint x="0" y="0" /><di:waypoint x="1" y="1" />'
             '</bpmndi:BPMNEdge><bpmndi:BPMNEdge id="s_f2_di" bpmnElement="s_f2"><di:waypoint x="0" y="0" />'
             '<di:waypoint x="1" y="1" /></bpmndi:BPMNEdge>')
    text = text.replace("</bpmndi:BPMNPlane>", inner + "</bpmndi:BPMNPlane>")
    assert lint_lines(tmp_path, text) == []


def test_missing_diagram_data(tmp_path):
    nodes, flows = [START, node("task", "t1"), END], [flow("f0", "start", "t1"), flow("f1", "t1", "end")]
    text = model(nodes, flows, di=False)
    (line,) = lint_lines(tmp_path, text)
    assert line.startswith(f"{tmp_path / 'lint_p.bpmn'}:{line_of(text, 'lint_p')}: lint_p: warning: lint: the process "
                           "has no diagram") and line.endswith("[no-diagram]")
    text = model(nodes, flows, undrawn=("t1", "f1"))
    lines = lint_lines(tmp_path, text)
    assert [(ln.split(": ")[1], ln.split(": warning: ")[-1]) for ln in lines] == [
        ("t1", "lint: this task has no shape in the diagram [no-diagram]"),
        ("f1", "lint: this sequenceFlow has no edge in the diagram [no-diagram]")]


def test_shapes_outside_their_pool_and_lanes_not_drawn(tmp_path):
    nodes, flows = [START, node("task", "t1"), END], [flow("f0", "start", "t1"), flow("f1", "t1", "end")]
    text = model(nodes, flows).replace('<bpmn:process id="lint_p"', '<bpmn:collaboration id="c"><bpmn:participant '
                                       'id="pool" processRef="lint_p" /></bpmn:collaboration><bpmn:process id="lint_p"')
    text = text.replace('isExecutable="true">', 'isExecutable="true"><bpmn:laneSet id="ls"><bpmn:lane id="lane1">'
                        '<bpmn:flowNodeRef>t1</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>', 1)
    text = text.replace('bpmnElement="lint_p">', 'bpmnElement="c"><bpmndi:BPMNShape id="pool_di" bpmnElement="pool" '
                        'isHorizontal="true"><dc:Bounds x="50" y="50" width="400" height="200" /></bpmndi:BPMNShape>')
    assert lint_lines(tmp_path, text) == [
        f"{tmp_path / 'lint_p.bpmn'}:{line_of(text, 'lane1')}: lane1: warning: lint: this lane has no shape in the "
        "diagram [no-diagram]",
        f"{tmp_path / 'lint_p.bpmn'}:{line_of(text, 'end')}: end: warning: lint: its shape lies outside its pool "
        "pool in the diagram [overlapping-shapes]"]


def test_overlapping_shapes(tmp_path):
    nodes, flows = [START, node("task", "t1"), node("task", "t2"), END], [
        flow("f0", "start", "t1"), flow("f1", "t1", "t2"), flow("f2", "t2", "end")]
    touching = model(nodes, flows, boxes={"t2": (350, 100, 100, 80)})  # t1 is at x 250..350: edges touch only
    assert lint_lines(tmp_path, touching) == []
    text = model(nodes, flows, boxes={"t2": (300, 120, 100, 80)})
    (line,) = lint_lines(tmp_path, text)
    assert line == (f"{tmp_path / 'lint_p.bpmn'}:{line_of(text, 't2')}: t2: warning: lint: its shape overlaps the "
                    "shape of t1 in the diagram [overlapping-shapes]")


def test_strict_makes_lint_an_error_and_check_exits_1(tmp_path):
    nodes, flows, element = CASES["no-default-flow"]
    path = tmp_path / "lint_p.bpmn"
    text = model(nodes, flows)
    path.write_text(text, encoding="utf-8")
    run = CliRunner().invoke
    res = run(cli, ["check", str(path)])
    assert res.exit_code == 0, res.output
    located = f"{path}:{line_of(text, element)}: {element}: "
    assert f"{located}warning: lint: exclusive split without a default flow" in res.output
    res = run(cli, ["check", "--strict", str(path)])
    assert res.exit_code == 1
    assert f"{located}lint: exclusive split without a default flow" in res.output
    strict = check([str(path)], strict=True)
    assert not strict.ok and not strict.warnings and all(p.severity == "error" for p in strict.problems)


def test_every_rule_is_documented_and_exercised():
    exercised = set(CASES) | {"no-diagram", "overlapping-shapes"}
    assert exercised == set(RULES)


def test_the_catalogue_has_no_lint():
    """Our own diagrams show what good BPMN looks like: every exclusive split has a default flow, flows meet at a merge
    gateway before a task or an end event. `onewindow check` over processes/ warns only of what is not a diagram's
    fault: a process without a service guide (the samples, the bundle sample's reviews) and the working-day
    calendar."""
    result = check()
    assert result.ok
    assert [str(w) for w in result.warnings if not w.message.startswith("guide: ")] == []
    res = CliRunner().invoke(cli, ["check", str(PROCESSES_DIR)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    warned = [line for line in lines if ": warning: " in line or line.startswith("calendar: warning: ")]
    assert "lint:" not in res.output
    assert all(": warning: guide: " in line or line.startswith("calendar: warning: ") for line in warned), warned
    assert re.search(rf", {len(warned)} warning\(s\); diagrams: 0 overlapping shape\(s\), 0 unlabelled condition\(s\)",
                     lines[-1]), lines[-1]


def test_the_catalogue_diagrams_are_clean():
    """Every diagram in processes/ is drawn without overlapping shapes (bpmnlint's no-overlapping-elements counts
    touching shapes too: the generator leaves a gap), every conditional flow is labelled, every element drawn."""
    result = check()
    assert tally(result.warnings + result.problems) == {rule: 0 for rule in DIAGRAM_RULES}
    out = CliRunner().invoke(cli, ["check"]).output
    assert out.splitlines()[-1].endswith("; diagrams: 0 overlapping shape(s), 0 unlabelled condition(s), "
                                         "0 element(s) without diagram data")
    for path in sorted(PROCESSES_DIR.glob("*.bpmn")):
        assert bpmnlint_overlaps(path) == [], path.name


def bpmnlint_overlaps(path) -> list[str]:
    """bpmnlint's no-overlapping-elements, read off the file: flow elements of a process whose bounds collide
    (touching counts; a boundary event and its host excepted), or lie outside their pool."""
    from lxml import etree

    root = etree.parse(str(path)).getroot()
    bounds = {}
    for shape in root.iter(BPMNDI + "BPMNShape"):
        b = shape.find(DC + "Bounds")
        bounds[shape.get("bpmnElement")] = tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
    found = set()
    for process in root.iter(BPMN + "process"):
        pool = next((bounds.get(p.get("id")) for p in root.iter(BPMN + "participant")
                     if p.get("processRef") == process.get("id")), None)
        elements = [el for el in process if el.get("id") in bounds]
        for i, a in enumerate(elements):
            x, y, w, h = bounds[a.get("id")]
            for b in elements[i + 1:]:
                if a.get("id") == b.get("attachedToRef") or b.get("id") == a.get("attachedToRef"):
                    continue
                ox, oy, ow, oh = bounds[b.get("id")]
                if x + w >= ox and ox + ow >= x and y + h >= oy and oy + oh >= y:
                    found |= {a.get("id"), b.get("id")}
            if pool and not (x >= pool[0] and y >= pool[1] and x + w <= pool[0] + pool[2]
                             and y + h <= pool[1] + pool[3]):
                found.add(a.get("id"))
    return sorted(found)
