"""Form definitions (JSON Schema) and validation of submitted data, field by field."""
from __future__ import annotations

import json

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .errors import Invalid


def load_form(text: str, name: str) -> dict:
    """Parse and check a form schema; raise ValueError with a readable message when it is broken."""
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"form {name}: not valid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise ValueError(f"form {name}: the top level must be a JSON Schema with \"type\": \"object\"")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(f"form {name}: invalid JSON Schema: {exc.message}") from None
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


def validate(schema: dict | None, data, form_name: str = "") -> None:
    """Raise Invalid with one message per field when `data` does not satisfy the form."""
    if not isinstance(data, dict):
        raise Invalid("data must be a JSON object", {"_": "必须是对象 (must be an object)"})
    if schema is None:
        return
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    fields: dict[str, str] = {}
    for err in errors:
        fields.setdefault(_field_path(err), _message(err, schema))
    label = f"form {form_name}: " if form_name else ""
    raise Invalid(f"{label}{len(fields)} field(s) invalid: {', '.join(fields)}", fields)
