"""Event log export: XES (IEEE 1849-2016) and CSV with the same columns, streamed case by case.

One trace per case (concept:name = case number); one event per case start, claim, task completion and
case completion, with lifecycle:transition from the XES standard lifecycle model.
"""
from __future__ import annotations

import csv
import json
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from lxml import etree
from sqlalchemy import select

from ..db import Case, Event, WorkItem

XES_NS = "http://www.xes-standard.org/"
EXTENSIONS = [  # name, prefix, uri
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
]
CLASSIFIERS = [("Activity", "concept:name"), ("Activity and transition", "concept:name lifecycle:transition"),
               ("Resource", "org:resource")]
TRANSITIONS = {"case_started": "start", "task_claimed": "assign", "task_completed": "complete",
               "case_completed": "complete"}
# CSV column -> XES event attribute key (the CSV's `case` column is the trace's concept:name)
# (keys without a prefix belong to no extension, as the standard allows)
COLUMNS = [("case", None), ("activity", "concept:name"), ("element_id", "element_id"),
           ("lifecycle", "lifecycle:transition"), ("resource", "org:resource"), ("group", "org:group"),
           ("timestamp", "time:timestamp"), ("event_type", "event_type"), ("process", "process"), ("seq", "seq")]
BATCH = 200


def iso(at: datetime) -> str:
    """ISO-8601 with milliseconds and offset (stored times without a zone are UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.isoformat(timespec="milliseconds")


def _cases(services, matter: str | None, since: datetime | None) -> Iterator[list[Case]]:
    last = 0
    while True:
        with services.uow() as s:
            q = select(Case).where(Case.id > last).order_by(Case.id).limit(BATCH)
            if matter:
                q = q.where(Case.process_id == matter)
            if since:
                q = q.where(Case.created_at >= since)
            cases = list(s.scalars(q).all())
            if not cases:
                return
            ids = [c.id for c in cases]
            events = s.scalars(select(Event).where(Event.case_id.in_(ids)).order_by(Event.case_id, Event.seq)).all()
            items = {i.id: i.name for i in s.scalars(select(WorkItem).where(WorkItem.case_id.in_(ids))).all()}
        by_case: dict[int, list[Event]] = {}
        for e in events:
            by_case.setdefault(e.case_id, []).append(e)
        yield [(c, _rows(c, by_case.get(c.id, []), items)) for c in cases]
        last = cases[-1].id


def _rows(case: Case, events: list[Event], open_names: dict[str, str]) -> list[dict]:
    """One dict per exported event, keyed by CSV column."""
    payloads = [json.loads(e.payload or "{}") for e in events]
    names = {e.task_id: p.get("name") for e, p in zip(events, payloads) if e.type == "task_completed"}
    out = []
    for e, p in zip(events, payloads):
        if e.type not in TRANSITIONS:
            continue
        if e.task_id:
            activity = p.get("name") or names.get(e.task_id) or open_names.get(e.task_id) or e.element_id or e.type
        else:
            activity = e.type
        out.append({"case": case.number or str(case.id), "activity": activity, "element_id": e.element_id or "",
                    "lifecycle": TRANSITIONS[e.type], "resource": e.actor or "", "group": e.group_name or "",
                    "timestamp": iso(e.at), "event_type": e.type, "process": p.get("process_id") or case.process_id,
                    "seq": e.seq})
    return out


@contextmanager
def _open(out: str, mode: str):
    if out == "-":
        yield sys.stdout.buffer if "b" in mode else sys.stdout
        return
    with open(out, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as fh:
        yield fh


def _attr(parent, kind: str, key: str, value) -> None:
    etree.SubElement(parent, f"{{{XES_NS}}}{kind}", key=key, value=str(value))


def _event_el(row: dict):
    ev = etree.Element(f"{{{XES_NS}}}event", nsmap={None: XES_NS})
    for col, key in COLUMNS:
        if key is None or (col == "element_id" and not row[col]) or (col == "group" and not row[col]):
            continue
        kind = "date" if col == "timestamp" else "int" if col == "seq" else "string"
        _attr(ev, kind, key, row[col])
    return ev


def write_xes(services, out: str, matter: str | None = None, since: datetime | None = None) -> tuple[int, int]:
    """Write an XES log; returns (traces, events)."""
    traces = events = 0
    with _open(out, "wb") as fh, etree.xmlfile(fh, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{XES_NS}}}log", {"xes.version": "1849.2016", "xes.features": ""}, nsmap={None: XES_NS}):
            head = etree.Element(f"{{{XES_NS}}}head", nsmap={None: XES_NS})
            for name, prefix, uri in EXTENSIONS:
                etree.SubElement(head, f"{{{XES_NS}}}extension", name=name, prefix=prefix, uri=uri)
            g = etree.SubElement(head, f"{{{XES_NS}}}global", scope="trace")
            _attr(g, "string", "concept:name", "UNKNOWN")
            g = etree.SubElement(head, f"{{{XES_NS}}}global", scope="event")
            _attr(g, "string", "concept:name", "UNKNOWN")
            _attr(g, "string", "lifecycle:transition", "complete")
            _attr(g, "string", "org:resource", "UNKNOWN")
            _attr(g, "date", "time:timestamp", "1970-01-01T00:00:00.000+00:00")
            for name, keys in CLASSIFIERS:
                etree.SubElement(head, f"{{{XES_NS}}}classifier", name=name, keys=keys)
            _attr(head, "string", "concept:name", "onewindow event log")
            _attr(head, "string", "lifecycle:model", "standard")
            for child in head:
                xf.write("\n", child)
            for batch in _cases(services, matter, since):
                for case, rows in batch:
                    tr = etree.Element(f"{{{XES_NS}}}trace", nsmap={None: XES_NS})
                    _attr(tr, "string", "concept:name", case.number or str(case.id))
                    _attr(tr, "string", "process", case.process_id)
                    _attr(tr, "int", "version", case.version_id)
                    _attr(tr, "string", "status", case.status)
                    _attr(tr, "string", "channel", case.channel)
                    for row in rows:
                        tr.append(_event_el(row))
                    xf.write("\n", tr)
                    traces, events = traces + 1, events + len(rows)
            xf.write("\n")
    return traces, events


def write_csv(services, out: str, matter: str | None = None, since: datetime | None = None) -> tuple[int, int]:
    """Write the same events as CSV, one row per event; returns (cases, events)."""
    traces = events = 0
    with _open(out, "w") as fh:
        w = csv.DictWriter(fh, fieldnames=[c for c, _ in COLUMNS])
        w.writeheader()
        for batch in _cases(services, matter, since):
            for _case, rows in batch:
                w.writerows(rows)
                traces, events = traces + 1, events + len(rows)
    return traces, events
