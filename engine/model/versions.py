"""What a new version of a process changes, compared with a deployed one: elements added, removed or changed
(type, name, group, form, conditions, timers, calls, scripts), the service guide, and forms field by field.

Why here and not from the library's SpecDiff: designers read this before deploying, in their own terms (element ids,
groups, forms as they drew them), and it must work on files that are not deployed yet. Both sides are the files a
version pins (name -> bytes), so the diff covers the processes it calls and the forms it uses too.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .bpmn import NS, SPIFF_NS, parse_xml, read_task_meta
from .guide import read_guide
from .lint import CONTAINERS, FLOW_NODES, local_name

BPMN = "{%s}" % NS["bpmn"]
# Aspects of an element in the order they are shown.
ASPECTS = ("type", "name", "group", "users", "form", "due", "condition", "default", "from", "to", "timer", "calls",
           "decision", "script", "attached to", "loop")
# Aspects of a form field in the order they are shown (anything else follows, sorted).
FIELD_ASPECTS = ("type", "required", "title", "enum", "oneOf", "const", "format", "pattern", "minLength", "maxLength",
                 "minimum", "maximum", "items", "default")


def _canon(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def show(value) -> str:
    """A value as one short line for a report."""
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, (dict, bool)) or not isinstance(value, str):
        return _canon(value)
    return " ".join(value.split())


@dataclass
class Change:
    """One changed aspect: what, before, after."""

    aspect: str
    before: object
    after: object

    def __str__(self) -> str:
        return f"{self.aspect} {show(self.before)} -> {show(self.after)}"


@dataclass
class ElementChange:
    """An element (flow node, sequence flow, or the process itself) added, removed or changed."""

    process_id: str
    element_id: str
    kind: str  # added | removed | changed
    type: str
    name: str = ""
    changes: list[Change] = field(default_factory=list)
    described: dict = field(default_factory=dict)  # the element's aspects (new side, old side when removed)


@dataclass
class FieldChange:
    field: str  # dotted path; `[]` marks the items of an array
    kind: str   # added | removed | changed
    changes: list[Change] = field(default_factory=list)
    described: dict = field(default_factory=dict)


@dataclass
class FormChange:
    form: str
    kind: str  # added | removed | changed
    fields: list[FieldChange] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)  # form-level keys (title, if/then, additionalProperties ...)


@dataclass
class VersionDiff:
    process_id: str
    elements: list[ElementChange] = field(default_factory=list)
    forms: list[FormChange] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)  # other pinned files (DMN): (name, kind)

    @property
    def empty(self) -> bool:
        return not (self.elements or self.forms or self.files)

    def lines(self, indent: str = "  ") -> list[str]:
        """The diff as text, one line per element, form field and file (`+` added, `-` removed, `~` changed)."""
        sign = {"added": "+", "removed": "-", "changed": "~"}
        out = []
        for e in self.elements:
            label = f"{sign[e.kind]} {e.type} {e.element_id}" + (f" \"{e.name}\"" if e.name else "")
            where = f" (in {e.process_id})" if e.process_id != self.process_id else ""
            if e.kind == "changed":
                out.append(f"{indent}{label}{where}: " + "; ".join(map(str, e.changes)))
            else:
                details = [f"{k} {show(v)}" for k, v in e.described.items() if k not in ("type", "name") and v]
                out.append(f"{indent}{label}{where}" + (f" ({'; '.join(details)})" if details else ""))
        for f in self.forms:
            if f.kind != "changed":
                out.append(f"{indent}{sign[f.kind]} form {f.form}")
                continue
            for c in f.changes:
                out.append(f"{indent}~ form {f.form}: {c}")
            for fc in f.fields:
                if fc.kind == "changed":
                    out.append(f"{indent}~ form {f.form} field {fc.field}: " + "; ".join(map(str, fc.changes)))
                else:
                    details = [f"{k} {show(v)}" for k, v in fc.described.items() if k in ("type", "required") and v]
                    out.append(f"{indent}{sign[fc.kind]} form {f.form} field {fc.field}"
                               + (f" ({'; '.join(details)})" if details else ""))
        for name, kind in self.files:
            out.append(f"{indent}{sign[kind]} file {name}")
        return out


# ---------------------------------------------------------------- describing one version
def _text(el) -> str:
    return " ".join((el.text or "").split()) if el is not None else ""


def _event_kind(el) -> str:
    for child in el:
        name = local_name(child)
        if name.endswith("EventDefinition"):
            return name[: -len("EventDefinition")]
    return ""


def _describe(el, lanes: dict[str, str]) -> dict:
    """The aspects of one flow node or sequence flow that a designer changes (empty ones left out)."""
    kind = local_name(el)
    out: dict = {"type": kind + (f" ({_event_kind(el)})" if _event_kind(el) else ""), "name": el.get("name") or ""}
    if kind == "sequenceFlow":
        out["from"], out["to"] = el.get("sourceRef"), el.get("targetRef")
        out["condition"] = _text(el.find("bpmn:conditionExpression", NS))
    if kind in ("userTask", "startEvent", "manualTask"):
        props = {p.get("name"): p.get("value", "") for p in el.iterfind(
            f"bpmn:extensionElements/{{{SPIFF_NS}}}properties/{{{SPIFF_NS}}}property", NS) if p.get("name")}
        meta = read_task_meta(el, lanes.get(el.get("id")), {"properties": props})
        out.update(form=meta.form or "", due=meta.due or "")
        if kind != "startEvent":
            out.update(group=meta.groups, users=meta.users)
    if el.get("default"):
        out["default"] = el.get("default")
    timer = el.find("bpmn:timerEventDefinition", NS)
    if timer is not None:
        out["timer"] = "; ".join(f"{local_name(t)} {_text(t)}" for t in timer)
    if kind == "callActivity":
        out["calls"] = el.get("calledElement") or ""
    if kind == "businessRuleTask":
        ref = el.get("{http://camunda.org/schema/1.0/bpmn}decisionRef") or _text(
            el.find(f"bpmn:extensionElements/{{{SPIFF_NS}}}calledDecisionId", NS))
        out["decision"] = ref
    if kind == "scriptTask":
        out["script"] = _text(el.find("bpmn:script", NS))
    if kind == "boundaryEvent":
        out["attached to"] = el.get("attachedToRef")
    loop = el.find("bpmn:multiInstanceLoopCharacteristics", NS)
    if loop is not None:
        parts = [f"{local_name(c)} {_text(c) or c.get('name') or c.get('id') or ''}".strip() for c in loop]
        out["loop"] = ("sequential" if loop.get("isSequential") == "true" else "parallel") + \
            (": " + "; ".join(parts) if parts else "")
    if el.find("bpmn:standardLoopCharacteristics", NS) is not None:
        out["loop"] = "standard"
    return {k: v for k, v in out.items() if v not in ("", [], None) or k in ("type",)}


def describe_processes(files: dict[str, bytes]) -> dict[str, dict[str, dict]]:
    """process id -> {element id -> aspects}, for every process in the BPMN files; the process itself is described
    under its own id (name, service guide)."""
    out: dict[str, dict[str, dict]] = {}
    for name, data in files.items():
        if not name.endswith((".bpmn", ".xml")):
            continue
        root = parse_xml(data, name).getroot()
        for proc in root.iterfind("bpmn:process", NS):
            lanes = {ref.text.strip(): lane.get("name") or lane.get("id") for lane in proc.iter(BPMN + "lane")
                     for ref in lane.iterfind("bpmn:flowNodeRef", NS) if ref.text}
            elements: dict[str, dict] = {}
            try:
                guide = read_guide(proc)
            except ValueError:
                guide = {"invalid": True}
            elements[proc.get("id")] = {"type": "process", "name": proc.get("name") or "", **(
                {f"guide.{k}": v for k, v in guide.items()} if guide else {})}
            for el in proc.iter():
                kind = local_name(el)
                if el.get("id") and (kind in FLOW_NODES or kind == "sequenceFlow" or kind in CONTAINERS - {"process"}):
                    elements[el.get("id")] = _describe(el, lanes)
            out[proc.get("id")] = elements
    return out


def _compare(old: dict, new: dict, order=ASPECTS) -> list[Change]:
    keys = [k for k in order if k in old or k in new]
    keys += sorted(k for k in old.keys() | new.keys() if k not in order)
    return [Change(k, old.get(k), new.get(k)) for k in keys if _canon(old.get(k)) != _canon(new.get(k))]


# ---------------------------------------------------------------- forms
def form_fields(schema: dict, prefix: str = "", required: bool = False) -> dict[str, dict]:
    """Every field of a JSON Schema form, dotted (`[]` for array items), with its own keywords and `required`."""
    out: dict[str, dict] = {}
    req = set(schema.get("required") or []) if isinstance(schema, dict) else set()
    for name, sub in ((schema or {}).get("properties") or {}).items():
        path = f"{prefix}{name}"
        sub = sub if isinstance(sub, dict) else {}
        own = {k: v for k, v in sub.items() if k not in ("properties", "required")}
        if isinstance(own.get("items"), dict) and "properties" in own["items"]:
            items = own.pop("items")
            own["items"] = "object"
            out.update(form_fields(items, f"{path}[].", False))
        own["required"] = name in req
        out[path] = own
        if "properties" in sub:
            out.update(form_fields(sub, f"{path}.", False))
    return out


def diff_form(name: str, old: dict | None, new: dict | None) -> FormChange | None:
    if old is None and new is None:
        return None
    if old is None or new is None:
        return FormChange(name, "added" if old is None else "removed")
    if _canon(old) == _canon(new):
        return None
    change = FormChange(name, "changed")
    top = lambda s: {k: v for k, v in s.items() if k not in ("properties", "required", "$schema")}  # noqa: E731
    change.changes = _compare(top(old), top(new), ())
    a, b = form_fields(old), form_fields(new)
    for path in list(a) + [p for p in b if p not in a]:
        if path not in b:
            change.fields.append(FieldChange(path, "removed", described=a[path]))
        elif path not in a:
            change.fields.append(FieldChange(path, "added", described=b[path]))
        else:
            diffs = _compare(a[path], b[path], FIELD_ASPECTS)
            if diffs:
                change.fields.append(FieldChange(path, "changed", diffs))
    return change if change.changes or change.fields else None


def _json(data: bytes | None):
    try:
        return json.loads(data) if data is not None else None
    except ValueError:
        return {"invalid": True}


# ---------------------------------------------------------------- the diff
def diff_versions(process_id: str, old: dict[str, bytes], new: dict[str, bytes]) -> VersionDiff:
    """Compare the files two versions of `process_id` pin (name -> bytes): every process in them, the forms
    (`NAME.json`) field by field, and any other file by content."""
    out = VersionDiff(process_id)
    before, after = describe_processes(old), describe_processes(new)
    order = [process_id] + sorted((before.keys() | after.keys()) - {process_id})
    for pid in order:
        a, b = before.get(pid, {}), after.get(pid, {})
        for eid in list(a) + [e for e in b if e not in a]:
            if eid not in b:
                out.elements.append(ElementChange(pid, eid, "removed", a[eid]["type"], a[eid].get("name", ""),
                                                  described=a[eid]))
            elif eid not in a:
                out.elements.append(ElementChange(pid, eid, "added", b[eid]["type"], b[eid].get("name", ""),
                                                  described=b[eid]))
            else:
                changes = _compare(a[eid], b[eid])
                if changes:
                    out.elements.append(ElementChange(pid, eid, "changed", b[eid]["type"], b[eid].get("name", ""),
                                                      changes, b[eid]))
    forms = sorted({n[: -len(".json")] for n in old.keys() | new.keys() if n.endswith(".json")})
    for name in forms:
        change = diff_form(name, _json(old.get(f"{name}.json")), _json(new.get(f"{name}.json")))
        if change is not None:
            out.forms.append(change)
    for name in sorted(old.keys() | new.keys()):
        if name.endswith((".json", ".bpmn", ".xml")):
            continue
        if name not in new:
            out.files.append((name, "removed"))
        elif name not in old:
            out.files.append((name, "added"))
        elif old[name] != new[name]:
            out.files.append((name, "changed"))
    return out
