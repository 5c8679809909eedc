"""Form definitions (JSON Schema) and validation of submitted data, field by field.

A form file is plain JSON Schema 2020-12 that any renderer (react-jsonschema-form, the pages' formkit) shows as
meant: its root `properties` are what a person fills in, fixed choices are `oneOf` of `{const, title}`. What is
not typed in lives under `$defs`, which renderers leave alone: `$defs/system` the fields the platform's own widgets
set (uploaded files, the hand-over checklist), validated with the submission like the rest, and in a bundle's form
`$defs/member.<id>` the fields each member reads. The old `x-enum-labels`, `x-system` and `x-members` keywords are
refused by `onewindow check`; versions deployed with them are read in the new shape."""
from __future__ import annotations

import copy
import json
import re
from functools import lru_cache

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match

from ..errors import Invalid
from ..messages import Message
from . import fieldmessages as say
from .identifiers import FORMATS


class FormError(ValueError):
    """A broken form file; `line` is where in the file the problem is (1 when unknown)."""

    def __init__(self, message: str, line: int = 1):
        super().__init__(message)
        self.line = line


def _line_of_path(text: str, path) -> int:
    """Approximate line of a JSON path in the file: find each key in turn after the previous one."""
    pos = 0
    for key in path:
        if isinstance(key, str):
            found = text.find(f'"{key}"', pos)
            pos = found if found >= 0 else pos
    return text.count("\n", 0, pos) + 1


# One validator of the metaschema, reused: `check_schema` builds a new one (and resolves its $refs) every call.
_META = Draft202012Validator(Draft202012Validator.META_SCHEMA)


SYSTEM = "system"      # $defs/system: the fields the platform sets, not typed in
MEMBER = "member."     # $defs/member.<id>: the fields of a bundle's form that member reads
OLD_KEYWORDS = {"x-enum-labels": "write the choices as \"oneOf\": [{\"const\": value, \"title\": label}, ...]",
                "x-system": "declare the field under \"$defs\": {\"system\": {\"properties\": {...}}}",
                "x-members": "declare each member's fields under \"$defs\": {\"member.<id>\": {\"properties\": {...}}}"}


def load_form(text: str | bytes, name: str, legacy: bool = False) -> dict:
    """Parse and check a form schema; raise FormError (a ValueError) with a readable message when it is broken.
    The old `x-` keywords are refused, or with `legacy` (a version deployed before they were) read in the new
    shape, so running cases keep their labels and their system fields stay out of the form."""
    return copy.deepcopy(_load_form(text, name, legacy))


@lru_cache(maxsize=512)
def _load_form(text: str | bytes, name: str, legacy: bool = False) -> dict:
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormError(f"form {name}: not valid JSON at line {exc.lineno}: {exc.msg}", exc.lineno) from None
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise FormError(f"form {name}: the top level must be a JSON Schema with \"type\": \"object\"")
    exc = best_match(_META.iter_errors(schema))
    if exc is not None:
        where = ".".join(str(p) for p in exc.path) or "(top level)"
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        raise FormError(f"form {name}: invalid JSON Schema at {where}: {exc.message}",
                        _line_of_path(text, exc.path))
    for path, fmt in _formats(schema, []):
        if fmt not in FORMAT_CHECKER.checkers:  # formats are asserted: one this server cannot check is a defect
            text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
            raise FormError(f"form {name}: format {fmt!r} at {'.'.join(map(str, path))} is not checked here; "
                            f"use one of {', '.join(sorted(FORMAT_CHECKER.checkers))}", _line_of_path(text, path))
    old = list(_old_keywords(schema, []))
    if old and legacy:
        return upgrade(schema)
    if old:
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        path, key = old[0]
        where = ".".join(str(p) for p in path if p != "properties") or "(top level)"
        more = f" (and {len(old) - 1} more)" if len(old) > 1 else ""
        raise FormError(f"form {name}: field {where} uses {key}, which JSON Schema and form renderers ignore; "
                        f"{OLD_KEYWORDS[key]}{more}", _line_of_path(text, path + [key]))
    system = (schema.get("$defs") or {}).get(SYSTEM)
    if isinstance(system, dict):
        both = sorted(set(system.get("properties") or {}) & set(schema.get("properties") or {}))
        if both:
            text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
            raise FormError(f"form {name}: field {both[0]} is both typed in (properties) and set by the platform "
                            f"($defs/{SYSTEM}); declare it once", _line_of_path(text, ["$defs", SYSTEM, both[0]]))
    return schema


def _old_keywords(node, path: list):
    """(path of the field, keyword) of every old `x-` keyword in a schema."""
    if isinstance(node, dict):
        for key in OLD_KEYWORDS:
            if key in node:
                yield path, key
        for key, value in node.items():
            if key not in ("const", "enum", "default", "examples"):
                yield from _old_keywords(value, path + [key])
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _old_keywords(value, path + [i])


def upgrade(schema: dict) -> dict:
    """A form written with the old `x-` keywords in the plain JSON Schema shape: labelled enums as `oneOf`,
    `x-system` fields moved to `$defs/system`, `x-members` to `$defs/member.<id>`."""
    def labels(node):
        if isinstance(node, list):
            return [labels(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {k: (v if k in ("const", "enum", "default", "examples") else labels(v)) for k, v in node.items()
               if k not in OLD_KEYWORDS}
        names = node.get("x-enum-labels")
        if isinstance(names, dict) and isinstance(node.get("enum"), list):
            out.pop("enum")
            out["oneOf"] = [{"const": v, "title": str(names.get(str(v), v))} for v in node["enum"]]
        return out

    out = labels(schema)
    props, system, members = {}, {}, {}
    for key, prop in (schema.get("properties") or {}).items():
        (system if isinstance(prop, dict) and prop.get("x-system") else props)[key] = out["properties"][key]
        for mid in (prop.get("x-members") or []) if isinstance(prop, dict) else []:
            members.setdefault(str(mid), {})[key] = {"$ref": f"#/properties/{key}"}
    out["properties"] = props
    defs = dict(out.get("$defs") or {})
    if system:
        required = [k for k in out.get("required") or [] if k in system]
        out["required"] = [k for k in out.get("required") or [] if k not in system]
        defs[SYSTEM] = {"type": "object", "properties": system, **({"required": required} if required else {})}
    for mid, fields in members.items():
        defs[MEMBER + mid] = {"type": "object", "properties": fields}
    if defs:
        out["$defs"] = defs
    return out


def system_fields(schema: dict | None) -> dict:
    """The fields of a form the platform sets ($defs/system), by name."""
    system = ((schema or {}).get("$defs") or {}).get(SYSTEM)
    return dict(system.get("properties") or {}) if isinstance(system, dict) else {}


def submitted_fields(schema: dict | None) -> dict:
    """Every field a submission may carry: what a person types and what the platform sets."""
    return dict(((schema or {}).get("properties") or {}), **system_fields(schema))


_SUBMISSIONS: dict[int, tuple[dict, dict]] = {}


def submission_schema(schema: dict) -> dict:
    """The schema a submission is validated with: the form with its system fields beside the typed ones."""
    system = ((schema.get("$defs") or {}).get(SYSTEM))
    if not isinstance(system, dict):
        return schema
    hit = _SUBMISSIONS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    if len(_SUBMISSIONS) >= 512:
        _SUBMISSIONS.clear()
    merged = dict(schema, properties=submitted_fields(schema),
                  required=list(schema.get("required") or []) + [k for k in system.get("required") or []
                                                                  if k not in (schema.get("required") or [])])
    _SUBMISSIONS[id(schema)] = (schema, merged)
    return merged


def choices(prop: dict | None) -> list[tuple]:
    """(value, title or None) of a field's fixed choices: `oneOf`/`anyOf` of `{const, title}`, or a plain `enum`."""
    prop = prop if isinstance(prop, dict) else {}
    for key in ("oneOf", "anyOf"):
        branches = prop.get(key)
        if isinstance(branches, list) and branches and all(isinstance(b, dict) and "const" in b for b in branches):
            return [(b["const"], b.get("title") if isinstance(b.get("title"), str) else None) for b in branches]
    return [(v, None) for v in prop.get("enum") or []] if isinstance(prop.get("enum"), list) else []


def members_of(schema: dict | None) -> dict[str, list[str]]:
    """Field -> the members of a bundle that read it ($defs/member.<id>), in the order they are declared."""
    out: dict[str, list[str]] = {}
    for key, sub in ((schema or {}).get("$defs") or {}).items():
        if key.startswith(MEMBER) and isinstance(sub, dict):
            for field in sub.get("properties") or {}:
                out.setdefault(field, []).append(key[len(MEMBER):])
    return out


def _formats(node, path: list):
    """(path, format) of every `format` keyword in a schema."""
    if isinstance(node, dict):
        if isinstance(node.get("format"), str):
            yield path + ["format"], node["format"]
        for key, value in node.items():
            if key not in ("const", "enum", "default", "examples"):
                yield from _formats(value, path + [key])
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _formats(value, path + [i])


class FormatProblem(ValueError):
    """Raised by a format check; `reason` (a Message) says what is wrong with the value."""

    def __init__(self, reason: Message):
        super().__init__(str(reason))
        self.reason = reason


def _format_checker() -> FormatChecker:
    """The standard formats jsonschema checks (date, email, ...) plus the Chinese identifiers, ASSERTED:
    a value that does not match its `format` is an error, not an annotation."""
    checker = FormatChecker(Draft202012Validator.FORMAT_CHECKER.checkers)
    for name, problem in FORMATS.items():
        def check(value, problem=problem) -> bool:
            reason = problem(value) if isinstance(value, str) else None
            if reason is not None:
                raise FormatProblem(reason)
            return True
        checker.checks(name, raises=FormatProblem)(check)
    return checker


FORMAT_CHECKER = _format_checker()


_VALIDATORS: dict[int, tuple[dict, Draft202012Validator]] = {}


def _validator(schema: dict) -> Draft202012Validator:
    """One validator per schema object (building one walks the schema); schemas come from a per-version cache."""
    hit = _VALIDATORS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    if len(_VALIDATORS) >= 512:
        _VALIDATORS.clear()
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    _VALIDATORS[id(schema)] = (schema, validator)  # the schema is kept alive, so its id is not reused
    return validator


# When one field has several errors, the one a person should fix first.
_FIRST = {"required": 0, "type": 1, "enum": 2, "const": 2, "format": 3, "minLength": 4, "maxLength": 4, "pattern": 5}


def field_errors(schema: dict | None, data) -> dict[str, Message]:
    """Field path ('contact.phone', 'items.0.qty'; '_' for the form as a whole) -> message, for EVERY field that
    does not satisfy the form, in the order of the form. A required object that is missing is reported as its
    own required fields (with their conditions), so an empty submit flags every field a person has to fill."""
    if not isinstance(data, dict):
        return {"_": Message("提交的数据必须是对象", "the data must be a JSON object")}
    if schema is None:
        return {}
    schema = submission_schema(schema)
    found: list[tuple[list, int, Message]] = []
    _collect(_validator(schema), schema, data, [], found, 0)
    order = list((schema.get("properties") or {}))
    found.sort(key=lambda f: (order.index(f[0][0]) if f[0] and f[0][0] in order else len(order),
                              [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in f[0]], f[1]))
    fields: dict[str, Message] = {}
    for path, _, message in found:
        fields.setdefault(".".join(str(p) for p in path) or "_", message)
    return fields


def _collect(validator, root: dict, data, prefix: list, found: list, depth: int) -> None:
    for err in validator.iter_errors(data):
        path = prefix + list(err.absolute_path)
        if err.validator in ("required", "dependentRequired"):
            for name in _missing(err):
                _report_missing(validator, root, err, path + [name], found, depth)
        elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
            known = set(err.schema.get("properties") or {})
            patterns = err.schema.get("patternProperties") or {}
            for name in err.instance:
                if name not in known and not any(re.search(p, name) for p in patterns):
                    found.append((path + [name], 0, say.unknown_field(name)))
        else:
            found.append((path, _FIRST.get(err.validator, 9), say.message_for(err, root, path)))


def _missing(err) -> list[str]:
    have = err.instance if isinstance(err.instance, dict) else {}
    if err.validator == "required":
        return [name for name in err.validator_value if name not in have]
    return [dep for prop, deps in err.validator_value.items() if prop in have for dep in deps if dep not in have]


def _report_missing(validator, root: dict, err, path: list, found: list, depth: int) -> None:
    """A missing field; when it is an object with required fields of its own, those fields instead."""
    subs = say.schemas_at(root, path) or [((err.schema.get("properties") or {}).get(path[-1]))]
    subs = [s for s in subs if isinstance(s, dict)]
    if depth < 6 and any(s.get("required") or s.get("type") == "object" and s.get("properties") for s in subs):
        nested: list = []
        _collect(validator.evolve(schema={"allOf": subs}), root, {}, path, nested, depth + 1)
        if nested:
            found.extend(nested)
            return
    found.append((path, 0, say.required(say.label_of(root, path))))


def validate(schema: dict | None, data, form_name: str = "") -> None:
    """Raise Invalid with one message per field (engine.messages.Message: Chinese, with `.en`) when `data` does
    not satisfy the form; all fields at once. `form_name` is kept for callers; messages name fields, not files."""
    fields = field_errors(schema, data)
    if not fields:
        return
    n = len(fields)
    raise Invalid(Message(f"有 {n} 处需要更正：" + "；".join(fields.values()),
                          f"{n} field(s) need correcting: " + "; ".join(m.en for m in fields.values())), fields)
