"""Standard forms: every form file is plain JSON Schema 2020-12 (choices as oneOf of {const, title}, the fields the
platform sets under $defs/system), the old x- keywords are refused by `onewindow check` and still read from
versions deployed with them, and the pages show a choice by its title."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from engine.errors import Invalid
from engine.model.catalogue import FORMS_DIR
from engine.model.forms import FormError, choices, load_form, members_of, system_fields, validate
from web import formkit
from web.cli import cli

@pytest.fixture
def app(services, db_url):
    from web import create_app

    return create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})


FORM_FILES = sorted(FORMS_DIR.glob("*.json"))
SHA = "a" * 64


def _keys(node, path=()):
    """(path, key) of every key of every object in a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key
            yield from _keys(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _keys(value, path + (i,))


def test_the_catalogue_has_forms():
    assert len(FORM_FILES) >= 40


@pytest.mark.parametrize("path", FORM_FILES, ids=lambda p: p.stem)
def test_every_form_is_plain_json_schema_2020_12(path):
    form = json.loads(path.read_text(encoding="utf-8"))
    assert form["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(form)  # against the 2020-12 meta-schema
    assert [(p, k) for p, k in _keys(form) if k.startswith("x-")] == []
    load_form(path.read_text(encoding="utf-8"), path.stem)  # and what `onewindow check` accepts
    # fixed choices that have labels are oneOf of {const, title}; nothing a person types is a system field
    for p, key in _keys(form):
        if key == "oneOf":
            node = form
            for step in p:
                node = node[step]
            assert all(set(b) == {"const", "title"} for b in node["oneOf"]), (p, node)
    assert not set(system_fields(form)) & set(form["properties"])


def test_system_fields_are_out_of_the_forms_people_fill_in():
    pickup = json.loads((FORMS_DIR / "pickup.json").read_text(encoding="utf-8"))
    assert "handed" not in pickup["properties"] and "handed" in system_fields(pickup)
    for name in ("window_intake", "intake", "supplement"):
        form = json.loads((FORMS_DIR / f"{name}.json").read_text(encoding="utf-8"))
        assert "files" not in form["properties"] and "files" in system_fields(form), name
        assert "files" not in {f["name"] for f in formkit.fields(form)}
    for name in ("window_intake", "intake"):  # ticked on the front desk's material checklist
        form = json.loads((FORMS_DIR / f"{name}.json").read_text(encoding="utf-8"))
        assert "materials" not in form["properties"] and "materials" in system_fields(form), name


def test_a_submission_is_validated_with_its_system_fields():
    form = load_form((FORMS_DIR / "supplement.json").read_text(encoding="utf-8"), "supplement")
    validate(form, {"supplied": ["营业执照"], "files": {"licence": [SHA]}})
    with pytest.raises(Invalid) as exc:
        validate(form, {"supplied": ["营业执照"], "files": {"licence": ["not-a-hash"]}, "other": 1})
    assert set(exc.value.fields) == {"files.licence.0", "other"}
    assert "格式不正确" in str(exc.value.fields["files.licence.0"])


def test_labelled_choices_are_checked_and_named_by_their_titles():
    form = load_form((FORMS_DIR / "dept_review.json").read_text(encoding="utf-8"), "dept_review")
    assert choices(form["properties"]["decision"]) == [("approve", "准予"), ("reject", "不予"),
                                                       ("correct", "退回补正")]
    with pytest.raises(Invalid) as exc:
        validate(form, {"decision": "maybe", "opinion": "x"})
    assert exc.value.fields == {"decision": "结论应为以下之一：准予、不予、退回补正"}
    with pytest.raises(Invalid) as exc:  # the if/then on a oneOf choice still applies
        validate(form, {"decision": "correct", "opinion": "x"})
    assert set(exc.value.fields) == {"corrections"}


def test_the_rendered_select_shows_titles_not_values(app):
    from flask import render_template_string

    form = json.loads((FORMS_DIR / "dept_review.json").read_text(encoding="utf-8"))
    with app.test_request_context():
        html = render_template_string('{% from "macros.html" import form_fields %}{{ form_fields(f, v, e) }}',
                                      f=formkit.fields(form), v={}, e={})
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', html)
    assert ("approve", "准予") in options and ("reject", "不予") in options and ("correct", "退回补正") in options
    assert not [label for value, label in options if value and label == value]
    joint = json.loads((FORMS_DIR / "b_joint.json").read_text(encoding="utf-8"))
    multi = {f["name"]: f for f in formkit.fields(joint) if f["widget"] == "multi"}
    assert ("food_permit", "食品经营许可") in multi["permits"]["options"]


def test_bundle_forms_say_which_members_read_each_field():
    form = json.loads((FORMS_DIR / "b_house.json").read_text(encoding="utf-8"))
    members = members_of(form)
    assert members["price"] == ["deed_tax"] and "estate_transfer" in members["property_address"]
    for key, sub in form["$defs"].items():
        for ref in (sub.get("properties") or {}).values():
            assert ref["$ref"].split("/")[-1] in form["properties"], (key, ref)


OLD = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "title": "旧表单",
       "properties": {
           "decision": {"type": "string", "title": "结论", "enum": ["approve", "reject"],
                        "x-enum-labels": {"approve": "准予", "reject": "不予"}},
           "files": {"type": "object", "title": "材料电子件", "x-system": True,
                     "additionalProperties": {"type": "array", "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}},
           "name": {"type": "string", "title": "名称", "x-members": ["seal", "tax_invoice"]}},
       "required": ["decision"], "additionalProperties": False}


@pytest.mark.parametrize("keyword, field", [("x-enum-labels", "decision"), ("x-system", "files"),
                                            ("x-members", "name")])
def test_check_refuses_the_old_keywords_naming_file_and_field(tmp_path, keyword, field):
    form = json.loads(json.dumps(OLD))
    for name, prop in form["properties"].items():
        for old in ("x-enum-labels", "x-system", "x-members"):
            if old != keyword:
                prop.pop(old, None)
    (tmp_path / "old_form.json").write_text(json.dumps(form, ensure_ascii=False, indent=1), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(tmp_path)])
    assert result.exit_code != 0
    line = next(x for x in result.output.splitlines() if keyword in x)
    assert "old_form.json" in line and f"field {field} uses {keyword}" in line
    with pytest.raises(FormError):
        load_form(json.dumps(form), "old_form")


def test_a_form_deployed_with_the_old_keywords_is_read_in_the_new_shape():
    form = load_form(json.dumps(OLD), "old_form", legacy=True)
    assert [(p, k) for p, k in _keys(form) if k.startswith("x-")] == []
    Draft202012Validator.check_schema(form)
    assert choices(form["properties"]["decision"]) == [("approve", "准予"), ("reject", "不予")]
    assert "files" not in form["properties"] and "files" in system_fields(form)
    assert members_of(form) == {"name": ["seal", "tax_invoice"]}
    validate(form, {"decision": "approve", "files": {"m": [SHA]}})
    assert [f["name"] for f in formkit.fields(form)] == ["decision", "name"]
