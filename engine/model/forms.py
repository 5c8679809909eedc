"""Form definitions (JSON Schema) and validation of submitted data, field by field."""
from __future__ import annotations

import copy
import json
from functools import lru_cache

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from ..errors import Invalid


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


def load_form(text: str | bytes, name: str) -> dict:
    """Parse and check a form schema; raise FormError (a ValueError) with a readable message when it is broken."""
    return copy.deepcopy(_load_form(text, name))


@lru_cache(maxsize=512)
def _load_form(text: str | bytes, name: str) -> dict:
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
    return schema


def _field_path(err) -> str:
    path = ".".join(str(p) for p in err.absolute_path)
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else ""
        return f"{path}.{missing}" if path else missing
    if err.validator == "additionalProperties" and "'" in err.message:
        extra = err.message.split("'")[1]
        return f"{path}.{extra}" if path else extra
    return path or "_"


def _message(err, schema: dict) -> str:
    if err.validator == "required":
        return "必填 (required)"
    if err.validator == "enum":
        return f"不在可选值中 (must be one of {', '.join(map(str, err.validator_value))})"
    if err.validator == "additionalProperties":
        return "未定义的字段 (unknown field)"
    if err.validator == "type":
        return f"类型应为 {err.validator_value} (must be {err.validator_value})"
    return err.message


_VALIDATORS: dict[int, tuple[dict, Draft202012Validator]] = {}


def _validator(schema: dict) -> Draft202012Validator:
    """One validator per schema object (building one walks the schema); schemas come from a per-version cache."""
    hit = _VALIDATORS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    if len(_VALIDATORS) >= 512:
        _VALIDATORS.clear()
    validator = Draft202012Validator(schema)
    _VALIDATORS[id(schema)] = (schema, validator)  # the schema is kept alive, so its id is not reused
    return validator


def validate(schema: dict | None, data, form_name: str = "") -> None:
    """Raise Invalid with one message per field when `data` does not satisfy the form."""
    if not isinstance(data, dict):
        raise Invalid("data must be a JSON object", {"_": "必须是对象 (must be an object)"})
    if schema is None:
        return
    errors = sorted(_validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    fields: dict[str, str] = {}
    for err in errors:
        fields.setdefault(_field_path(err), _message(err, schema))
    label = f"form {form_name}: " if form_name else ""
    raise Invalid(f"{label}{len(fields)} field(s) invalid: {', '.join(fields)}", fields)
