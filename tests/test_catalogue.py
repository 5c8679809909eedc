"""The catalogue: guides valid (engine.model.guide.check_guide), breadth, composed bundle forms, bare BPMN defaults."""
from __future__ import annotations

import json

import pytest

from engine.model.bpmn import NS, id_lines, parse_xml
from engine.model.catalogue import FORMS_DIR, PROCESSES_DIR
from engine.model.forms import members_of
from engine.model.guide import check_guide, guide_of
from tools.bpmngen import Process
from tools.catalogue import MATTERS, compose_form


def processes():
    for path in sorted(PROCESSES_DIR.glob("*.bpmn")):
        tree = parse_xml(path.read_bytes(), path.name)
        for proc in tree.getroot().iterfind("bpmn:process", NS):
            yield path, tree, proc


def guided(guide: dict):
    p = Process("m_x", "某事项", guide=guide)
    p.start("start"); p.user("review", "审查", group="market", form="review", due="P3D"); p.end("end")
    p.chain("start", "review", "end")
    tree = parse_xml(p.xml().encode(), "x.bpmn")
    return tree.getroot().find("bpmn:process", NS), id_lines(tree)


GOOD = dict(MATTERS[5]["guide"])  # 食品经营许可


def test_every_catalogue_guide_is_valid():
    seen = 0
    for path, tree, proc in processes():
        if not proc.get("id").startswith(("m_", "b_")):
            continue
        problems = check_guide(proc, path.name, id_lines(tree))
        assert [p for p in problems if p.severity == "error"] == [], [str(p) for p in problems]
        seen += 1
    assert seen >= 30


def test_breadth_of_the_catalogue():
    guides = [guide_of(proc) for _, _, proc in processes() if proc.get("id").startswith("m_")]
    assert len(guides) >= 15
    assert len({g["department"] for g in guides}) >= 8
    assert {g["handling"] for g in guides} == {"即办件", "承诺件"}
    bundles = {proc.get("id") for _, _, proc in processes() if proc.get("id").startswith("b_")}
    assert bundles == {"b_start_up", "b_restaurant", "b_house", "b_joint", "b_build", "b_newborn"}


@pytest.mark.parametrize("change, message", [
    ({"promised_days": 30}, "exceeds the statutory limit"),
    ({"type": "许可"}, "type '许可' is not one of"),
    ({"handling": "立即办"}, "handling"),
    ({"statutory_days": -1}, "whole number"),
    ({"materials": GOOD["materials"] + [GOOD["materials"][0]]}, "not unique"),
    ({"materials": [{"id": "a", "name": "甲", "substitutes": ["licence"]}]}, "substitute"),
    ({"handling": "即办件"}, "promised_days must be 0"),
])
def test_guide_errors(change, message):
    proc, lines = guided(dict(GOOD, **change))
    errors = [p for p in check_guide(proc, "x.bpmn", lines) if p.severity == "error"]
    assert any(message in p.message for p in errors), [str(p) for p in errors]
    assert errors[0].file == "x.bpmn" and errors[0].line and errors[0].element == "m_x"


def test_guide_warnings_and_missing_keys():
    proc, lines = guided(dict(GOOD, promised_days=20))
    assert [p.severity for p in check_guide(proc, "x.bpmn", lines)] == ["warning"]
    proc, lines = guided({"name": "x"})
    assert len([p for p in check_guide(proc, "x.bpmn", lines) if "missing" in p.message]) == 7
    proc, lines = guided(GOOD)
    assert check_guide(proc, "x.bpmn", lines) == []


def test_bare_bpmn_gets_a_warning_and_defaults_from_the_diagram():
    p = Process("bare", "无指南事项")
    p.start("start"); p.user("review", "审查", group="market", form="review", due="P3D")
    p.user("decide", "决定", group="market", form="review", due="P1D"); p.end("end")
    p.chain("start", "review", "decide", "end")
    tree = parse_xml(p.xml().encode(), "bare.bpmn")
    proc = tree.getroot().find("bpmn:process", NS)
    (warning,) = check_guide(proc, "bare.bpmn", id_lines(tree))
    assert warning.severity == "warning" and "no service guide" in warning.message
    g = guide_of(proc)
    assert g["derived"] and g["name"] == "无指南事项" and g["department"] == "market" and g["promised_days"] == 4


def test_a_process_without_a_guide_still_runs_through_the_window_rules(services):
    from tests.conftest import APPLICANT

    with services.uow() as s:
        assert services.guide(services.latest_version(s, "sample_matter"))["derived"] is True
    case = services.start_case(services.actor("front"), "sample_matter", APPLICANT, {}, intake={"accepted": True})
    assert "notice" not in case and case["tasks"][0]["element_id"] == "dept_accept"
    assert [o["matter"] for o in case["outcomes"]] == ["sample_matter"]


def test_bundle_forms_are_composed_from_member_forms():
    form = json.loads((FORMS_DIR / "b_start_up.json").read_text(encoding="utf-8"))
    assert form == compose_form("企业开办一件事", ["company_reg", "seal", "tax_invoice", "social_reg", "fund_reg"])
    assert members_of(form)["address"] == ["company_reg", "seal", "tax_invoice", "social_reg", "fund_reg"]
    assert members_of(form)["registered_capital"] == ["company_reg"]
    assert form["required"].count("address") == 1
    # the applicant block carries the company's name, credit code and phone; the form asks the rest, each once
    assert set(form["properties"]) == {"address", "contact_name", "id_number",
                                       "registered_capital"}  # what the window rules decide is not in the form
    assert form["properties"]["id_number"]["title"] == "法定代表人身份证号码"


def test_composing_refuses_a_shared_field_defined_two_ways(tmp_path):
    for mid, title in (("a", "甲"), ("b", "乙")):
        (tmp_path / f"f_{mid}.json").write_text(json.dumps(
            {"type": "object", "properties": {"address": {"type": "string", "title": title}}}), encoding="utf-8")
    with pytest.raises(ValueError, match="address"):
        compose_form("x", ["a", "b"], tmp_path)


def test_parallel_branches_write_their_own_keys():
    """No two parallel user tasks of a bundle share an element id inside one process (their results would clash)."""
    for path, tree, proc in processes():
        ids = [t.get("id") for t in proc.iter(f"{{{NS['bpmn']}}}userTask")]
        assert len(ids) == len(set(ids)), path
