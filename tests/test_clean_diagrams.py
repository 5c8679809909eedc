"""Clean diagrams: the generator lays shapes out apart and labels every conditional flow; the case page's diagram
has a legend in the page's language; every page has an icon."""
from __future__ import annotations

import re

import pytest

from engine.model.catalogue import check
from engine.model.diagram import LEGEND
from engine.model.lint import DIAGRAM_RULES, tally
from tests.test_web import accept, login
from tools.bpmngen import Process
from web import create_app


@pytest.fixture
def app(services, db_url):
    return create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})


def _colliding() -> Process:
    """What the catalogue once drew: a join placed in the column of a task, an end event in a gateway's cell."""
    p = Process("crowded", "挤在一起", dialect="spiff")
    p.start("start", "开始")
    p.par("split", "分")
    p.user("a", "甲", col=2, row=-0.5)
    p.user("b", "乙", col=2, row=0.5)
    p.par("join", "合", col=2)                                    # on top of 甲 and 乙
    p.xor("gw", "通过？", col=3, default="Flow_gw_end")
    p.end("end", "结束", col=3)                                   # on top of the gateway
    p.end("end_no", "不通过", col=4, row=1)
    p.chain("start", "split")
    for t in ("a", "b"):
        p.flow("split", t)
        p.flow(t, "join")
    p.flow("join", "gw")
    p.flow("gw", "end", fid="Flow_gw_end")
    p.flow("gw", "end_no", cond="passed == False", name="不通过")
    return p


def test_the_generator_lays_colliding_shapes_apart(tmp_path):
    path = tmp_path / "crowded.bpmn"
    _colliding().write(str(path))
    result = check([str(path)])
    assert result.ok, [str(p) for p in result.problems]
    assert tally(result.warnings) == {rule: 0 for rule in DIAGRAM_RULES}
    from tests.test_lint import bpmnlint_overlaps

    assert bpmnlint_overlaps(path) == []
    text = path.read_text(encoding="utf-8")
    x = {m[0]: float(m[1]) for m in re.findall(r'bpmnElement="(\w+)"><dc:Bounds x="([\d.]+)"', text)}
    assert x["start"] < x["split"] < x["a"] == x["b"] < x["join"] < x["gw"] < x["end"]  # arrows still point right
    assert '<bpmndi:BPMNLabel>' in text.split('id="Flow_gw_end_no_di"')[1].split("</bpmndi:BPMNEdge>")[0]


def test_the_generator_draws_a_merge_where_flows_meet(tmp_path):
    """Two flows into a task, two into the end: each pair meets at an exclusive merge drawn just before its target,
    a split's default follows its renamed flow, and the file has no lint at all."""
    p = Process("meeting", "汇合", dialect="camunda")
    p.start("start", "开始")
    p.user("work", "办理", group="front_desk")
    p.xor("gw", "通过？", default="Flow_gw_end")
    p.user("fix", "补正", group="front_desk", col=2, row=1.2)
    p.user("note", "备案", group="front_desk", col=3, row=-1.2)
    p.end("end", "结束", col=4)
    p.chain("start", "work", "gw")
    p.flow("gw", "fix", cond="passed == False", name="不通过")
    p.flow("fix", "work")
    p.flow("gw", "note", cond="passed == 'filed'", name="备案")
    p.flow("gw", "end")
    p.flow("note", "end")
    path = tmp_path / "meeting.bpmn"
    p.write(str(path))
    assert p.xml() == path.read_text(encoding="utf-8")  # drawing again changes nothing
    flows = {(f["src"], f["tgt"]) for f in p.flows}
    assert {("start", "merge_work"), ("fix", "merge_work"), ("merge_work", "work"), ("gw", "merge_end"),
            ("note", "merge_end"), ("merge_end", "end")} <= flows
    assert next(n for n in p.nodes if n["id"] == "gw")["default"] == "Flow_gw_merge_end"
    result = check([str(path)])
    assert result.ok and [str(w) for w in result.warnings if not w.message.startswith("guide: ")] == []
    from tests.test_lint import bpmnlint_overlaps

    assert bpmnlint_overlaps(path) == []
    x = {m[0]: float(m[1]) for m in re.findall(r'bpmnElement="(\w+)"><dc:Bounds x="([\d.]+)"', path.read_text())}
    assert x["start"] < x["merge_work"] < x["work"] < x["gw"] < x["merge_end"] < x["end"]


def test_the_generator_refuses_a_conditional_flow_without_a_label():
    p = Process("p", "p")
    p.start("start")
    p.xor("gw", "?")
    with pytest.raises(ValueError, match="needs a name"):
        p.flow("start", "gw", cond="x == 1")


def test_the_case_diagram_has_a_legend_in_the_pages_language(app):
    client = login(app, "front")
    _number, case_id, _ = accept(client)
    page = client.get(f"/cases/{case_id}").text
    legend = re.search(r'<ul class="legend" id="diagram-legend">(.*?)</ul>', page, re.S)
    assert legend and [s for s, *_ in LEGEND] == re.findall(r'data-state="(\w+)"', legend.group(1))
    assert all(str(label) in legend.group(1) for _s, label, *_ in LEGEND)
    assert "已完成" in legend.group(1) and "进行中" in legend.group(1) and "未到达" in legend.group(1)
    # the colours are the diagram's own: a completed element is filled like the swatch
    for state, _label, fill, stroke in LEGEND[:2]:
        assert f"background:{fill};border-color:{stroke}" in legend.group(1)
        assert f".{state} .outline{{stroke:{stroke};fill:{fill}" in page
    english = client.get(f"/cases/{case_id}?lang=en").text
    legend = re.search(r'<ul class="legend" id="diagram-legend">(.*?)</ul>', english, re.S).group(1)
    assert "completed" in legend and "in progress" in legend and "not reached" in legend
    assert not re.search(r"[\u4e00-\u9fff]", legend)


def test_every_page_links_an_icon_that_is_served(app):
    client = app.test_client()
    page = client.get("/login").text
    links = re.findall(r'<link rel="icon" href="([^"]+)"', page)
    assert len(links) == 2
    for href in links + ["/favicon.ico"]:
        r = client.get(href)
        assert r.status_code == 200, href
        assert r.mimetype in ("image/svg+xml", "image/vnd.microsoft.icon"), (href, r.mimetype)
    assert client.get("/favicon.ico").data[:4] == b"\0\0\1\0"  # an ICO file


def test_a_decision_without_a_drd_shape_is_reported(tmp_path):
    from engine.model.catalogue import PROCESSES_DIR

    text = (PROCESSES_DIR / "unemp_rules.dmn").read_text(encoding="utf-8")
    assert check([str(PROCESSES_DIR / "unemp_rules.dmn")]).warnings == []
    bare = re.sub(r"\s*<dmndi:DMNDI.*</dmndi:DMNDI>", "", text, flags=re.S)
    assert "DMNShape" not in bare
    path = tmp_path / "unemp_rules.dmn"
    path.write_text(bare, encoding="utf-8")
    result = check([str(path)])
    assert result.ok and [str(w).split(": ", 1)[1] for w in result.warnings] == [
        "unemp_rules: warning: lint: this decision has no shape in the decision requirements diagram (DMNDI) "
        "[no-diagram]"]
    assert tally(result.warnings)["no-diagram"] == 1
