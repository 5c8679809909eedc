"""Messages people read on pages and in the API (Chinese, English when chosen, named by the field's title, all
fields at once, never the value), and the browser-side checks the form fields carry from their schema."""
from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from tests.conftest import APPLICANT
from tests.test_api import auth, error_of
from tests.test_web import csrf, login
from web import create_app, formkit

try:  # the window rules and their tables (certificates) must be known before the fixtures create the schema
    import engine.window.matters  # noqa: F401
except ImportError:  # pragma: no cover
    pass

LONG = "测" * 600


@pytest.fixture
def app(services, db_url):
    return create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})


def errors_on(html: str) -> dict[str, str]:
    return dict(re.findall(r'<small class="error" id="([^"]+)-error">([^<]*)</small>', html))


def company_reg(client, lang: str = "", **fields):
    path = "/frontdesk/matters/m_company_reg"
    form = {"_csrf": csrf(client, path), "a_type": "company", "a_name": "甲公司", "decision": "accept",
            **{f"f_{k}": v for k, v in fields.items()}}
    return client.post(path + lang, data=form)


def test_the_front_desk_flags_every_field_at_once_in_chinese(app):
    client = login(app, "front")
    r = company_reg(client)
    assert r.status_code == 422
    assert errors_on(r.text) == {"f_address": "住所（经营场所）为必填项", "f_contact_name": "联系人为必填项",
                                 "f_id_number": "法定代表人身份证号码为必填项", "f_registered_capital": "注册资本（万元）为必填项"}
    r = company_reg(client, contact_name=LONG, address="中山路1号", id_number="123", registered_capital="-5")
    assert r.status_code == 422
    got = errors_on(r.text)
    assert got == {"f_contact_name": "联系人不能超过 50 个字符",
                   "f_id_number": "法定代表人身份证号码有误：应为 18 位（现为 3 位）", "f_registered_capital": "注册资本（万元）不能小于 0"}
    assert "测测测" not in "".join(got.values()) and "-5" not in "".join(got.values())
    assert 'aria-describedby="f_registered_capital-error"' in r.text


def test_the_front_desk_in_english(app):
    client = login(app, "front")
    client.get("/frontdesk/?lang=en")  # chosen once, remembered
    r = company_reg(client, address="中山路1号", contact_name="王五", id_number="11010519491231002X",
                    registered_capital="-5")
    assert errors_on(r.text) == {"f_registered_capital": "注册资本（万元） must not be less than 0"}


def review_task(client, h: dict) -> dict:
    """A market review task of a new sample_bundle case (the intake, where the kernel leaves one, accepted)."""
    case = client.post("/api/v1/cases", headers=h, json={"matter": "sample_bundle", "applicant": APPLICANT,
                                                         "data": {}, "materials": ["营业执照"]}).json
    for t in client.get("/api/v1/tasks", headers=h).json["items"]:
        if t["case_id"] == case["id"]:
            client.post(f"/api/v1/tasks/{t['id']}/complete", headers=h, json={"data": {"accepted": True}})
    m = auth(client, "market1")
    return m, next(t for t in client.get("/api/v1/tasks", headers=m).json["items"] if t["case_id"] == case["id"])


def test_the_api_gives_the_same_messages_in_either_language(client_app):
    client = client_app.test_client()
    h, task = review_task(client, auth(client, "front"))
    bad = {"data": {"opinion": "测" * 2100}}
    r = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=h, json=bad)
    assert r.status_code == 422
    err = error_of(r)
    assert err["code"] == "invalid"
    assert set(err["fields"]) == {"decision", "opinion"}
    assert err["fields"]["opinion"].endswith("不能超过 2000 个字符") and "测测" not in str(err)
    assert err["fields"]["decision"].endswith("为必填项")
    assert err["message"].startswith("有 2 处需要更正：")
    for english in ({"headers": dict(h, **{"Accept-Language": "en-US,en;q=0.9"})},
                    {"headers": h, "query_string": {"lang": "en"}}):
        r = client.post(f"/api/v1/tasks/{task['id']}/complete", json=bad, **english)
        err = error_of(r)
        assert err["fields"]["opinion"].endswith("must have at most 2000 characters"), err
        assert err["fields"]["decision"].endswith(" is required") and err["message"].startswith("2 field(s)")
    r = client_app.test_client().post(f"/api/v1/tasks/{task['id']}/complete", json=bad,  # no lang cookie yet
                                      headers=dict(h, **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}))
    assert error_of(r)["fields"]["opinion"].endswith("不能超过 2000 个字符")


@pytest.fixture
def client_app(services, db_url):
    return create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})


SCHEMA = {
    "type": "object",
    "required": ["name", "capital", "phone", "count", "contact", "agree"],
    "properties": {
        "name": {"type": "string", "title": "企业名称", "minLength": 2, "maxLength": 100},
        "capital": {"type": "number", "title": "注册资本", "minimum": 0, "maximum": 1e9},
        "count": {"type": "integer", "title": "人数", "exclusiveMinimum": 0, "exclusiveMaximum": 1000},
        "share": {"type": "number", "title": "比例", "multipleOf": 0.01},
        "phone": {"type": "string", "title": "联系电话", "format": "cn-phone"},
        "code": {"type": "string", "title": "统一社会信用代码", "format": "cn-credit-code"},
        "tel": {"type": "string", "title": "座机", "pattern": "^[0-9-]{7,20}$"},
        "note": {"type": "string", "title": "备注", "maxLength": 1000},
        "agree": {"type": "boolean", "title": "已阅读并同意", "const": True},
        "contact": {"type": "object", "title": "联系人", "required": ["name"],
                    "properties": {"name": {"type": "string", "title": "姓名", "maxLength": 20},
                                   "mobile": {"type": "string", "title": "手机", "format": "cn-mobile"}}},
        "agent": {"type": "object", "title": "代理人", "required": ["name"],
                  "properties": {"name": {"type": "string", "title": "代理人姓名"}}},
    },
    "$defs": {"system": {"properties": {"materials": {"type": "object", "properties": {"a": {"type": "string"}}}}}},
}


def test_fields_carry_the_browser_side_checks():
    f = {x["name"]: x for x in formkit.fields(SCHEMA)}
    assert f["name"]["attrs"] == {"required": True, "minlength": 2, "maxlength": 100}
    assert f["capital"]["attrs"] == {"required": True, "min": 0, "max": 1e9, "step": "any"}
    assert f["count"]["attrs"] == {"required": True, "min": 1, "max": 999, "step": "1"}
    assert f["share"]["attrs"] == {"step": 0.01}
    assert f["phone"]["attrs"]["type"] == "tel" and f["phone"]["attrs"]["required"] is True
    assert re.fullmatch(f["phone"]["attrs"]["pattern"], "0571-87654321")
    assert re.fullmatch(f["code"]["attrs"]["pattern"], "91350100M000100Y43")
    assert not re.fullmatch(f["code"]["attrs"]["pattern"], "91350100MO00100Y43")
    assert f["tel"]["attrs"] == {"pattern": r"[0-9\-]{7,20}"}
    assert f["note"]["widget"] == "textarea" and f["note"]["attrs"] == {"maxlength": 1000}
    assert f["agree"]["attrs"] == {"required": True}
    # a nested object is flattened; its fields are required in the browser only when the object is
    assert f["contact.name"]["required"] and f["contact.name"]["group"] == "联系人"
    assert f["contact.mobile"]["attrs"]["type"] == "tel" and not f["contact.mobile"]["required"]
    assert not f["agent.name"]["required"] and "required" not in f["agent.name"]["attrs"]
    assert "materials.a" not in f and "materials" not in f


def test_nested_fields_are_read_back_and_their_errors_shown(app):
    data = formkit.parse(SCHEMA, MultiDict({"f_name": "甲公司", "f_contact.mobile": "13800000000", "f_agent.name": ""}))
    assert data == {"name": "甲公司", "contact": {"mobile": "13800000000"}, "agree": False}  # empty agent left out
    with app.test_request_context("/?lang=en"):
        from flask import g, render_template_string

        from engine.errors import Invalid
        from engine.model.forms import validate

        g.lang = "en"
        with pytest.raises(Invalid) as exc:
            validate(SCHEMA, data)
        errors = {"f_" + k: v for k, v in exc.value.fields.items()}  # as the views map them
        html = render_template_string('{% from "macros.html" import form_fields %}{{ form_fields(f, v, e) }}',
                                      f=formkit.fields(SCHEMA), v=formkit.values(MultiDict({"f_contact.mobile": "x"})),
                                      e=errors)
    assert errors_on(html)["f_contact.name"] == "姓名 is required"
    assert errors_on(html)["f_agree"] == "已阅读并同意 must be ticked"
    assert '<h3 class="group">联系人</h3>' in html and 'name="f_contact.mobile"' in html and 'value="x"' in html
    assert re.search(r'<input type="tel" name="f_phone" id="f_phone" value="" pattern="[^"]+" required', html)
    assert '<input type="number" name="f_count" id="f_count" value="" max="999" min="1" required step="1"' in html


@pytest.mark.parametrize("schema_pattern, html, matches, misses", [
    ("^[0-9-]{7,20}$", r"[0-9\-]{7,20}", ["0571-8765432"], ["abc", "12"]),
    ("^[0-9]{17}[0-9Xx]$", "[0-9]{17}[0-9Xx]", ["11010519491231002X"], ["1101051949123100"]),
    ("abc", ".*(?:abc).*", ["xxabcxx"], ["ab"]),  # JSON Schema patterns search; HTML ones are anchored
    ("^a|b$", ".*(?:^a|b$).*", ["axx", "xxb"], ["xax"]),
    (r"^[0-9]+\-[0-9]+$", "[0-9]+-[0-9]+", ["1-2"], ["12"]),
    ("^[-a]+$", r"[\-a]+", ["a-a"], ["b"]),
    ("^[(][0-9]{3}[)]$", r"[\(][0-9]{3}[\)]", ["(010)"], ["010"]),
])
def test_html_patterns(schema_pattern, html, matches, misses):
    assert formkit.html_pattern(schema_pattern) == html
    for value in matches:
        assert re.search(schema_pattern, value) and re.fullmatch(html, value)
    for value in misses:
        assert not re.search(schema_pattern, value) and not re.fullmatch(html, value)


def test_an_unbalanced_pattern_gets_no_attribute():
    assert formkit.html_pattern("[0-9") is None
    assert "pattern" not in formkit.fields({"type": "object", "properties": {"x": {"type": "string",
                                                                                   "pattern": "[0-9"}}})[0]["attrs"]


def test_the_applicant_inputs_carry_their_checks(app):
    html = login(app, "front").get("/frontdesk/matters/sample_bundle").text
    assert re.search(r'<input name="a_name" id="a_name" value="" required', html)
    assert 'maxlength="18" minlength="18"' in html and 'formnovalidate' in html
    phone = re.search(r'id="a_phone"[^>]*pattern="([^"]+)"', html).group(1).replace("&#34;", '"')
    assert re.fullmatch(phone, "13800000000") and re.fullmatch(phone, "010-62345678") and not re.fullmatch(phone, "x")
