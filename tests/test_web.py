"""Server-rendered pages: sign-in, CSRF, front desk, inbox, conflict, pickup, escaping, documents."""
from __future__ import annotations

import io
import re

import pytest

from web import create_app


EVIL = "<script>alert(1)</script>"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
DEPTS = {"market": "market1", "tax": "tax1", "social": "social1", "fund": "fund1", "police": "police1"}


@pytest.fixture
def app(services, db_url):
    return create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})


def csrf(client, path: str) -> str:
    r = client.get(path)
    m = re.search(r'name="_csrf" value="([^"]+)"', r.text)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def login(app, user: str, password: str = "pw"):
    client = app.test_client()
    r = client.post("/login", data={"username": user, "password": password, "_csrf": csrf(client, "/login")})
    assert r.status_code == 302, r.text
    return client


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    assert data.startswith(b"%PDF")
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def accept(client, name="示例科技有限公司", code="sample_bundle", **extra):
    form = {"_csrf": csrf(client, f"/frontdesk/matters/{code}"), "a_type": "company", "a_name": name,
            "a_id": "91330206MA2XXXXX04", "a_phone": "13800000000", "decision": "accept", **extra}
    r = client.post(f"/frontdesk/matters/{code}", data=form, follow_redirects=True)
    assert r.status_code == 200, r.text
    number = re.search(r'id="case-number">(OW\d+)<', r.text).group(1)
    case_id = int(re.search(r"/cases/(\d+)", r.text).group(1))
    return number, case_id, r


def task_id(client, case_number: str) -> str:
    r = client.get("/inbox/")
    row = re.search(r'<tr data-task="([^"]+)"[^>]*>\s*<td><a href="[^"]+">' + case_number, r.text)
    assert row, f"{case_number} not in inbox"
    return row.group(1)


def complete(client, tid: str, **data):
    token = csrf(client, f"/inbox/tasks/{tid}")
    return client.post(f"/inbox/tasks/{tid}", data={"_csrf": token, **{f"f_{k}": v for k, v in data.items()}})


# ---------------------------------------------------------------- sign-in, CSRF, language
def test_sign_in_lands_on_the_home_of_the_groups(app, services):
    services.add_user("auditor9", "pw", ["auditor"])
    homes = [("front", "/frontdesk/"), ("market1", "/inbox/"), ("pickup1", "/pickup/")]
    if "auditor.index" in app.view_functions:
        homes.append(("auditor9", "/audit/"))
    for user, home in homes:
        client = app.test_client()
        r = client.post("/login", data={"username": user, "password": "pw", "_csrf": csrf(client, "/login")})
        assert r.status_code == 302 and r.location.endswith(home)
        assert client.get("/").location.endswith(home)
    client = app.test_client()
    r = client.post("/login", data={"username": "front", "password": "bad", "_csrf": csrf(client, "/login")})
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    assert app.test_client().get("/inbox/").status_code == 302  # signed out -> sign-in page
    assert app.test_client().get("/healthz").json == {"ok": True}


def test_post_without_or_with_a_wrong_csrf_token_is_rejected(app):
    client = app.test_client()
    assert client.post("/login", data={"username": "front", "password": "pw"}).status_code == 400
    client = login(app, "front")
    r = client.post("/frontdesk/matters/sample_bundle", data={"a_name": "x", "decision": "accept", "_csrf": "forged"})
    assert r.status_code == 400 and "表单已过期" in r.text
    assert "OW" not in r.text
    r = client.post("/logout")
    assert r.status_code == 400


def test_language_switch(app):
    client = app.test_client()
    assert "登录" in client.get("/login").text
    r = client.get("/login?lang=en")
    assert "Sign in" in r.text and 'lang="en"' in r.text
    assert "Sign in" in client.get("/login").text  # remembered in a cookie
    assert "登录" in client.get("/login?lang=zh").text


def test_front_desk_only_for_front_desk(app):
    assert login(app, "market1").get("/frontdesk/").status_code == 403


# ---------------------------------------------------------------- front desk
def test_front_desk_search_guide_and_field_errors(app):
    client = login(app, "front")
    r = client.get("/frontdesk/?q=企业开办")
    assert "/frontdesk/matters/b_start_up" in r.text and "sample_" not in r.text  # demo samples are not listed
    r = client.get("/frontdesk/matters/sample_bundle")
    assert "办事指南" in r.text and "受理意见" in r.text and 'class="req"' in r.text
    form = {"_csrf": csrf(client, "/frontdesk/matters/sample_bundle"), "a_type": "company", "a_name": "",
            "a_phone": "13911112222", "i_remark": "备注内容", "decision": "accept"}
    r = client.post("/frontdesk/matters/sample_bundle", data=form, follow_redirects=True)
    assert r.status_code == 422
    assert 'id="a_name-error"' in r.text and 'value="13911112222"' in r.text and "备注内容" in r.text
    r = client.post("/frontdesk/matters/sample_bundle", data=dict(form, a_name="x", i_remark="长" * 600), follow_redirects=True)
    assert r.status_code == 422 and 'id="i_remark-error"' in r.text
    assert login(app, "market1").get("/inbox/").text.count("data-task=") == 0, "no case was left behind"


def test_front_desk_accepts_and_prints_a_receipt(app):
    client = login(app, "front")
    number, case_id, r = accept(client)
    assert "受理通知书" in r.text
    pdf = client.get(f"/frontdesk/cases/{case_id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert number in text and "受理通知书" in text and "示例科技有限公司" in text and "Case No" not in text
    doc = re.search(r"编号：(SL-\d{8}-\d{6})", text).group(1)
    code = re.search(r"核验码：([A-Z2-7]{12})", text).group(1)
    public = app.test_client()
    for ref in (doc, code):  # by the number printed on it, or by its verification code
        page = public.get(f"/verify/{ref}")
        assert page.status_code == 200 and "电子印章校验通过" in page.text and doc in page.text
    assert public.get("/verify/SL-20000101-999999").status_code == 404


def test_front_desk_refuses_with_a_decision_naming_reason_basis_and_appeal(app):
    client = login(app, "front")
    form = {"_csrf": csrf(client, "/frontdesk/matters/sample_bundle"), "a_type": "person", "a_name": "张三",
            "a_id": "110101199001011237", "decision": "refuse"}
    r = client.post("/frontdesk/matters/sample_bundle", data=form, follow_redirects=True)
    assert r.status_code == 422 and 'id="i_remark-error"' in r.text  # a refusal must say what is missing
    r = client.post("/frontdesk/matters/sample_bundle", data=dict(form, i_remark="不属于本中心受理范围"),
                    follow_redirects=True)
    assert r.status_code == 200 and "不予受理决定书" in r.text  # a substantive refusal is a decision, not a notice
    number = re.search(r'id="case-number">(OW\d+)<', r.text).group(1)
    case_id = int(re.search(r"/frontdesk/cases/(\d+)/notice.pdf", r.text).group(1))
    text = pdf_text(client.get(f"/frontdesk/cases/{case_id}/notice.pdf").data).replace("\n", "")
    assert number in text and "不予受理决定书" in text and "不属于本中心受理范围" in text
    assert "行政许可法》第三十二条" in text and "六十日内" in text and "行政复议" in text and "六个月内" in text
    page = client.get(f"/cases/{case_id}").text
    assert "已办结" in page and "不予受理" in page


# ---------------------------------------------------------------- inbox, conflict, pickup
def test_inbox_claim_complete_conflict_and_pickup(app):
    number, case_id, _ = accept(login(app, "front"))
    m1, m2 = login(app, "market1"), login(app, "market2")
    r = m1.get("/inbox/")
    assert number in r.text and "示例科技有限公司" in r.text and "未认领" in r.text
    assert number in m1.get("/inbox/?q=示例科技&sort=due&dir=desc").text
    assert number not in m1.get("/inbox/?q=nothing-like-this").text
    assert number not in m1.get("/inbox/?group=tax").text
    tid = task_id(m1, number)

    page = m2.get(f"/inbox/tasks/{tid}")  # both clerks open the task
    assert page.status_code == 200 and "审查意见" in page.text and 'id="application"' in page.text
    assert re.search(r'<option value="approve"[^>]*>同意</option>', page.text)  # the choice's title, not its value
    token2 = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)

    r = m1.post(f"/inbox/tasks/{tid}/claim", data={"_csrf": csrf(m1, "/inbox/")})
    assert r.status_code == 302
    assert "market1" in m1.get("/inbox/").text
    r = complete(m1, tid, decision="approve")
    assert r.status_code == 422 and 'id="f_opinion-error"' in r.text and "selected" in r.text
    r = complete(m1, tid, decision="approve", opinion="材料齐全，同意")
    assert r.status_code == 302

    r = m2.post(f"/inbox/tasks/{tid}", data={"_csrf": token2, "f_decision": "approve", "f_opinion": "晚了"})
    assert r.status_code == 409 and "该任务已由他人办理或不再可办" in r.text
    assert "Traceback" not in r.text
    r = m2.get(f"/inbox/tasks/{tid}")
    assert r.status_code == 404 and "该任务已由他人办理或不再可办" in r.text

    for group, user in DEPTS.items():
        if group == "market":
            continue
        c = login(app, user)
        t = task_id(c, number)
        page = c.get(f"/inbox/tasks/{t}").text
        assert "材料齐全，同意" in page  # earlier departments' opinions
        assert complete(c, t, decision="reject" if group == "tax" else "approve", opinion=f"{group} ok").status_code == 302

    pk = login(app, "pickup1")
    r = pk.get("/pickup/")
    assert number in r.text and "快递单号" in r.text
    assert re.search(r'<option value="express"[^>]*>快递送达</option>', r.text) and 'name="f_handed"' not in r.text
    tid = re.search(r'action="/pickup/([^"]+)"', r.text).group(1)
    handed = re.findall(r'name="handed" value="([^"]+)"', r.text)  # what to hand over, one box per item
    assert handed and all(k.startswith(("decision:", "certificate:", "original:")) for k in handed)
    token = csrf(pk, "/pickup/")
    r = pk.post(f"/pickup/{tid}", data={"_csrf": token, "f_method": "express", "f_recipient.name": "李四"})
    assert r.status_code == 422 and 'id="f_tracking_no-error"' in r.text and 'id="f_address-error"' in r.text
    assert 'id="f_recipient.phone-error"' in r.text
    express = {"_csrf": token, "f_method": "express", "f_tracking_no": "SF1234567", "f_address": "中山路1号",
               "f_recipient.name": "李四", "f_recipient.phone": "13800000000"}
    r = pk.post(f"/pickup/{tid}", data=dict(express, handed=handed[:-1]))  # an item not ticked off
    assert r.status_code == 422 and 'id="handed-error"' in r.text and "未确认" in r.text
    r = pk.post(f"/pickup/{tid}", data=dict(express, handed=handed))
    assert r.status_code == 302
    r = pk.get("/pickup/")
    assert f"已办结 {number}" in r.text and f'data-case="{number}"' not in r.text
    r = pk.post(f"/pickup/{tid}", data={"_csrf": token, "f_method": "window"})
    assert r.status_code == 302 and "该任务已由他人办理" in pk.get("/pickup/").text

    page = pk.get(f"/cases/{case_id}").text
    assert "已办结" in page and "SF1234567" in page and "不同意" in page and "同意" in page
    assert "李四" in page and "中山路1号" in page
    assert 'id="timeline"' in page and "<svg" in page


# ---------------------------------------------------------------- escaping
def test_applicant_name_is_text_everywhere(app):
    front = login(app, "front")
    number, case_id, r = accept(front, name=EVIL)
    assert EVIL not in r.text and EVIL_ESCAPED in r.text
    m1 = login(app, "market1")
    for page in (m1.get("/inbox/").text, m1.get(f"/cases/{case_id}").text,
                 m1.get(f"/inbox/tasks/{task_id(m1, number)}").text):
        assert EVIL not in page and EVIL_ESCAPED in page
    assert EVIL in pdf_text(front.get(f"/frontdesk/cases/{case_id}/receipt.pdf").data)  # literal text in the PDF


def test_unknown_pages_are_plain_error_pages(app):
    client = login(app, "front")
    r = client.get("/cases/99999")
    assert r.status_code == 404 and "<html" in r.text and "Traceback" not in r.text
    assert client.get("/frontdesk/matters/no_such_matter").status_code == 404


# ---------------------------------------------------------------- guide materials and schema-rendered forms
def test_materials_from_the_guide_go_on_the_receipt_and_the_notice(app, services):
    import json

    from sqlalchemy import select

    from engine.db import ProcessVersion

    guide = {"name": "示例一件事：企业开办", "materials": [{"id": "licence", "name": "营业执照", "required": True},
                                                    {"id": "legal_id", "name": "法定代表人身份证"}],
             "promised_days": 3, "statutory_days": 20, "handling": "承诺件"}
    with services.uow() as s:
        v = s.scalars(select(ProcessVersion).where(ProcessVersion.process_id == "sample_bundle")
                      .order_by(ProcessVersion.id.desc())).first()
        v.meta = json.dumps(dict(json.loads(v.meta), guide=guide), ensure_ascii=False)
    client = login(app, "front")
    page = client.get("/frontdesk/matters/sample_bundle").text
    assert "营业执照" in page and "承诺件" in page and "3 工作日" in page
    number, case_id, _ = accept(client, **{"mat_licence": "provided", "mat_legal_id": "provided"})
    text = pdf_text(client.get(f"/frontdesk/cases/{case_id}/receipt.pdf").data)
    assert "营业执照" in text and "法定代表人身份证" in text and "3 个工作日" in text

    form = {"_csrf": csrf(client, "/frontdesk/matters/sample_bundle"), "a_type": "company", "a_name": "缺材料公司",
            "mat_licence": "provided", "decision": "accept"}  # 受理 with a material missing: 一次性告知
    r = client.post("/frontdesk/matters/sample_bundle", data=form)  # the clerk is asked to confirm first
    assert r.status_code == 200 and 'id="confirm-notice"' in r.text and "法定代表人身份证" in r.text
    assert "/notice.pdf" not in r.text and "一次性告知书" in r.text  # nothing stored yet; says what will be issued
    r = client.post("/frontdesk/matters/sample_bundle", data=dict(form, confirm_notice="1"), follow_redirects=True)
    assert r.status_code == 200 and "一次性告知" in r.text and "法定代表人身份证" in r.text
    case_id = int(re.search(r"/frontdesk/cases/(\d+)/notice.pdf", r.text).group(1))
    text = pdf_text(client.get(f"/frontdesk/cases/{case_id}/notice.pdf").data)
    assert "法定代表人身份证" in text and "1." in text


def test_form_fields_from_json_schema(app):
    from werkzeug.datastructures import MultiDict

    from web import formkit

    schema = {"type": "object", "required": ["kind", "day"], "properties": {
        "kind": {"type": "string", "title": "类别", "oneOf": [{"const": "a", "title": "甲"}, {"const": "b", "title": "乙"}]},
        "ok": {"type": "boolean", "title": "同意", "description": "勾选表示同意"},
        "day": {"type": "string", "format": "date", "title": "日期"},
        "n": {"type": "integer", "title": "数量"}, "note": {"type": "string", "maxLength": 1000}}}
    fields = {f["name"]: f for f in formkit.fields(schema)}
    assert fields["kind"]["widget"] == "select" and fields["kind"]["options"] == [("a", "甲"), ("b", "乙")]
    assert fields["ok"]["widget"] == "checkbox" and fields["ok"]["help"] == "勾选表示同意"
    assert fields["day"]["widget"] == "date" and fields["day"]["required"]
    assert fields["n"]["widget"] == "number" and fields["note"]["widget"] == "textarea"
    data = formkit.parse(schema, MultiDict({"f_kind": "b", "f_ok": "on", "f_day": "", "f_n": "x3"}))
    assert data == {"kind": "b", "ok": True, "n": "x3"}  # empty left out, bad number kept for the validator
    assert formkit.parse(schema, MultiDict({"f_n": "7"}))["n"] == 7
    with app.test_request_context():
        from flask import render_template_string

        html = render_template_string('{% from "macros.html" import form_fields %}{{ form_fields(f, v, e) }}',
                                      f=formkit.fields(schema), v={"kind": "b", "n": "x3"}, e={"f_n": "类型错误"})
    assert '<option value="b" selected>乙</option>' in html and 'type="date"' in html
    assert 'type="checkbox"' in html and 'id="f_n-error"' in html and 'value="x3"' in html


def test_times_show_in_the_halls_time_zone(app):
    from web.i18n import local_time

    with app.app_context():
        assert local_time("2026-01-05T02:30:00+00:00") == "2026-01-05 10:30"
        assert local_time("2026-01-05T02:30:00") == "2026-01-05 10:30"  # naive = UTC (SQLite)
        assert local_time(None) == ""


def test_catalogue_matter_through_the_window_rules(app):
    client = login(app, "front")
    page = client.get("/frontdesk/matters/m_food_permit")
    if page.status_code == 404:
        pytest.skip("m_food_permit is not in the catalogue")
    assert "经营场所平面布局图" in page.text and "容缺后补" in page.text and 'name="f_food_categories"' in page.text
    assert 'name="f_materials"' not in page.text and 'name="f_owed"' not in page.text  # set by the rules
    base = {"_csrf": csrf(client, "/frontdesk/matters/m_food_permit"), "a_type": "company", "a_name": "小馆餐饮有限公司",
            "a_id": "91330206MA2YYYYY1F", "f_address": "中山路1号",
            "f_food_categories": ["热食类", "冷食类"], "decision": "accept",
            "mat_licence": "provided", "mat_lease": "deferred", "mat_layout": "provided", "mat_safety_rules": "commitment"}
    r = client.post("/frontdesk/matters/m_food_permit", data=base, follow_redirects=True)  # 容缺 and 告知承诺 together are refused
    assert r.status_code == 422 and 'id="materials-error"' in r.text
    r = client.post("/frontdesk/matters/m_food_permit", data=dict(base, mat_safety_rules="provided"), follow_redirects=True)
    assert r.status_code == 422 and 'id="f_contact_name-error"' in r.text and "checked" in r.text
    assert 'name="f_company_name"' not in r.text  # the applicant block already names the company
    base["f_contact_name"] = "王五"

    r = client.post("/frontdesk/matters/m_food_permit", data=dict(base, mat_layout="", mat_safety_rules="provided",
                                                                  confirm_notice="1"), follow_redirects=True)
    assert r.status_code == 200 and "一次性告知书" in r.text and "经营场所平面布局图" in r.text
    case_id = int(re.search(r"/frontdesk/cases/(\d+)/notice.pdf", r.text).group(1))
    assert "经营场所平面布局图" in pdf_text(client.get(f"/frontdesk/cases/{case_id}/notice.pdf").data)

    r = client.post("/frontdesk/matters/m_food_permit", data=dict(base, mat_safety_rules="provided"),
                    follow_redirects=True)
    assert r.status_code == 200 and "受理通知书" in r.text and 'id="owed"' in r.text and "补齐期限" in r.text
    case_id = int(re.search(r"/frontdesk/cases/(\d+)/receipt.pdf", r.text).group(1))
    text = pdf_text(client.get(f"/frontdesk/cases/{case_id}/receipt.pdf").data).replace("\n", "")
    # the 容缺 receipt names each owed material and its deadline, not "（容缺后补）" under what was received
    assert "容缺受理" in text and "食品经营许可" in text
    assert re.search(r"经营场所使用证明（租赁合同/产权证），请于 \d{4}年\d{2}月\d{2}日前补齐", text)
    assert client.get(f"/frontdesk/cases/{case_id}/notice.pdf").status_code == 404  # it was accepted

    r = client.post("/frontdesk/matters/m_food_permit", data=dict(base, decision="refuse", i_remark="不属于本级受理范围"), follow_redirects=True)
    assert r.status_code == 200 and "不予受理" in r.text and "不属于本级受理范围" in r.text
