"""What a case has already filled in, checked against the forms of another version of its process.

Why: moving a case onto a version whose form for a task it completed (or for its application) changed is only safe
when what was filled still fits the new form; otherwise later steps of the new version read data that its own forms
would never have let in. Data comes from the audit events (case_started, task_completed), exactly as submitted.
"""
from __future__ import annotations

import json

from sqlalchemy import select

from ..db import Event
from ..errors import Invalid
from ..model.bpmn import task_meta
from ..model.forms import validate


def _canon(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def element_form(bundle, process_id: str, element_id: str) -> str | None:
    """The form a version gives an element of one of its processes (None when it has none or no such element)."""
    spec = bundle.spec if bundle.spec.name == process_id else bundle.subprocess_specs.get(process_id)
    if spec is None:
        return None
    for ts in spec.task_specs.values():
        if getattr(ts, "bpmn_id", None) == element_id:
            return task_meta(ts).form
    return None


def form_problems(services, s, case_id: int, old_version, new_version) -> list[tuple[str, str]]:
    """(element id, why) for each filled form whose new version no longer accepts what was filled."""
    old_bundle, new_bundle = services.spec_bundle(s, old_version), services.spec_bundle(s, new_version)
    start_old = json.loads(old_version.meta or "{}").get("start_form")
    start_new = json.loads(new_version.meta or "{}").get("start_form")
    events = s.execute(select(Event.type, Event.element_id, Event.payload).where(
        Event.case_id == case_id, Event.type.in_(("case_started", "task_completed"))).order_by(Event.seq)).all()
    found: list[tuple[str, str]] = []
    for type_, element_id, payload in events:
        payload = json.loads(payload or "{}")
        if type_ == "case_started":
            where, old_form, new_form = "application", start_old, start_new
        else:
            process_id = payload.get("process_id") or ""
            where = element_id or process_id
            old_form = element_form(old_bundle, process_id, element_id)
            new_form = element_form(new_bundle, process_id, element_id)
        if not new_form:
            continue
        old_schema = services.form_schema(s, old_version, old_form)
        new_schema = services.form_schema(s, new_version, new_form)
        if new_schema is None or (old_form == new_form and _canon(old_schema) == _canon(new_schema)):
            continue
        try:
            validate(new_schema, payload.get("data") or {}, new_form)
        except Invalid as exc:
            fields = ", ".join(f"{k}: {v}" for k, v in exc.fields.items())
            found.append((where, f"form {new_form} changed and what was filled here no longer fits it ({fields})"))
    return list(dict.fromkeys(found))
