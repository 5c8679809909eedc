"""What an online applicant does on their case after applying (issue 14): 预审 returned with a 一次性告知 and applied
again; 补正 and 补齐 answered online with files; the delivery chosen online (express: 0 visits, window: 1); only
the applicant of an online case answers its own requests; stale answers 409, bad input 422 naming the field. Each
path through the API and through the pages, and every case still verifies."""
from __future__ import annotations

import io

import pytest

from tests.test_applicants import COMPANY, PERSON, sign_up
from tests.test_catalogue_walk import Clerks, application, verify_all
from tests.walk import add_hall_users, pickup_data
from web import create_app

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def hall(services, db_url):
    add_hall_users(services)
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret",
                             "VALIDATE_RESPONSES": True})
    return Clerks(app.test_client())


def apply_online(hall, h, code, materials=None) -> dict:
    guide = hall.client.get(f"/api/v1/matters/{code}", headers=h).json
    body = {"matter": code, "data": application(guide["form"], guide["guide"].get("choose")),
            "materials": materials if materials is not None else [m["id"] for m in guide["materials"]]}
    r = hall.client.post("/api/v1/me/cases", headers=h, json=body)
    assert r.status_code == 201, r.json
    return r.json


def upload(hall, h, content=PDF, name="scan.pdf") -> str:
    r = hall.client.post("/api/v1/files", headers=h, data={"file": (io.BytesIO(content), name)},
                         content_type="multipart/form-data")
    assert r.status_code == 201, r.json
    return r.json["sha256"]


def mine(hall, h, case_id) -> dict:
    r = hall.client.get(f"/api/v1/me/cases/{case_id}", headers=h)
    assert r.status_code == 200, r.json
    return r.json


def task_of(case, rule):
    return next(t for t in case["tasks"] if t["rule"] == rule)


def finish(hall, case, pickup="window"):
    """The departments approve and the window hands out (no 补正)."""
    return hall.walk(case, pickup=pickup)


def form_data(form: dict) -> dict:
    """The start-form fields a page form posted (f_ prefix), for comparison with what the case started with."""
    return {k[2:]: v for k, v in form.items() if k.startswith("f_") and isinstance(v, str) and v != "on"
            and not v.replace(".", "").isdigit()}


def page_as(hall, username):
    page = hall.client
    with page.session_transaction() as sess:
        sess["user"], sess["e"], sess["csrf"] = username, 0, "t"
    return page


# ---------------------------------------------------------------- 预审 returned → resubmit → accepted
def test_returned_at_pre_check_then_applied_again_and_accepted(hall, cli_env, db_url):
    me = sign_up(hall.client, cli_env, COMPANY)
    case = apply_online(hall, me, "m_food_permit", materials=["layout"])
    t = task_of(case, "intake")
    returned = hall.post(f"/api/v1/tasks/{t['id']}/complete",
                         {"data": {"accepted": True, "materials": {"layout": "provided"}}})
    assert returned["status"] == "completed" and returned["notice"]["kind"] == "一次性告知"
    view = mine(hall, me, case["id"])
    assert view["notice"]["missing"] == ["食品安全管理制度"] or "食品安全管理制度" in view["notice"]["missing"]
    acts = view["acts"]
    assert acts["returned"] and acts["may_resubmit"] and not acts["may_choose_delivery"]
    assert acts["prefill"]["data"] and "食品安全管理制度" in acts["prefill"]["missing"]
    url = f"/api/v1/me/cases/{case['id']}/resubmit"
    assert hall.client.post(url, headers=me, json={"materials": ["nonsense"], "x": 1}).status_code == 422
    r = hall.client.post(url, headers=me, json={"materials": {"layout": "maybe"}})
    assert r.status_code == 422 and any(k.startswith("materials") for k in r.json["error"]["fields"])
    sha = upload(hall, me)
    r = hall.client.post(url, headers=me, json={"materials": {"layout": "provided", "safety_rules": {
        "status": "provided", "files": [sha]}, "lease": "provided", "licence": "provided"}})
    assert r.status_code == 201, r.json
    again = r.json
    assert again["id"] != case["id"] and again["channel"] == "online"
    assert again["acts"]["resubmission_of"] == {"id": case["id"], "number": case["number"]}
    assert mine(hall, me, case["id"])["acts"]["resubmitted_as"]["id"] == again["id"]
    assert hall.client.post(url, headers=me, json={"materials": ["layout"]}).status_code == 409  # once
    other = sign_up(hall.client, cli_env, PERSON)
    assert hall.client.post(url, headers=other, json={"materials": ["layout"]}).status_code == 404
    # a case that was not returned is not applied for again
    r = hall.client.post(f"/api/v1/me/cases/{again['id']}/resubmit", headers=me, json={"materials": ["layout"]})
    assert r.status_code == 409
    t = task_of(again, "intake")
    accepted = hall.post(f"/api/v1/tasks/{t['id']}/complete", {"data": {"accepted": True, "materials": {
        "layout": "provided", "safety_rules": "provided", "lease": "provided", "licence": "provided"}}})
    assert accepted["notice"] is None and any(t["rule"] == "review" for t in accepted["tasks"])
    done = finish(hall, accepted)
    assert done["status"] == "completed" and done["visits"] == 1  # collected at the window
    out = verify_all(db_url)
    assert " 0 failed" in out and "ok," in out


# ---------------------------------------------------------------- 补正 online with a file
def test_correction_answered_online_with_a_file_then_approved(hall, cli_env, db_url):
    me = sign_up(hall.client, cli_env, COMPANY)
    case = apply_online(hall, me, "m_signboard")
    case = hall.act(case, "intake", {"accepted": True, "materials": {m: "provided" for m in _materials(hall, "m_signboard")}})
    case = hall.act(case, "review", {"decision": "correct", "opinion": "效果图不清晰", "corrections": ["效果图"]})
    view = mine(hall, me, case["id"])
    (ask,) = view["acts"]["tasks"]
    assert ask["rule"] == "correction" and [a["key"] for a in ask["asked"]] == ["效果图"]
    assert ask["opinion"] == "效果图不清晰"
    url = f"/api/v1/me/cases/{case['id']}/correction"
    # bad input names the field; nothing is half-saved
    r = hall.client.post(url, headers=me, json={"supplied": []})
    assert r.status_code == 422 and "supplied" in r.json["error"]["fields"]
    r = hall.client.post(url, headers=me, json={"supplied": ["营业执照"]})
    assert r.status_code == 422 and "supplied[0]" in r.json["error"]["fields"]
    r = hall.client.post(url, headers=me, json={"supplied": ["效果图"], "files": {"效果图": ["abc"]}})
    assert r.status_code == 422 and any(k.startswith("files") for k in r.json["error"]["fields"])
    sha = upload(hall, me)
    r = hall.client.post(url, headers=me, json={"supplied": ["效果图"], "files": {"平面图": [sha]}})
    assert r.status_code == 422 and "files.平面图" in r.json["error"]["fields"]
    r = hall.client.post(url, headers=me, json={"supplied": ["效果图"], "files": {"效果图": ["0" * 64]}})
    assert r.status_code == 422  # never uploaded
    # another applicant cannot answer it; a stale task id is 409
    other = sign_up(hall.client, cli_env, PERSON)
    assert hall.client.post(url, headers=other, json={"supplied": ["效果图"]}).status_code == 404
    r = hall.client.post(url, headers=me, json={"supplied": ["效果图"], "task": "no-such-task"})
    assert r.status_code == 409
    assert hall.client.post(f"/api/v1/me/cases/{case['id']}/supply", headers=me,
                            json={"supplied": ["x"]}).status_code == 409  # nothing owed
    r = hall.client.post(url, headers=me, json={"supplied": ["效果图"], "files": {"效果图": [sha]},
                                                "remark": "已重新绘制"})
    assert r.status_code == 200, r.json
    assert r.json["acts"]["tasks"] == [] and any(t["rule"] == "review" for t in r.json["tasks"])
    assert hall.client.post(url, headers=me, json={"supplied": ["效果图"]}).status_code == 409  # duplicate
    events = hall.get(f"/api/v1/cases/{case['id']}/events")
    answered = next(e for e in events if e["type"] == "task_completed" and e["payload"].get("rule") == "correction")
    assert answered["actor"] == COMPANY["phone"]
    assert answered["payload"]["context"]["files"][sha]["content_type"] == "application/pdf"
    done = finish(hall, hall.get(f"/api/v1/cases/{case['id']}"))
    assert done["status"] == "completed" and all(m["status"] == "approved" for m in done["members"])
    out = verify_all(db_url)
    assert " 0 failed" in out and "ok," in out


def _materials(hall, code):
    return [m["id"] for m in hall.get(f"/api/v1/matters/{code}")["materials"]]


# ---------------------------------------------------------------- 容缺 → 补齐 online
def test_deferred_material_supplied_online(hall, cli_env, db_url):
    me = sign_up(hall.client, cli_env, COMPANY)
    case = apply_online(hall, me, "m_food_permit")
    case = hall.act(case, "intake", {"accepted": True, "materials": {
        "licence": "provided", "lease": "deferred", "layout": "provided", "safety_rules": "provided"}})
    assert [o["id"] for o in case["owed"]] == ["lease"]
    (ask,) = mine(hall, me, case["id"])["acts"]["tasks"]
    assert ask["rule"] == "supply" and ask["asked"] == [{"key": "lease", "name": ask["asked"][0]["name"]}]
    url = f"/api/v1/me/cases/{case['id']}/supply"
    r = hall.client.post(url, headers=me, json={"supplied": []})
    assert r.status_code == 422 and "supplied" in r.json["error"]["fields"]
    sha = upload(hall, me, PDF + b"lease")
    r = hall.client.post(url, headers=me, json={"supplied": ["lease"], "files": {"layout": [sha]}})
    assert r.status_code == 422 and "files.layout" in r.json["error"]["fields"]
    r = hall.client.post(url, headers=me, json={"supplied": ["lease"], "files": {"lease": [sha]}})
    assert r.status_code == 200, r.json
    assert r.json["owed"] == [] and r.json["acts"]["tasks"] == []
    assert hall.client.post(url, headers=me, json={"supplied": ["lease"]}).status_code == 409
    done = finish(hall, hall.get(f"/api/v1/cases/{case['id']}"), pickup="express")
    assert done["status"] == "completed" and done["visits"] == 0
    out = verify_all(db_url)
    assert " 0 failed" in out and "ok," in out


# ---------------------------------------------------------------- delivery: express 0 visits, window 1
def test_express_chosen_online_prefills_the_pickup_and_counts_no_visit(hall, cli_env, db_url):
    me = sign_up(hall.client, cli_env, PERSON)
    case = apply_online(hall, me, "m_id_card_renew")
    url = f"/api/v1/me/cases/{case['id']}/delivery"
    r = hall.client.put(url, headers=me, json={"method": "drone"})
    assert r.status_code == 422 and "method" in r.json["error"]["fields"]
    r = hall.client.put(url, headers=me, json={"method": "express", "name": "赵六", "phone": "12345"})
    assert r.status_code == 422 and {"phone", "address"} <= set(r.json["error"]["fields"])
    assert mine(hall, me, case["id"])["acts"]["delivery"] is None  # nothing half-saved
    r = hall.client.put(url, headers=me, json={"method": "express", "name": "赵六", "phone": "13912345678",
                                               "address": "梅山街道春晓路 8 号"})
    assert r.status_code == 200 and r.json["method"] == "express" and r.json["address"] == "梅山街道春晓路 8 号"
    other = sign_up(hall.client, cli_env, COMPANY)
    assert hall.client.put(url, headers=other, json={"method": "window"}).status_code == 404
    case = hall.act(case, "intake", {"accepted": True})
    while any(t["rule"] == "review" for t in case["tasks"]):
        case = hall.act(case, "review", {"decision": "approve", "opinion": "同意"})
    assert task_of(case, "pickup")
    # the pickup clerk sees the choice, the express address pre-filled
    page = page_as(hall, "pickup1")
    html = page.get("/pickup/").get_data(as_text=True)
    assert 'id="chosen-' in html and html.count("梅山街道春晓路 8 号") == 2 and '<option value="express" selected>' in html
    data = {"method": "express", "tracking_no": "SF100", "address": "梅山街道春晓路 8 号",
            "recipient": {"name": "赵六", "phone": "13912345678"}}
    done = hall.act(case, "pickup", data)
    assert done["status"] == "completed" and done["visits"] == 0
    events = hall.get(f"/api/v1/cases/{case['id']}/events")
    picked = next(e for e in events if e["payload"].get("rule") == "pickup")
    assert picked["payload"]["context"]["chosen"]["address"] == "梅山街道春晓路 8 号"
    r = hall.client.put(url, headers=me, json={"method": "window"})
    assert r.status_code == 409  # handed out already
    out = verify_all(db_url)
    assert " 0 failed" in out and "ok," in out


def test_window_pickup_chosen_online_counts_one_visit(hall, cli_env, db_url):
    me = sign_up(hall.client, cli_env, PERSON)
    case = apply_online(hall, me, "m_id_card_renew")
    r = hall.client.put(f"/api/v1/me/cases/{case['id']}/delivery", headers=me, json={"method": "window"})
    assert r.status_code == 200 and r.json["method"] == "window" and r.json["address"] is None
    done = finish(hall, hall.act(case, "intake", {"accepted": True}), pickup="window")
    assert done["status"] == "completed" and done["visits"] == 1
    out = verify_all(db_url)
    assert " 0 failed" in out and "ok," in out


# ---------------------------------------------------------------- who may answer
def test_only_the_applicant_of_an_online_case_answers_and_the_window_still_can(hall, cli_env, db_url):
    me = sign_up(hall.client, cli_env, COMPANY)
    # a window case: the applicant has no account on it, cannot see nor answer it
    window = hall.apply("m_signboard")
    window = hall.act(window, "review", {"decision": "correct", "opinion": "补正", "corrections": ["效果图"]})
    r = hall.client.post(f"/api/v1/me/cases/{window['id']}/correction", headers=me, json={"supplied": ["效果图"]})
    assert r.status_code == 404
    t = task_of(window, "correction")
    r = hall.client.post(f"/api/v1/tasks/{t['id']}/complete", headers=me, json={"data": {"supplied": ["效果图"]}})
    assert r.status_code == 403
    # my online case: the applicant may not do the reviewer's work; the front desk still answers at the window
    case = apply_online(hall, me, "m_signboard")
    t = task_of(case, "intake")
    r = hall.client.post(f"/api/v1/tasks/{t['id']}/complete", headers=me, json={"data": {"accepted": True}})
    assert r.status_code == 403
    case = hall.act(case, "intake", {"accepted": True, "materials": {m: "provided" for m in _materials(hall, "m_signboard")}})
    t = task_of(case, "review")
    r = hall.client.post(f"/api/v1/tasks/{t['id']}/complete", headers=me,
                         json={"data": {"decision": "approve", "opinion": "自己批"}})
    assert r.status_code == 403
    case = hall.act(case, "review", {"decision": "correct", "opinion": "补正", "corrections": ["效果图"]})
    case = hall.act(case, "correction", {"supplied": ["效果图"]})  # the front desk, at the window
    assert hall.client.post(f"/api/v1/me/cases/{case['id']}/correction", headers=me,
                            json={"supplied": ["效果图"]}).status_code == 409
    assert finish(hall, case)["status"] == "completed"
    assert finish(hall, hall.act(window, "correction", {"supplied": ["效果图"]}))["status"] == "completed"
    out = verify_all(db_url)
    assert " 0 failed" in out and "ok," in out


# ---------------------------------------------------------------- the same on the pages
def test_pages_returned_then_applied_again(hall, cli_env, db_url):
    me = sign_up(hall.client, cli_env, COMPANY)
    case = apply_online(hall, me, "m_food_permit", materials=["layout"])
    hall.act(case, "intake", {"accepted": True, "materials": {"layout": "provided"}})
    page = page_as(hall, COMPANY["phone"])
    html = page.get(f"/me/cases/{case['id']}").get_data(as_text=True)
    assert 'id="notice"' in html and "食品安全管理制度" in html and 'id="resubmit-form"' in html
    assert 'name="materials" value="layout" checked' in html  # prefilled with what the window marked
    assert 'id="delivery-form"' not in html  # a returned case is not delivered
    form = {"_csrf": "t", "materials": ["layout", "safety_rules", "lease", "licence"],
            "file_1": (io.BytesIO(b"not a pdf"), "x.pdf")}
    r = page.post(f"/me/cases/{case['id']}/resubmit", data=form, content_type="multipart/form-data")
    assert r.status_code == 422 and "has-error" in r.get_data(as_text=True)
    form = {"_csrf": "t", "materials": ["layout", "safety_rules", "lease", "licence"],
            "file_3": (io.BytesIO(PDF), "rules.pdf")}  # safety_rules, the fourth material
    for k, v in hall.client.get(f"/api/v1/me/cases/{case['id']}", headers=me).json["acts"]["prefill"]["data"].items():
        if isinstance(v, list):
            form[f"f_{k}"] = [str(x) for x in v]
        elif isinstance(v, bool):
            if v:
                form[f"f_{k}"] = "on"
        else:
            form[f"f_{k}"] = str(v)
    r = page.post(f"/me/cases/{case['id']}/resubmit", data=form, content_type="multipart/form-data")
    assert r.status_code == 302, [l for l in r.get_data(as_text=True).splitlines() if "error" in l]
    new_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    html = page.get(f"/me/cases/{new_id}").get_data(as_text=True)
    assert 'id="resubmission-of"' in html and case["number"] in html
    again = hall.get(f"/api/v1/cases/{new_id}")
    accepted = hall.act(again, "intake", {"accepted": True})  # the materials and file handed in online stand
    assert accepted["notice"] is None and any(t["rule"] == "review" for t in accepted["tasks"])
    started = next(e for e in hall.get(f"/api/v1/cases/{new_id}/events") if e["type"] == "case_started")
    assert list(started["payload"]["submission"]["files"]) == ["safety_rules"]  # the file uploaded on the page
    assert started["payload"]["data"] == {**started["payload"]["data"], **form_data(form)}
    r = page.post(f"/me/cases/{case['id']}/resubmit", data={"_csrf": "t", "materials": ["layout"]})
    assert r.status_code == 302  # answered once: told so on the page
    assert "已重新提交过" in page.get(f"/me/cases/{case['id']}").get_data(as_text=True)
    assert finish(hall, accepted)["status"] == "completed"
    out = verify_all(db_url)
    assert " 0 failed" in out and "ok," in out


def test_pages_correction_supply_and_delivery(hall, cli_env, db_url):
    me = sign_up(hall.client, cli_env, COMPANY)
    page = page_as(hall, COMPANY["phone"])
    # 补正 with a file
    corr = apply_online(hall, me, "m_signboard")
    corr = hall.act(corr, "intake", {"accepted": True})
    corr = hall.act(corr, "review", {"decision": "correct", "opinion": "效果图不清晰", "corrections": ["效果图"]})
    html = page.get(f"/me/cases/{corr['id']}").get_data(as_text=True)
    assert 'id="answer-correction"' in html and "效果图不清晰" in html
    task = task_of(corr, "correction")["id"]
    r = page.post(f"/me/cases/{corr['id']}/acts/correction", data={"_csrf": "t", "task": task, "keys": ["效果图"]})
    assert r.status_code == 422 and 'id="supplied-error"' in r.get_data(as_text=True)
    r = page.post(f"/me/cases/{corr['id']}/acts/correction", content_type="multipart/form-data", data={
        "_csrf": "t", "task": task, "keys": ["效果图"], "supplied": ["效果图"], "remark": "重新绘制",
        "file_0": (io.BytesIO(PDF + b"design"), "design.pdf")})
    assert r.status_code == 302
    r = page.post(f"/me/cases/{corr['id']}/acts/correction", data={"_csrf": "t", "task": task, "keys": ["效果图"],
                                                                    "supplied": ["效果图"]})
    assert r.status_code == 302  # stale: told on the page, nothing done twice
    assert 'id="answer-correction"' not in page.get(f"/me/cases/{corr['id']}").get_data(as_text=True)
    done = finish(hall, hall.get(f"/api/v1/cases/{corr['id']}"))
    assert done["status"] == "completed" and all(m["status"] == "approved" for m in done["members"])
    # 补齐 with a file, and express chosen on the page
    owed = apply_online(hall, me, "m_food_permit")
    owed = hall.act(owed, "intake", {"accepted": True, "materials": {
        "licence": "provided", "lease": "deferred", "layout": "provided", "safety_rules": "provided"}})
    url = f"/me/cases/{owed['id']}/delivery"
    r = page.post(url, data={"_csrf": "t", "method": "express", "name": "李四", "phone": "abc", "address": ""})
    assert r.status_code == 422 and 'id="phone-error"' in r.get_data(as_text=True) \
        and 'id="address-error"' in r.get_data(as_text=True)
    r = page.post(url, data={"_csrf": "t", "method": "express", "name": "李四", "phone": "13812345678",
                             "address": "春晓街道 1 号"})
    assert r.status_code == 302
    html = page.get(f"/me/cases/{owed['id']}").get_data(as_text=True)
    assert 'id="delivery"' in html and "春晓街道 1 号" in html and 'id="answer-supply"' in html
    r = page.post(f"/me/cases/{owed['id']}/acts/supply", content_type="multipart/form-data", data={
        "_csrf": "t", "keys": ["lease"], "supplied": ["lease"], "file_0": (io.BytesIO(PDF + b"lease"), "lease.pdf")})
    assert r.status_code == 302
    owed = hall.get(f"/api/v1/cases/{owed['id']}")
    assert owed["owed"] == []
    while any(t["rule"] == "review" for t in owed["tasks"]):
        owed = hall.act(owed, "review", {"decision": "approve", "opinion": "同意"})
    clerk = page_as(hall, "pickup1")
    html = clerk.get("/pickup/").get_data(as_text=True)
    assert f'id="chosen-{owed["number"]}" data-method="express"' in html
    assert html.count("春晓街道 1 号") == 2  # shown, and the express address pre-filled in the clerk's form
    done = hall.act(owed, "pickup", {"method": "express", "tracking_no": "SF9", "address": "春晓街道 1 号",
                                     "recipient": {"name": "李四", "phone": "13812345678"}})
    assert done["status"] == "completed" and done["visits"] == 0
    page = page_as(hall, COMPANY["phone"])
    html = page.get(f"/me/cases/{owed['id']}").get_data(as_text=True)
    assert 'id="delivery-form"' not in html  # handed out: no more changes
    assert "Delivery" in page.get(f"/me/cases/{owed['id']}?lang=en").get_data(as_text=True)
    # another applicant's case is not found on the pages either
    other = sign_up(hall.client, cli_env, PERSON)
    assert other
    page = page_as(hall, PERSON["phone"])
    assert page.post(url, data={"_csrf": "t", "method": "window"}).status_code == 404
    assert page.post(f"/me/cases/{corr['id']}/acts/correction", data={"_csrf": "t", "supplied": ["效果图"]}).status_code == 404
    out = verify_all(db_url)
    assert " 0 failed" in out and "ok," in out


def test_an_agent_answers_and_chooses_the_delivery_only_within_the_authorisation(hall, cli_env, db_url):
    """帮办代办: an agent acting for the applicant answers 补正 and chooses the delivery where the authorisation covers
    those acts; the event names the agent as actor and the applicant as on_behalf_of."""
    from datetime import datetime, timedelta, timezone

    me = sign_up(hall.client, cli_env, COMPANY)
    agent = sign_up(hall.client, cli_env, PERSON)
    until = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    r = hall.client.post("/api/v1/me/authorisations", headers=me, json={
        "agent": PERSON["phone"], "acts": ["track", "answer"], "valid_until": until})
    assert r.status_code == 201, r.json
    acting = dict(agent, **{"On-Behalf-Of": COMPANY["phone"]})
    case = apply_online(hall, me, "m_signboard")
    case = hall.act(case, "intake", {"accepted": True})
    case = hall.act(case, "review", {"decision": "correct", "opinion": "补正", "corrections": ["效果图"]})
    r = hall.client.put(f"/api/v1/me/cases/{case['id']}/delivery", headers=acting, json={"method": "window"})
    assert r.status_code == 403  # not authorised to choose the delivery
    r = hall.client.post(f"/api/v1/me/cases/{case['id']}/correction", headers=agent, json={"supplied": ["效果图"]})
    assert r.status_code == 404  # acting for nobody: not the agent's own case
    r = hall.client.post(f"/api/v1/me/cases/{case['id']}/correction", headers=acting, json={"supplied": ["效果图"]})
    assert r.status_code == 200, r.json
    answered = next(e for e in hall.get(f"/api/v1/cases/{case['id']}/events")
                    if e["payload"].get("rule") == "correction")
    assert answered["actor"] == PERSON["phone"] and answered["payload"]["on_behalf_of"] == COMPANY["phone"]
    assert finish(hall, hall.get(f"/api/v1/cases/{case['id']}"))["status"] == "completed"
    out = verify_all(db_url)
    assert " 0 failed" in out and "ok," in out
