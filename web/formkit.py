"""Render a JSON Schema form as HTML fields and read a posted form back into typed data."""
from __future__ import annotations

import math

from engine.model.forms import choices
from engine.model.identifiers import SHAPES


def fields(schema: dict | None, skip: tuple = ()) -> list[dict]:
    """Field descriptions for the `form_fields` macro: name, label, help, widget, required, options (value, title:
    from `oneOf` of `{const, title}`, or a plain `enum`), and `attrs`, the browser-side checks taken from the schema
    (required, maxlength, minlength, pattern, min, max, step). Fields of a nested object are flattened to
    'parent.child' (with `group`, the object's title). Only `properties` are shown: the fields the platform sets
    are declared apart ($defs/system)."""
    if not schema:
        return []
    return list(_fields(schema, skip, "", True, ""))


def _fields(schema: dict, skip: tuple, prefix: str, inherited: bool, group: str):
    required = set(schema.get("required") or [])
    for name, prop in (schema.get("properties") or {}).items():
        if name in skip:
            continue
        if _nested(prop):
            yield from _fields(prop, (), f"{prefix}{name}.", inherited and name in required,
                               prop.get("title") or name)
            continue
        if not _typeable(prop):
            continue
        kind = prop.get("type")
        options = choices(prop.get("items")) if kind == "array" else choices(prop)
        if kind == "array" and not options:
            widget = "lines"
        elif kind == "array":
            widget = "multi"
        elif options:
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
        needed = inherited and name in required
        yield {"name": prefix + name, "label": prop.get("title") or name, "help": prop.get("description") or "",
               "widget": widget, "required": needed, "group": group,
               "options": [(v, str(v) if title is None else title) for v, title in options],
               "step": "1" if kind == "integer" else "any", "attrs": _attrs(prop, widget, needed)}


def _nested(prop: dict) -> bool:
    return prop.get("type") == "object" and bool(prop.get("properties"))


# Input types for formats a browser knows how to help with (a phone keypad, an e-mail keyboard).
_INPUT_TYPES = {"email": "email", "cn-mobile": "tel", "cn-landline": "tel", "cn-phone": "tel"}


def _attrs(prop: dict, widget: str, required: bool) -> dict:
    """HTML attributes that let the browser refuse what the server would refuse, before the round trip."""
    out: dict = {}
    if required and widget in ("text", "textarea", "number", "date", "select", "lines"):
        out["required"] = True
    if widget == "checkbox" and prop.get("const") is True:
        out["required"] = True
    if widget in ("text", "textarea"):
        if isinstance(prop.get("maxLength"), int):
            out["maxlength"] = prop["maxLength"]
        if isinstance(prop.get("minLength"), int) and prop["minLength"] > 0:
            out["minlength"] = prop["minLength"]
    if widget == "text":
        shape = html_pattern(prop["pattern"]) if isinstance(prop.get("pattern"), str) else None
        shape = shape or SHAPES.get(prop.get("format"))
        if shape:
            out["pattern"] = shape
        if prop.get("format") in _INPUT_TYPES:
            out["type"] = _INPUT_TYPES[prop["format"]]
    if widget == "number":
        integer = prop.get("type") == "integer"
        low = prop.get("minimum")
        if low is None and integer and isinstance(prop.get("exclusiveMinimum"), (int, float)):
            low = math.floor(prop["exclusiveMinimum"]) + 1
        high = prop.get("maximum")
        if high is None and integer and isinstance(prop.get("exclusiveMaximum"), (int, float)):
            high = math.ceil(prop["exclusiveMaximum"]) - 1
        if low is not None:
            out["min"] = low
        if high is not None:
            out["max"] = high
        out["step"] = prop.get("multipleOf") or ("1" if integer else "any")
    return out


# What the `v` flag browsers compile patterns with reserves: syntax characters (escapable anywhere), characters that
# are syntax inside a class, punctuation that may be escaped inside a class, and punctuation that may not be doubled.
_SYNTAX = set("^$\\.*+?()[]{}|/")
_CLASS_SYNTAX = set("()[]{}/|")
_CLASS_PUNCT = set("&-!#%,:;<=>@`~")
_DOUBLE_PUNCT = set("&!#$%*+,.:;<=>?@^`~")


def html_pattern(pattern: str) -> str | None:
    """A JSON Schema `pattern` (ECMA-262, unanchored search) as an HTML `pattern` attribute, which browsers anchor
    at both ends and compile with the `v` flag: literal '-', brackets and braces inside classes are escaped, and
    escapes the `v` flag refuses ('\\-' outside a class) become the plain character. None when unbalanced."""
    out, in_class, at_start, i = [], False, False, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 >= len(pattern):
                return None
            x = pattern[i + 1]
            keep = x.isalnum() or x in _SYNTAX or (in_class and x in _CLASS_PUNCT)
            out.append(c + x if keep else x)
            i, at_start = i + 2, False
            continue
        opened = False
        if not in_class:
            out.append(c)
            if c == "[":
                in_class, opened = True, True
                if pattern[i + 1:i + 2] == "^":
                    out.append("^")
                    i += 1
        elif c == "]":
            out.append(c)
            in_class = False
        elif c == "-" and (at_start or pattern[i + 1:i + 2] == "]"):
            out.append("\\-")  # a literal '-' at either end of a class
        elif c in _CLASS_SYNTAX or (c in _DOUBLE_PUNCT and pattern[i + 1:i + 2] == c):
            out.append("\\" + c)
        else:
            out.append(c)
        at_start = opened  # only the first member of a class follows its '[' (or '[^')
        i += 1
    if in_class:
        return None
    body = "".join(out)
    if body.startswith("^") and body.endswith("$") and not body.endswith("\\$") and "|" not in body:
        return body[1:-1]
    return f".*(?:{body}).*"


def parse(schema: dict | None, form, prefix: str = "f_", skip: tuple = ()) -> dict:
    """Typed data from posted fields named `prefix + property` ('parent.child' inside nested objects); empty inputs
    are left out, so `required` reports them, and values that do not convert are kept as text, so `type` reports
    them. A nested object is left out when nothing in it was filled in."""
    data: dict = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        if name in skip:
            continue
        if _nested(prop):
            sub = parse(prop, form, f"{prefix}{name}.")
            if any(v is not False for v in sub.values()):
                data[name] = sub
            continue
        if not _typeable(prop):
            continue
        key, kind = prefix + name, prop.get("type")
        if kind == "array" and not choices(prop.get("items")):
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
        return bool(choices(items)) or items.get("type") == "string"
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
