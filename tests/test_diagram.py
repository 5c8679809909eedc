"""Behaviour tests for engine.model.diagram.render_svg (BPMNDI -> SVG)."""
from __future__ import annotations

import re
import os
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from lxml import etree

from engine.model.diagram import PLACEHOLDER, render_svg

SVG = "{http://www.w3.org/2000/svg}"
MIWG = Path(os.environ.get("ONEWINDOW_MIWG", Path(__file__).resolve().parents[2] / "shared" / "conformance" / "miwg"))

# Purchase approval: pool with two lanes, start -> review -> XOR -> AND split/join -> end.
NODES = {  # id: (tag, name, (x, y, w, h))
    "Start": ("startEvent", "提交申请", (100, 80, 36, 36)),
    "Review": ("userTask", "部门经理审批", (190, 58, 100, 80)),
    "Decide": ("exclusiveGateway", "是否批准？", (345, 73, 50, 50)),
    "Rejected": ("endEvent", "驳回", (352, 200, 36, 36)),
    "Split": ("parallelGateway", "", (450, 233, 50, 50)),
    "Notify": ("serviceTask", "通知财务部门进行付款处理", (550, 170, 100, 80)),
    "Archive": ("userTask", "归档", (550, 290, 100, 80)),
    "Join": ("parallelGateway", "", (700, 233, 50, 50)),
    "End": ("endEvent", "完成", (800, 240, 36, 36)),
}
FLOWS = {  # id: (source, target, waypoints)
    "F1": ("Start", "Review", [(136, 98), (190, 98)]),
    "F2": ("Review", "Decide", [(290, 98), (345, 98)]),
    "FlowReject": ("Decide", "Rejected", [(370, 123), (370, 200)]),
    "FlowApprove": ("Decide", "Split", [(395, 98), (475, 98), (475, 233)]),
    "F4": ("Split", "Notify", [(475, 233), (475, 210), (550, 210)]),
    "F5": ("Split", "Archive", [(475, 283), (475, 330), (550, 330)]),
    "F6": ("Notify", "Join", [(650, 210), (725, 210), (725, 233)]),
    "F7": ("Archive", "Join", [(650, 330), (725, 330), (725, 283)]),
    "F8": ("Join", "End", [(750, 258), (800, 258)]),
}
LANES = {  # id: (name, bounds, members)
    "LaneApplicant": ("申请人", (60, 20, 830, 140), ["Start", "Review", "Decide"]),
    "LaneManager": ("财务部", (60, 160, 830, 240),
                    ["Rejected", "Split", "Notify", "Archive", "Join", "End"]),
}
POOL = ("Pool", "采购审批流程", (30, 20, 860, 380))


def make_bpmn(names: dict[str, str] | None = None, dx: float = 0, dy: float = 0,
              with_di: bool = True, prolog: str = "") -> bytes:
    """Build the sample document; *names* overrides node names, dx/dy shift all DI."""
    names = names or {}

    def bounds(x, y, w, h):
        return f'<dc:Bounds x="{x + dx}" y="{y + dy}" width="{w}" height="{h}"/>'

    lanes = "".join(
        f'<bpmn:lane id="{lid}" name={quoteattr(name)}>'
        + "".join(f"<bpmn:flowNodeRef>{m}</bpmn:flowNodeRef>" for m in members)
        + "</bpmn:lane>" for lid, (name, _b, members) in LANES.items())
    nodes = "".join(
        f'<bpmn:{tag} id="{nid}" name={quoteattr(names.get(nid, name))}'
        + (' default="FlowReject"' if nid == "Decide" else "") + "/>"
        for nid, (tag, name, _b) in NODES.items())
    flows = "".join(f'<bpmn:sequenceFlow id="{fid}" sourceRef="{s}" targetRef="{t}"/>'
                    for fid, (s, t, _w) in FLOWS.items())
    shapes = [(POOL[0], POOL[2])] + [(k, v[1]) for k, v in LANES.items()]
    shapes += [(k, v[2]) for k, v in NODES.items()]
    di = "".join(f'<bpmndi:BPMNShape id="{k}_di" bpmnElement="{k}">{bounds(*b)}'
                 + (f"<bpmndi:BPMNLabel>{bounds(b[0] - 7, b[1] + b[3] + 4, 50, 14)}"
                    "</bpmndi:BPMNLabel>" if k == "Start" else "")
                 + "</bpmndi:BPMNShape>" for k, b in shapes)
    di += "".join(f'<bpmndi:BPMNEdge id="{fid}_di" bpmnElement="{fid}">'
                  + "".join(f'<di:waypoint x="{x + dx}" y="{y + dy}"/>' for x, y in pts)
                  + "</bpmndi:BPMNEdge>" for fid, (_s, _t, pts) in FLOWS.items())
    diagram = (f'<bpmndi:BPMNDiagram id="D1"><bpmndi:BPMNPlane id="P1" bpmnElement="Collab">'
               f"{di}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>") if with_di else ""
    return (f"""<?xml version="1.0" encoding="UTF-8"?>{prolog}
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="Defs" targetNamespace="urn:onewindow">
  <bpmn:collaboration id="Collab">
    <bpmn:participant id="{POOL[0]}" name={quoteattr(POOL[1])} processRef="Proc"/>
  </bpmn:collaboration>
  <bpmn:process id="Proc" isExecutable="true">
    <bpmn:laneSet id="LS">{lanes}</bpmn:laneSet>{nodes}{flows}
  </bpmn:process>{diagram}
</bpmn:definitions>""").encode("utf-8")


def parse(svg: str) -> etree._Element:
    root = etree.fromstring(svg.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    return root


def group(root, eid: str) -> etree._Element:
    found = root.findall(f".//{SVG}g[@data-element-id='{eid}']")
    assert len(found) == 1, f"expected one shape for {eid}, got {len(found)}"
    return found[0]


def classes(el) -> set[str]:
    return set(el.get("class", "").split())


def text_of(g) -> str:
    """Concatenated tspans of the first <text> in a group (wrapped lines joined)."""
    return "".join(t.text or "" for t in g.find(f".//{SVG}text").iter(f"{SVG}tspan"))


def test_output_is_svg_with_style_and_cjk_font():
    root = parse(render_svg(make_bpmn()))
    assert "Noto Sans CJK SC" in root.get("font-family")
    assert "Microsoft YaHei" in root.get("font-family")
    style = root.find(f"{SVG}style").text
    for cls in (".done", ".active", ".failed", ".taken"):
        assert cls in style
    assert len(root.get("viewBox").split()) == 4


def test_every_element_has_a_shape_with_id_and_tooltip():
    root = parse(render_svg(make_bpmn(), "Proc"))
    for eid in [*NODES, *FLOWS, *LANES, POOL[0]]:
        g = group(root, eid)
        tooltip = g.find(f"{SVG}title").text
        assert eid in tooltip
    assert group(root, "Review").find(f"{SVG}title").text == "部门经理审批 (Review)"


def test_shapes_follow_element_types():
    root = parse(render_svg(make_bpmn()))
    assert group(root, "Review").find(f"{SVG}rect").get("rx") == "10"
    assert group(root, "Start").find(f"{SVG}circle") is not None
    assert "thick" in classes(group(root, "End"))
    assert "thick" not in classes(group(root, "Start"))
    for gw in ("Decide", "Split", "Join"):
        assert group(root, gw).find(f"{SVG}polygon") is not None
        assert group(root, gw).find(f"{SVG}path") is not None  # X or + marker
    edge = group(root, "F1").find(f"{SVG}polyline")
    assert edge.get("marker-end") == "url(#bpmn-arrow)"
    assert edge.get("points") == "136,98 190,98"


def test_state_classes_land_on_the_right_elements():
    root = parse(render_svg(make_bpmn(), completed={"Start", "Review"}, active={"Decide"},
                            failed={"Notify"}))
    assert "done" in classes(group(root, "Start"))
    assert "done" in classes(group(root, "Review"))
    assert "active" in classes(group(root, "Decide"))
    assert "failed" in classes(group(root, "Notify"))
    assert not classes(group(root, "Archive")) & {"done", "active", "failed"}
    assert "taken" in classes(group(root, "F1"))  # both ends completed
    assert "taken" in classes(group(root, "F2"))  # target active
    assert "taken" not in classes(group(root, "FlowApprove"))
    assert group(root, "F1").find(f"{SVG}polyline").get("marker-end") == "url(#bpmn-arrow-taken)"


def test_hostile_name_is_escaped_text():
    evil = "<script>alert(1)</script>"
    svg = render_svg(make_bpmn({"Review": evil, "Archive": 'a & b "c"'}), title=evil)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    root = parse(svg)
    assert not [el for el in root.iter() if isinstance(el.tag, str)
                and etree.QName(el).localname == "script"]
    review = group(root, "Review")
    assert review.find(f"{SVG}title").text == f"{evil} (Review)"
    assert text_of(review) == evil
    assert text_of(group(root, "Archive")) == 'a & b "c"'
    assert root.find(f"{SVG}title").text == evil


def test_chinese_names_wrap_by_character():
    root = parse(render_svg(make_bpmn()))
    lines = [t.text for t in group(root, "Notify").iter(f"{SVG}tspan")]
    assert len(lines) > 1
    assert "".join(lines) == "通知财务部门进行付款处理"


def test_negative_coordinates_are_covered_by_viewbox():
    root = parse(render_svg(make_bpmn(dx=-2000, dy=-900)))
    x, y, w, h = map(float, root.get("viewBox").split())
    assert x < 30 - 2000 and y < 20 - 900  # pool's top-left corner
    assert x + w > 890 - 2000 and y + h > 400 - 900  # pool's bottom-right corner
    assert w < 1000 and h < 500  # tight around the diagram, not around the origin


def test_no_diagram_information_gives_placeholder():
    svg = render_svg(make_bpmn(with_di=False))
    root = parse(svg)
    assert PLACEHOLDER in "".join(root.itertext())
    assert "无图形信息" in svg


def test_unknown_process_gives_placeholder_and_known_process_renders():
    assert PLACEHOLDER in render_svg(make_bpmn(), "NoSuchProcess")
    assert PLACEHOLDER not in render_svg(make_bpmn(), "Proc")


def test_doctype_is_refused():
    prolog = '<!DOCTYPE bpmn:definitions [<!ENTITY x "boom">]>'
    with pytest.raises(ValueError, match="DOCTYPE"):
        render_svg(make_bpmn(prolog=prolog))
    with pytest.raises(ValueError):
        render_svg(b"<not-closed>")


def test_lanes_and_pool_show_their_names_vertically():
    root = parse(render_svg(make_bpmn()))
    for eid, name in [(k, v[0]) for k, v in LANES.items()] + [(POOL[0], POOL[1])]:
        g = group(root, eid)
        assert "container" in classes(g)
        assert text_of(g) == name
        assert g.find(f"{SVG}g").get("transform").startswith("rotate(-90")


def test_label_bounds_are_used_for_events():
    root = parse(render_svg(make_bpmn()))
    text = group(root, "Start").find(f".//{SVG}text")
    tspan_y = float(text.find(f"{SVG}tspan").get("y"))
    assert 120 <= tspan_y <= 140  # inside the BPMNLabel bounds (y=120, h=14)


MORE = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:t="urn:t" id="D" targetNamespace="urn:t">
  <collaboration id="C">
    <participant id="P1" name="Applicant" processRef="Main"/>
    <participant id="P2" name="External bank"/>
    <messageFlow id="M1" sourceRef="T1" targetRef="P2"/>
  </collaboration>
  <process id="Main">
    <startEvent id="S"><timerEventDefinition/></startEvent>
    <callActivity id="T1" name="Call"/>
    <eventBasedGateway id="EB"/>
    <inclusiveGateway id="IG"/>
    <dataStoreReference id="DS" name="Ledger"/>
    <textAnnotation id="A"><text>Note &lt;b&gt;</text></textAnnotation>
    <boundaryEvent id="B" attachedToRef="T1" cancelActivity="false"><timerEventDefinition/></boundaryEvent>
  </process>
  <bpmndi:BPMNDiagram><bpmndi:BPMNPlane bpmnElement="C">
    <bpmndi:BPMNShape bpmnElement="P1"><dc:Bounds x="0" y="0" width="600" height="200"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape bpmnElement="P2"><dc:Bounds x="0" y="260" width="600" height="60"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape bpmnElement="t:S"><dc:Bounds x="50" y="50" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape bpmnElement="T1"><dc:Bounds x="120" y="30" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape bpmnElement="B"><dc:Bounds x="180" y="92" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape bpmnElement="EB"><dc:Bounds x="260" y="45" width="50" height="50"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape bpmnElement="IG"><dc:Bounds x="340" y="45" width="50" height="50"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape bpmnElement="DS"><dc:Bounds x="420" y="40" width="50" height="50"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape bpmnElement="A"><dc:Bounds x="480" y="120" width="100" height="40"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape bpmnElement="Ghost"><dc:Bounds x="nan" y="0" width="1" height="1"/></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge bpmnElement="M1"><di:waypoint x="170" y="110"/><di:waypoint x="170" y="260"/></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</definitions>"""


def test_other_element_types():
    root = parse(render_svg(MORE, "Main"))
    assert "thick" in classes(group(root, "T1"))
    assert group(root, "S").find(f".//{SVG}circle[@class='glyph clock']") is not None  # QName ref
    assert "dashed" in classes(group(root, "B"))  # non-interrupting boundary timer
    assert len(group(root, "B").findall(f"{SVG}circle")) >= 3  # double ring + clock
    assert group(root, "EB").find(f"{SVG}polygon[@class='glyph thin gateway-marker']") is not None
    assert group(root, "IG").find(f"{SVG}circle") is not None
    assert text_of(group(root, "DS")) == "Ledger"
    assert text_of(group(root, "A")) == "Note <b>"
    assert text_of(group(root, "P2")) == "External bank"  # black-box pool
    flow = group(root, "M1")
    assert "messageFlow" in classes(flow)
    assert flow.find(f"{SVG}polyline").get("marker-start") == "url(#bpmn-circle)"
    assert not root.findall(f".//{SVG}g[@data-element-id='Ghost']")  # non-finite bounds skipped


def test_miwg_reference_files_render():
    if not MIWG.is_dir():
        pytest.skip(f"{MIWG} not present")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    rendered, failures = 0, []
    for path in sorted(MIWG.rglob("*.bpmn")):
        data = path.read_bytes()
        try:
            doc = etree.fromstring(data, parser)
        except etree.XMLSyntaxError:
            continue  # not well-formed: out of scope
        if doc.getroottree().docinfo.doctype:
            continue
        try:
            etree.fromstring(render_svg(data).encode("utf-8"))
            rendered += 1
        except Exception as exc:  # noqa: BLE001 - collect every failure
            failures.append(f"{path.relative_to(MIWG)}: {exc!r}")
    assert not failures, "\n".join(failures[:20])
    assert rendered > 0


def test_renderer_depends_only_on_lxml_and_stdlib():
    source = Path(__file__).parents[1].joinpath("engine", "model", "diagram.py").read_text("utf-8")
    imports = set(re.findall(r"^(?:from|import) (\w+)", source, re.M))
    assert imports <= {"__future__", "math", "re", "unicodedata", "collections", "lxml"}
