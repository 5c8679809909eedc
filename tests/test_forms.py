"""Forms: JSON Schema loading and per-field validation messages."""
from __future__ import annotations

import json

import pytest

from engine.errors import Invalid
from engine.model.forms import FormError, load_form, validate

SCHEMA = {
    "type": "object",
    "properties": {
        "decision": {"type": "string", "title": "审查结论", "oneOf": [{"const": "approve", "title": "准予"}, {"const": "reject", "title": "不予"}]},
        "amount": {"type": "integer", "title": "注册资本", "minimum": 0},
        "applicant": {
            "type": "object",
            "title": "申请人",
            "properties": {"name": {"type": "string", "title": "申请人名称"},
                           "phone": {"type": "string", "title": "联系电话", "pattern": "^1[0-9]{10}$"}},
            "required": ["name"],
            "additionalProperties": False,
        },
        "items": {"type": "array", "title": "股东",
                  "items": {"type": "object", "properties": {"qty": {"type": "integer", "title": "出资额"}}}},
    },
    "required": ["decision"],
    "additionalProperties": False,
}


def fields(data, schema=SCHEMA) -> dict[str, str]:
    with pytest.raises(Invalid) as exc:
        validate(schema, data, "review")
    assert exc.value.status == 422
    assert exc.value.message.startswith(f"有 {len(exc.value.fields)} 处需要更正：")
    assert exc.value.message.en.startswith(f"{len(exc.value.fields)} field(s) need correcting: ")
    return exc.value.fields


def english(got: dict) -> dict[str, str]:
    return {k: v.en for k, v in got.items()}


def test_valid_data_passes():
    validate(SCHEMA, {"decision": "approve", "amount": 3, "applicant": {"name": "张三", "phone": "13800000000"}})


def test_required_names_the_field_by_its_title():
    got = fields({})
    assert got == {"decision": "审查结论为必填项"}
    assert english(got) == {"decision": "审查结论 is required"}


def test_enum_lists_the_choices_by_their_labels():
    got = fields({"decision": "maybe"})
    assert got == {"decision": "审查结论应为以下之一：准予、不予"}
    assert english(got) == {"decision": "审查结论 must be one of: 准予, 不予"}


def test_type():
    got = fields({"decision": "approve", "amount": "3"})
    assert got == {"amount": "注册资本应为整数"} and english(got) == {"amount": "注册资本 must be a whole number"}


def test_minimum():
    got = fields({"decision": "approve", "amount": -5})
    assert got == {"amount": "注册资本不能小于 0"} and english(got) == {"amount": "注册资本 must not be less than 0"}


def test_additional_properties():
    assert fields({"decision": "approve", "extra": 1}) == {"extra": "表单中没有“extra”这一项"}


def test_nested_paths():
    got = fields({"decision": "approve", "applicant": {"phone": "123", "age": 3}, "items": [{"qty": 1}, {"qty": "x"}]})
    assert got["applicant.name"] == "申请人名称为必填项"
    assert got["applicant.age"] == "表单中没有“age”这一项"
    assert got["applicant.phone"] == "联系电话格式不正确"
    assert got["items.1.qty"] == "股东第 2 项的出资额应为整数"
    assert got["items.1.qty"].en == "出资额 of 股东 #2 must be a whole number"


def test_several_fields_at_once():
    got = fields({"decision": 1, "amount": -1})
    assert set(got) == {"decision", "amount"}


def test_non_object_data():
    with pytest.raises(Invalid) as exc:
        validate(SCHEMA, ["decision"])
    assert exc.value.fields == {"_": "提交的数据必须是对象"}


LONG = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "申请人名称", "minLength": 1, "maxLength": 50},
        "note": {"type": "string", "title": "备注", "minLength": 5},
        "code": {"type": "string", "title": "项目代码", "pattern": "^[0-9]{17}[0-9Xx]$"},
        "kind": {"type": "string", "title": "类别", "enum": ["a", "b"]},
        "rate": {"type": "number", "title": "比例", "exclusiveMinimum": 0, "maximum": 1.5},
    },
}


def test_messages_never_echo_the_value():
    secret = "测" * 500
    got = fields({"name": secret, "note": "短", "code": "123" + secret, "kind": secret, "rate": 7}, LONG)
    assert got == {"name": "申请人名称不能超过 50 个字符", "note": "备注至少 5 个字符", "code": "项目代码格式不正确",
                   "kind": "类别应为以下之一：a、b", "rate": "比例不能大于 1.5"}
    assert english(got)["code"] == "项目代码 is not in the expected format"
    assert fields({"rate": 0}, LONG) == {"rate": "比例必须大于 0"}
    with pytest.raises(Invalid) as exc:
        validate(LONG, {"name": secret, "kind": secret})
    assert "测测测" not in exc.value.message and "测测测" not in exc.value.message.en


def test_a_field_without_a_title_is_named_by_its_key():
    assert fields({"n": -1}, {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}}) == \
        {"n": "n不能小于 0"}


# A bundle form the way the catalogue writes them: required fields, a nested object, conditions in allOf/if/then.
BUNDLE = {
    "type": "object",
    "title": "企业开办",
    "properties": {
        "company_name": {"type": "string", "title": "企业名称", "minLength": 1},
        "capital": {"type": "number", "title": "注册资本", "minimum": 0},
        "contact": {"$ref": "#/$defs/person", "title": "联系人"},
        "items": {"type": "array", "title": "申请事项", "items": {"enum": ["seal", "tax"]}},
        "seal_kind": {"type": "string", "title": "印章类型"},
        "method": {"type": "string", "title": "领取方式", "enum": ["window", "express"]},
        "tracking_no": {"type": "string", "title": "快递单号"},
    },
    "required": ["company_name", "capital", "contact", "method"],
    "allOf": [
        {"if": {"properties": {"items": {"contains": {"const": "seal"}}}, "required": ["items"]},
         "then": {"required": ["seal_kind"]}},
        {"if": {"properties": {"method": {"const": "express"}}, "required": ["method"]},
         "then": {"required": ["tracking_no"]}},
    ],
    "$defs": {"person": {"type": "object",
                         "properties": {"name": {"type": "string", "title": "联系人姓名"},
                                        "phone": {"type": "string", "title": "联系人电话"}},
                         "required": ["name", "phone"]}},
}


def test_an_empty_submit_flags_every_required_field_at_once():
    got = fields({}, BUNDLE)
    assert got == {"company_name": "企业名称为必填项", "capital": "注册资本为必填项",
                   "contact.name": "联系人姓名为必填项", "contact.phone": "联系人电话为必填项",
                   "method": "领取方式为必填项"}
    assert list(got) == ["company_name", "capital", "contact.name", "contact.phone", "method"]  # the form's order


def test_conditional_fields_are_flagged_with_the_others():
    got = fields({"capital": -1, "items": ["seal"], "method": "express", "contact": {"name": "李四"}}, BUNDLE)
    assert got == {"company_name": "企业名称为必填项", "capital": "注册资本不能小于 0",
                   "contact.phone": "联系人电话为必填项", "seal_kind": "印章类型为必填项",
                   "tracking_no": "快递单号为必填项"}
    validate(BUNDLE, {"company_name": "甲公司", "capital": 10, "contact": {"name": "李四", "phone": "13800000000"},
                      "items": ["tax"], "method": "window"})


def test_alternatives_are_named():
    either = {"type": "object", "properties": {"id": {"type": "string", "title": "身份证号"},
                                               "code": {"type": "string", "title": "统一社会信用代码"}},
              "anyOf": [{"required": ["id"]}, {"required": ["code"]}]}
    assert fields({}, either) == {"_": "请填写以下各项之一：身份证号、统一社会信用代码"}
    choices = {"type": "object", "properties": {"decision": {"title": "审查结论", "oneOf": [
        {"const": "approve", "title": "准予"}, {"const": "reject", "title": "不予"}]}}}
    assert fields({"decision": "x"}, choices) == {"decision": "审查结论应为以下之一：准予、不予"}


def test_messages_survive_copies_and_pickles():
    import copy
    import pickle

    got = fields({})
    for again in (copy.deepcopy(got), pickle.loads(pickle.dumps(got))):
        assert again == got and again["decision"].en == "审查结论 is required"
    assert json.loads(json.dumps(got, ensure_ascii=False)) == {"decision": "审查结论为必填项"}


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
    ('{\n "type": "object",\n "properties": {\n  "id": {"type": "string", "format": "cn-idnumber"}\n }\n}', 4,
     "format 'cn-idnumber' at properties.id.format is not checked here; use one of cn-credit-code, cn-id-number"),
])
def test_broken_forms(text, line, fragment):
    with pytest.raises(FormError) as exc:
        load_form(text, "f")
    assert fragment in str(exc.value) and exc.value.line == line
    assert isinstance(exc.value, ValueError)


def test_a_property_called_format_is_not_a_format():
    load_form('{"type": "object", "properties": {"format": {"type": "string", "format": "cn-mobile"}}}', "f")
