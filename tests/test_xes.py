"""Event log export: XES parsed back with lxml, CSV with the same columns."""
from __future__ import annotations

import csv
from datetime import datetime

from click.testing import CliRunner
from lxml import etree

from engine.audit.xes import COLUMNS, XES_NS, write_xes
from tests.conftest import APPLICANT
from tests.test_audit import bundle_case

NS = {"x": XES_NS}


def cases(services):
    a = bundle_case(services, claim=True)                      # 1 start, intake, 5 claims, 5 reviews, pickup, completed
    front = services.actor("front")
    m = services.start_case(front, "sample_matter", APPLICANT, {})
    m = services.complete(front, m["tasks"][0]["id"], {"accepted": False, "reason": "缺营业执照"})  # start, intake, refused, completed
    return a, m


def test_xes_export_parses_back(services, tmp_path):
    a, m = cases(services)
    out = tmp_path / "log.xes"
    assert write_xes(services, str(out)) == (2, 14 + 3)
    root = etree.parse(str(out)).getroot()
    assert root.tag == f"{{{XES_NS}}}log" and root.get("xes.version") == "1849.2016"
    ext = {e.get("prefix"): e.get("uri") for e in root.findall("x:extension", NS)}
    assert ext == {"concept": "http://www.xes-standard.org/concept.xesext",
                   "lifecycle": "http://www.xes-standard.org/lifecycle.xesext",
                   "org": "http://www.xes-standard.org/org.xesext", "time": "http://www.xes-standard.org/time.xesext"}
    assert {g.get("scope") for g in root.findall("x:global", NS)} == {"trace", "event"}
    assert "concept:name" in [c.get("keys") for c in root.findall("x:classifier", NS)]
    traces = root.findall("x:trace", NS)
    names = [t.find("x:string[@key='concept:name']", NS).get("value") for t in traces]
    assert names == [a["number"], m["number"]]
    events = traces[0].findall("x:event", NS)
    assert len(events) == 14 and len(traces[1].findall("x:event", NS)) == 3

    def attrs(ev):
        return {c.get("key"): c.get("value") for c in ev}

    first, intake, claim, review = (attrs(e) for e in events[:4])
    assert first["lifecycle:transition"] == "start" and first["org:resource"] == "front"
    assert intake == {**intake, "concept:name": "综合受理", "element_id": "intake", "lifecycle:transition": "complete",
                      "org:resource": "front", "org:group": "front_desk"}
    assert claim["lifecycle:transition"] == "assign" and claim["concept:name"] == "市场监管局审查"
    assert review["org:resource"] == "market1" and review["org:group"] == "market" and review["element_id"] == "review"
    assert attrs(events[-1])["event_type"] == "case_completed"
    for ev in events:
        ts = ev.find("x:date[@key='time:timestamp']", NS).get("value")
        assert datetime.fromisoformat(ts).tzinfo is not None


def test_xes_filters_by_matter_and_date(services, tmp_path):
    cases(services)
    out = tmp_path / "m.xes"
    assert write_xes(services, str(out), matter="sample_matter") == (1, 3)
    assert write_xes(services, str(out), since=datetime(2999, 1, 1).astimezone()) == (0, 0)
    assert etree.parse(str(out)).getroot().findall("x:trace", NS) == []


def test_csv_has_the_same_columns(services, tmp_path, db_url):
    from web.cli import cli

    a, _m = cases(services)
    out = tmp_path / "log.csv"
    res = CliRunner().invoke(cli, ["audit", "export", "--format", "csv", "--out", str(out)],
                             env={"ONEWINDOW_DATABASE_URL": db_url})
    assert res.exit_code == 0, res.output
    assert "exported 2 case(s), 17 event(s)" in res.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0].keys()) == [c for c, _ in COLUMNS] == [
        "case", "activity", "element_id", "lifecycle", "resource", "group", "timestamp", "event_type", "process", "seq"]
    assert len(rows) == 17 and rows[1]["activity"] == "综合受理" and rows[1]["case"] == a["number"]
    res = CliRunner().invoke(cli, ["audit", "export", "--format", "xes", "--matter", "sample_bundle",
                                   "--since", "2000-01-01", "--out", str(tmp_path / "b.xes")],
                             env={"ONEWINDOW_DATABASE_URL": db_url})
    assert res.exit_code == 0 and "exported 1 case(s), 14 event(s)" in res.output
