"""Forms: JSON Schema loading and per-field validation messages."""
from __future__ import annotations

import json

import pytest

from engine.errors import Invalid
from engine.model.forms import FormError, load_form, validate

SCHEMA = {
    "type": "object",
    "properties": {
        "decision": {"type": "string", "enum": ["approve", "reject"]},
        "amount": {"type": "integer", "minimum": 0},
        "applicant": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "phone": {"type": "string", "pattern": "^1[0-9]{10}$"}},
            "required": ["name"],
            "additionalProperties": False,
        },
        "items": {"type": "array", "items": {"type": "object", "properties": {"qty": {"type": "integer"}}}},
    },
    "required": ["decision"],
    "additionalProperties": False,
}


def fields(data) -> dict[str, str]:
    with pytest.raises(Invalid) as exc:
        validate(SCHEMA, data, "review")
    assert exc.value.status == 422
    assert exc.value.message.startswith(f"form review: {len(exc.value.fields)} field(s) invalid: ")
    return exc.value.fields


def test_valid_data_passes():
    validate(SCHEMA, {"decision": "approve", "amount": 3, "applicant": {"name": "张三", "phone": "13800000000"}})


def test_required():
    assert fields({}) == {"decision": "必填 (required)"}


def test_enum():
    assert fields({"decision": "maybe"}) == {"decision": "不在可选值中 (must be one of approve, reject)"}


def test_type():
    assert fields({"decision": "approve", "amount": "3"}) == {"amount": "类型应为 integer (must be integer)"}


def test_additional_properties():
    assert fields({"decision": "approve", "extra": 1}) == {"extra": "未定义的字段 (unknown field)"}


def test_nested_paths():
    got = fields({"decision": "approve", "applicant": {"phone": "123", "age": 3}, "items": [{"qty": 1}, {"qty": "x"}]})
    assert got["applicant.name"] == "必填 (required)"
    assert got["applicant.age"] == "未定义的字段 (unknown field)"
    assert "applicant.phone" in got
    assert got["items.1.qty"] == "类型应为 integer (must be integer)"


def test_several_fields_at_once():
    got = fields({"decision": 1, "amount": -1})
    assert set(got) == {"decision", "amount"}


def test_non_object_data():
    with pytest.raises(Invalid) as exc:
        validate(SCHEMA, ["decision"])
    assert exc.value.fields == {"_": "必须是对象 (must be an object)"}


def test_no_schema_accepts_any_object():
    validate(None, {"anything": 1})


def test_load_form_round_trip():
    assert load_form(json.dumps(SCHEMA), "review") == SCHEMA


def test_load_form_returns_a_copy():
    text = json.dumps(SCHEMA)
    load_form(text, "review")["properties"].clear()
    assert load_form(text, "review") == SCHEMA


@pytest.mark.parametrize("text, line, fragment", [
    ('{\n  "type": "object",\n  "properties": {,}\n}', 3, "not valid JSON at line 3"),
    ('[1, 2]', 1, "the top level must be a JSON Schema"),
    ('{"type": "string"}', 1, "the top level must be a JSON Schema"),
    ('{\n "type": "object",\n "properties": {\n  "a": {"type": "strin"}\n }\n}', 4,
     "invalid JSON Schema at properties.a.type"),
    ('{\n "type": "object",\n "required": "a"\n}', 3, "invalid JSON Schema at required"),
])
def test_broken_forms(text, line, fragment):
    with pytest.raises(FormError) as exc:
        load_form(text, "f")
    assert fragment in str(exc.value) and exc.value.line == line
    assert isinstance(exc.value, ValueError)
