"""Render a JSON Schema form as HTML fields and read a posted form back into typed data."""
from __future__ import annotations


def fields(schema: dict | None, skip: tuple = ()) -> list[dict]:
    """Field descriptions for the `form_fields` macro: name, label, help, widget, required, options."""
    if not schema:
        return []
    required = set(schema.get("required") or [])
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        if name in skip or prop.get("x-system") or not _typeable(prop):
            continue  # set by the window rules, not typed in
        kind = prop.get("type")
        labels = prop.get("x-enum-labels") or (prop.get("items") or {}).get("x-enum-labels") or {}
        if kind == "array" and not (prop.get("items") or {}).get("enum"):
            widget = "lines"
        elif kind == "array":
            widget = "multi"
            prop = dict(prop, enum=(prop.get("items") or {}).get("enum"))
        elif "enum" in prop:
            widget = "select"
        elif kind == "boolean":
            widget = "checkbox"
        elif prop.get("format") == "date":
            widget = "date"
        elif kind in ("integer", "number"):
            widget = "number"
        elif kind == "string" and (prop.get("maxLength") or 0) > 200:
            widget = "textarea"
        else:
            widget = "text"
        out.append({"name": name, "label": prop.get("title") or name, "help": prop.get("description") or "",
                    "widget": widget, "required": name in required,
                    "options": [(v, labels.get(str(v), str(v))) for v in prop.get("enum") or []],
                    "step": "1" if kind == "integer" else "any"})
    return out


def parse(schema: dict | None, form, prefix: str = "f_", skip: tuple = ()) -> dict:
    """Typed data from posted fields named `prefix + property`; empty inputs are left out, so `required`
    reports them, and values that do not convert are kept as text, so `type` reports them."""
    data: dict = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        if name in skip or prop.get("x-system") or not _typeable(prop):
            continue
        key, kind = prefix + name, prop.get("type")
        if kind == "array" and not (prop.get("items") or {}).get("enum"):
            lines = [v.strip() for v in (form.get(key) or "").splitlines() if v.strip()]
            if lines:
                data[name] = lines
            continue
        if kind == "array":
            data[name] = [v for v in form.getlist(key) if v]
            continue
        if kind == "boolean":
            data[name] = form.get(key) in ("on", "true", "1", "yes")
            continue
        raw = (form.get(key) or "").strip()
        if raw == "":
            continue
        if kind in ("integer", "number"):
            try:
                data[name] = int(raw) if kind == "integer" else float(raw)
            except ValueError:
                data[name] = raw
        else:
            data[name] = raw
    return data


def _typeable(prop: dict) -> bool:
    """Scalars, and arrays of choices (a checkbox group); other objects and arrays are not typed in."""
    if prop.get("type") == "object":
        return False
    if prop.get("type") == "array":
        items = prop.get("items") or {}
        return bool(items.get("enum")) or items.get("type") == "string"
    return True


def values(form, prefix: str = "f_") -> dict:
    """What the user typed, to put back into the page after an error (lists for repeated fields)."""
    out = {}
    for k in form.keys():
        if k.startswith(prefix):
            got = form.getlist(k) if hasattr(form, "getlist") else [form[k]]
            out[k[len(prefix):]] = got if len(got) > 1 else got[0]
    return out


def applicant_from(form) -> dict:
    """The applicant block of the intake page."""
    kind = form.get("a_type", "person")
    out = {"type": kind, "name": form.get("a_name", "").strip(), "phone": form.get("a_phone", "").strip()}
    id_key = "credit_code" if kind == "company" else "id_number"
    out[id_key] = form.get("a_id", "").strip()
    return out
