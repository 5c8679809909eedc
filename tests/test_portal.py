"""The applicant's own cases (issue 14): apply online, the window accepts, departments decide, pickup; track the
case, rate it once; a bad rating starts a 差评整改 that runs 核实 → 整改 → 回访; every case still verifies."""
from __future__ import annotations

import pytest

from tests.test_applicants import COMPANY, PERSON, sign_up
from tests.test_catalogue_walk import Clerks, application, verify_all
from tests.walk import add_hall_users, pickup_data
from web import create_app


@pytest.fixture
def hall(services, db_url):
    add_hall_users(services)
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret",
                             "VALIDATE_RESPONSES": True})
    return Clerks(app.test_client())


def online(hall, h, code="m_id_card_renew", **extra) -> dict:
    guide = hall.client.get(f"/api/v1/matters/{code}", headers=h).json
    body = {"matter": code, "data": application(guide["form"], guide["guide"].get("choose")),
            "materials": [m["id"] for m in guide["materials"]], **extra}
    r = hall.client.post("/api/v1/me/cases", headers=h, json=body)
    assert r.status_code == 201, r.json
    return r.json


def accept_and_finish(hall, case: dict) -> dict:
    """The front desk accepts the online application (预审), the departments approve, the window hands out."""
    t = next(t for t in case["tasks"] if t["rule"] == "intake")
    case = hall.post(f"/api/v1/tasks/{t['id']}/complete", {"data": {"accepted": True}})
    return hall.walk(case)


def test_apply_online_track_and_rate(hall, cli_env, services, db_url):
    me = sign_up(hall.client, cli_env, PERSON)
    r = hall.client.post("/api/v1/me/cases", headers=me, json={"matter": "m_id_card_renew",
                                                                "applicant": {"name": "冒名者"}})
    assert r.status_code == 422 and "applicant" in r.json["error"]["fields"]  # who applies is the identity
    case = online(hall, me)
    assert case["channel"] == "online" and case["visits"] == 0
    assert case["applicant"]["name"] == PERSON["name"] and case["applicant"]["id_number"] == PERSON["id_number"]
    assert any(t["rule"] == "intake" for t in case["tasks"])  # waits for the front desk's 预审
    mine = hall.client.get("/api/v1/me/cases", headers=me).json
    assert [c["id"] for c in mine] == [case["id"]] and mine[0]["applicant"]["id_number"] == "3302**********0022"
    r = hall.client.post(f"/api/v1/me/cases/{case['id']}/rating", headers=me, json={"level": 5})
    assert r.status_code == 409  # not finished yet
    done = accept_and_finish(hall, case)
    assert done["status"] == "completed"
    mine = hall.client.get(f"/api/v1/me/cases/{case['id']}", headers=me).json
    assert mine["status"] == "completed" and mine["may_rate"] and mine["rating"] is None
    r = hall.client.post(f"/api/v1/me/cases/{case['id']}/rating", headers=me,
                         json={"level": 2, "comment": "等了很久", "tags": ["办理慢", "办理慢"]})
    assert r.status_code == 201, r.json
    assert r.json["title"] == "不满意" and r.json["tags"] == ["办理慢"] and r.json["rectification_case"]
    again = hall.client.post(f"/api/v1/me/cases/{case['id']}/rating", headers=me, json={"level": 5})
    assert again.status_code == 409  # 一次一评
    # the 差评整改 runs at the department concerned: 核实 → 整改 → 回访, 5 working days in all
    zg = hall.get(f"/api/v1/cases/{r.json['rectification_case']}", user="police1")
    assert zg["matter"] == "zg_police" and zg["channel"] == "internal" and zg["visits"] == 0
    steps = []
    for data in ({"substantiated": "yes", "finding": "排队时间过长属实"}, {"measures": "增开窗口"},
                 {"result": "satisfied", "remark": "电话回访，申请人认可"}):
        (t,) = zg["tasks"]
        assert t["group"] == "police" and t["due"]
        steps.append(t["element_id"])
        zg = hall.post(f"/api/v1/tasks/{t['id']}/complete", {"data": data}, user="police1")
    assert steps == ["verify", "fix", "revisit"] and zg["status"] == "completed"
    figures = hall.get("/api/v1/stats", user="super1")["ratings"]
    assert figures["total"] == 1 and figures["bad"] == 1 and figures["rectifying"] == 0
    assert {x["title"]: x["count"] for x in figures["by_level"]}["不满意"] == 1
    page = hall.client
    with page.session_transaction() as sess:
        sess["user"], sess["e"] = "super1", 0
    html = page.get("/supervisor/").get_data(as_text=True)
    assert 'id="ratings"' in html and '<strong id="bad-ratings">1 / 0</strong>' in html
    out = verify_all(db_url)
    assert " 0 failed" in out and "ok," in out


def test_a_good_rating_starts_nothing_and_ratings_are_checked(hall, cli_env):
    me = sign_up(hall.client, cli_env, PERSON)
    case = accept_and_finish(hall, online(hall, me))
    url = f"/api/v1/me/cases/{case['id']}/rating"
    for bad in ({"level": 0}, {"level": 6}, {"level": "满意"}, {"level": 4, "tags": [""]}, {"level": 4, "x": 1}):
        assert hall.client.post(url, headers=me, json=bad).status_code == 422, bad
    r = hall.client.post(url, headers=me, json={"level": 4})
    assert r.status_code == 201 and r.json["title"] == "满意" and r.json["rectification_case"] is None


def test_applicants_see_only_their_own_cases(hall, cli_env):
    me = sign_up(hall.client, cli_env, PERSON)
    other = sign_up(hall.client, cli_env, COMPANY)
    case = online(hall, me)
    assert hall.client.get(f"/api/v1/me/cases/{case['id']}", headers=other).status_code == 404
    assert hall.client.get(f"/api/v1/cases/{case['id']}", headers=other).status_code == 404
    assert hall.client.get("/api/v1/me/cases", headers=other).json == []
    r = hall.client.post(f"/api/v1/me/cases/{case['id']}/rating", headers=other, json={"level": 1})
    assert r.status_code == 404
    # staff have no /me; clerks cannot start a 差评整改 nor find it in the catalogue
    assert hall.client.get("/api/v1/me/cases", headers=hall.h("front")).status_code == 403
    r = hall.client.post("/api/v1/cases", headers=hall.h("front"), json={
        "matter": "zg_police", "applicant": {"type": "person", "name": "王五"}, "channel": "window"})
    assert r.status_code in (404, 422)
    assert not [m for m in hall.get("/api/v1/matters") if m["code"].startswith("zg_")]


def test_an_applicant_account_needs_a_confirmed_identity(hall, services):
    from engine.bootstrap import DEMO_APPLICANT, seed_applicant

    r = hall.client.post("/api/v1/me/cases", headers=hall.h("citizen1"), json={"matter": "m_id_card_renew"})
    assert r.status_code == 403  # an applicant account without a confirmed identity (no profile)
    assert seed_applicant(services, "citizen1", DEMO_APPLICANT) and not seed_applicant(services, "citizen1", DEMO_APPLICANT)
    case = online(hall, hall.h("citizen1"))  # the demo's citizen1 (make serve) applies as 王五
    assert case["applicant"]["name"] == "王五" and case["applicant"]["id_number"] == DEMO_APPLICANT["id_number"]


def test_with_halls_the_rectification_goes_to_the_deciding_hall(services, db_url, cli_env):
    """With the demo's organisation an applicant signs up at the top hall; the 差评整改 lands in the inbox of the
    department that decided the case, at its hall."""
    from engine.bootstrap import seed_org

    seed_org(services)
    for name, groups in (("front_m", ["front_desk"]), ("police_m", ["police"]), ("pickup_m", ["pickup"])):
        services.add_user(name, "pw", groups, name, "main")
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})
    hall = Clerks(app.test_client())
    me = sign_up(hall.client, cli_env, PERSON)
    case = online(hall, me)
    assert case["hall"] == "main"
    t = next(t for t in case["tasks"] if t["rule"] == "intake")
    case = hall.post(f"/api/v1/tasks/{t['id']}/complete", {"data": {"accepted": True}}, user="front_m")
    while case["tasks"]:
        t = case["tasks"][0]
        data = {"decision": "approve", "opinion": "同意"} if t["rule"] == "review" else pickup_data()
        case = hall.post(f"/api/v1/tasks/{t['id']}/complete", {"data": data},
                         user={"police": "police_m", "pickup": "pickup_m"}[t["group"]])
    r = hall.client.post(f"/api/v1/me/cases/{case['id']}/rating", headers=me, json={"level": 1})
    assert r.status_code == 201, r.json
    zg = hall.get(f"/api/v1/cases/{r.json['rectification_case']}", user="police_m")
    assert zg["hall"] == case["authority"]["hall"] and zg["tasks"][0]["group"] == "police"
    assert any(t["case_id"] == zg["id"] for t in hall.get("/api/v1/tasks", user="police_m")["items"])
    assert not any(t["case_id"] == zg["id"] for t in hall.get("/api/v1/tasks", user="front_m")["items"])


def test_the_applicant_pages_list_track_and_rate(hall, cli_env, services):
    """Sign in on the page with the phone, see my cases, follow one, rate a finished one."""
    me = sign_up(hall.client, cli_env, PERSON)
    running = online(hall, me)
    done = accept_and_finish(hall, online(hall, me))
    page = hall.client  # the same app: pages use a cookie session
    with page.session_transaction() as sess:
        sess["csrf"] = "t"
    r = page.post("/login", data={"_csrf": "t", "username": PERSON["phone"], "password": PERSON["password"]})
    assert r.status_code == 302 and r.headers["Location"].endswith("/me/")
    with page.session_transaction() as sess:
        sess["csrf"] = "t"
    html = page.get("/me/").get_data(as_text=True)
    assert done["number"] in html and running["number"] in html and "去评价" in html
    assert 'name="viewport"' in html and "https://" not in html  # mobile-friendly, nothing from a CDN
    html = page.get(f"/me/cases/{running['id']}").get_data(as_text=True)
    assert "办结后可评价" in html and 'name="level"' not in html
    html = page.get(f"/me/cases/{done['id']}").get_data(as_text=True)
    assert 'name="level"' in html and "非常不满意" in html
    assert page.post(f"/me/cases/{done['id']}/rating", data={"level": "3"}).status_code == 400  # no CSRF token
    r = page.post(f"/me/cases/{done['id']}/rating", data={"_csrf": "t", "level": "9"})
    assert r.status_code == 422
    r = page.post(f"/me/cases/{done['id']}/rating", data={"_csrf": "t", "level": "3", "comment": "还行", "tags": "态度好"})
    assert r.status_code == 302
    html = page.get(f"/me/cases/{done['id']}").get_data(as_text=True)
    assert 'id="rating"' in html and "基本满意" in html
    en = page.get(f"/me/cases/{done['id']}?lang=en").get_data(as_text=True)
    assert "Fairly satisfied" in en and "My cases" in en
    # another applicant's case is not found on the pages either; staff have no /me
    other = sign_up(hall.client, cli_env, COMPANY)
    assert other
    with page.session_transaction() as sess:
        sess["user"], sess["e"] = COMPANY["phone"], 0
    assert page.get(f"/me/cases/{done['id']}").status_code == 404
    with page.session_transaction() as sess:
        sess["user"], sess["e"] = "front", 0
    assert page.get("/me/").status_code == 403


def test_sign_up_and_confirm_on_the_pages(hall, cli_env):
    from tests.test_applicants import code_for

    page = hall.client
    with page.session_transaction() as sess:
        sess["csrf"] = "t"
    assert "申请人注册" in page.get("/login").get_data(as_text=True)
    html = page.get("/me/signup").get_data(as_text=True)
    assert 'name="id_number"' in html and 'name="credit_code"' in html
    r = page.post("/me/signup", data=dict(PERSON, _csrf="t", id_number="330206198505050023"))
    assert r.status_code == 422 and "校验码" in r.get_data(as_text=True)
    r = page.post("/me/signup", data=dict(PERSON, _csrf="t"))
    assert r.status_code == 302 and "/me/confirm" in r.headers["Location"]
    assert page.post("/me/signup", data=dict(PERSON, _csrf="t")).status_code == 409
    r = page.post("/me/confirm", data={"_csrf": "t", "phone": PERSON["phone"], "code": "abc"})
    assert r.status_code == 422
    r = page.post("/me/confirm", data={"_csrf": "t", "phone": PERSON["phone"], "code": code_for(cli_env, PERSON["phone"])})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = page.post("/login", data={"_csrf": "t", "username": PERSON["phone"], "password": PERSON["password"]})
    assert r.status_code == 302 and r.headers["Location"].endswith("/me/")
    assert "Applicant sign-up" in page.get("/me/signup?lang=en").get_data(as_text=True)


# ---------------------------------------------------------------- the portal pages: catalogue, guides, apply, papers
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
START_UP = {"f_address": "梅山街道1号", "f_contact_name": "李四", "f_id_number": "330206199001010013",
            "f_registered_capital": "100"}


def as_page(client, username: str):
    """Sign the page client in as `username` (cookie session) with a known CSRF token."""
    with client.session_transaction() as sess:
        sess["user"], sess["e"], sess["csrf"] = username, 0, "t"
    return client


def page_apply(page, code: str, fields: dict, files: dict | None = None, token: str = "tok-1", **materials):
    from io import BytesIO

    data = {"_csrf": "t", "form_token": token, **fields, **{f"mat_{k}": v for k, v in materials.items()}}
    for mid, (name, body) in (files or {}).items():
        data[f"file_{mid}"] = (BytesIO(body), name)
    return page.post(f"/me/matters/{code}", data=data, content_type="multipart/form-data")


def test_the_catalogue_and_applying_for_a_bundle_on_the_pages(hall, cli_env, db_url):
    me = sign_up(hall.client, cli_env, COMPANY)
    page = as_page(hall.client, COMPANY["phone"])
    html = page.get("/me/matters?q=企业开办").get_data(as_text=True)
    assert 'data-code="b_start_up"' in html and "在线申请" in html and 'name="viewport"' in html
    assert "https://" not in html and "http://" not in html.replace("http://localhost", "")
    assert 'data-code="m_id_card_renew"' not in html  # the search is the front desk's
    html = page.get("/me/matters/b_start_up").get_data(as_text=True)
    assert 'name="f_registered_capital"' in html and 'name="file_articles"' in html and "办事指南" in html
    assert COMPANY["name"] in html and 'name="a_name"' not in html  # who applies is my identity, not typed in
    en = page.get("/me/matters/b_start_up?lang=en").get_data(as_text=True)
    assert "Apply online" in en and "Submit application" in en and "Service guide" in en
    # the same validation as POST /api/v1/me/cases: 422 naming each field, nothing saved
    r = page_apply(page, "b_start_up", {"f_address": "梅山街道1号", "f_registered_capital": "-5"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="f_contact_name-error"' in html and 'id="f_registered_capital-error"' in html
    api = hall.client.post("/api/v1/me/cases", headers=me, json={"matter": "b_start_up", "data": {
        "address": "梅山街道1号", "registered_capital": -5}})
    assert api.status_code == 422 and {"contact_name", "registered_capital"} <= set(api.json["error"]["fields"])
    assert hall.client.get("/api/v1/me/cases", headers=me).json == []
    # with the legal representative's ID number typed in, the population register holds the ID card: 免提交
    r = page_apply(page, "b_start_up", dict(START_UP, f_contact_name=""))
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="on-file-id_card"' in html and 'id="f_contact_name-error"' in html
    # a bad file is refused by its content, as at the window
    r = page_apply(page, "b_start_up", START_UP, {"articles": ("章程.pdf", b"not a pdf")})
    assert r.status_code == 422 and 'id="file_articles-error"' in r.get_data(as_text=True)
    r = page_apply(page, "b_start_up", START_UP, {"articles": ("公司章程.pdf", PDF)}, lease="deferred")
    assert r.status_code == 303, r.get_data(as_text=True)
    case_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    again = page_apply(page, "b_start_up", START_UP, {"articles": ("公司章程.pdf", PDF)}, lease="deferred")
    assert again.status_code == 303 and again.headers["Location"] == r.headers["Location"]  # a reload applies once
    mine = hall.client.get("/api/v1/me/cases", headers=me).json
    assert [c["id"] for c in mine] == [case_id] and mine[0]["channel"] == "online"
    case = hall.get(f"/api/v1/cases/{case_id}")
    assert case["applicant"]["credit_code"] == COMPANY["credit_code"] and case["matter"] == "b_start_up"
    papers = hall.get(f"/api/v1/tasks/{case['tasks'][0]['id']}")["materials"]
    articles = next(m for m in papers if m["id"] == "articles")
    assert articles["status"] == "submitted" and articles["status_text"] == "网上已提交（待预审）"
    assert next(m for m in papers if m["id"] == "lease")["status"] == "deferred"
    assert articles["files"][0]["name"] == "公司章程.pdf"
    assert hall.client.get(articles["files"][0]["url"], headers=me).data == PDF  # my own file
    html = page.get(f"/me/cases/{case_id}").get_data(as_text=True)
    assert 'id="open-steps"' in html and "综合受理" in html
    # the front desk's 预审 takes what I handed in online (materials and files); replay reproduces it
    done = accept_and_finish(hall, case)
    assert done["status"] == "completed", done
    events = hall.get(f"/api/v1/cases/{case_id}/events")
    accepted = next(e["payload"] for e in events if e["type"] == "intake_accepted")
    assert accepted["kind"] == "容缺受理" and accepted["materials"]["articles"] == "provided"
    assert accepted["materials"]["id_card"] == "shared" and accepted["owed"] == ["lease"]
    started = next(e["payload"] for e in events if e["type"] == "case_started")
    assert started["submission"]["files"]["articles"] == [articles["files"][0]["sha256"]]
    verify = verify_all(db_url)
    assert " 0 failed" in verify and "ok," in verify


def test_a_window_only_matter_is_not_applied_for_online(hall, cli_env, services):
    from engine.runtime import portal

    me = sign_up(hall.client, cli_env, PERSON)
    page = as_page(hall.client, PERSON["phone"])
    html = page.get("/me/matters/sample_bundle").get_data(as_text=True)  # a demo sample: its guide says 窗口办理
    assert 'id="window-only"' in html and 'id="submit-apply"' not in html
    r = hall.client.post("/api/v1/me/cases", headers=me, json={"matter": "sample_bundle", "data": {}})
    assert r.status_code == 422 and "matter" in r.json["error"]["fields"]
    assert portal.ONLINE_WAYS == {"全程网办", "网上预审"}
    assert page.get("/me/matters/zg_police").status_code == 404  # an internal process is not applied for


def test_on_file_materials_come_from_my_earlier_cases_and_certificates(hall, cli_env):
    me = sign_up(hall.client, cli_env, COMPANY)
    first = online(hall, me, "b_start_up")
    done = accept_and_finish(hall, first)
    assert done["status"] == "completed" and done["certificates"]
    page = as_page(hall.client, COMPANY["phone"])
    html = page.get("/me/matters/m_food_permit").get_data(as_text=True)
    assert 'id="on-file-licence"' in html and done["certificates"][0]["number"] in html
    # another applicant has nothing on file
    sign_up(hall.client, cli_env, PERSON)
    page = as_page(hall.client, PERSON["phone"])
    assert 'id="on-file-licence"' not in page.get("/me/matters/m_food_permit").get_data(as_text=True)


def test_papers_download_and_an_applicant_never_sees_another_ones(hall, cli_env):
    me = sign_up(hall.client, cli_env, COMPANY)
    other = sign_up(hall.client, cli_env, PERSON)
    case = accept_and_finish(hall, online(hall, me, "b_start_up"))
    cid = case["id"]
    papers = hall.client.get(f"/api/v1/me/cases/{cid}/documents", headers=me).json
    kinds = {p["category"] for p in papers}
    assert kinds == {"document", "certificate"}, papers
    assert any(p["kind"] == "receipt" for p in papers)  # 受理通知书
    cert = next(p for p in papers if p["category"] == "certificate")
    r = hall.client.get(cert["pdf_url"], headers=me)
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    detail = hall.client.get(f"/api/v1/me/cases/{cid}", headers=me).json
    assert [s["name"] for s in detail["steps"]] and {c["number"] for c in detail["certificates"]} >= {cert["number"]}
    # another applicant: 404 on every /me endpoint and page for this case, its papers and files
    from io import BytesIO

    up = hall.client.post("/api/v1/files", headers=other, data={"file": (BytesIO(PDF + b"%other"), "旧身份证.pdf")},
                          content_type="multipart/form-data")
    assert up.status_code == 201, up.json
    mine_other = online(hall, other, materials={"old_id": {"status": "provided", "files": [up.json["sha256"]]},
                                                "photo": "provided"})
    files = [f["url"] for m in hall.get(f"/api/v1/tasks/{mine_other['tasks'][0]['id']}")["materials"]
             for f in m["files"]]
    assert files and all(hall.client.get(u, headers=other).status_code == 200 for u in files)
    cross = [u.replace(f"/cases/{mine_other['id']}/", f"/cases/{cid}/") for u in files]
    for url in (f"/api/v1/me/cases/{cid}", f"/api/v1/me/cases/{cid}/documents",
                f"/api/v1/me/cases/{cid}/documents/{cert['number']}.pdf", f"/api/v1/cases/{cid}",
                f"/api/v1/cases/{cid}/events", f"/api/v1/documents/{cert['number']}.pdf"):
        assert hall.client.get(url, headers=other).status_code == 404, url
    assert hall.client.post(f"/api/v1/me/cases/{cid}/rating", headers=other, json={"level": 1}).status_code == 404
    assert all(hall.client.get(u, headers=me).status_code == 404 for u in files + cross)  # nor their files
    assert all(hall.client.get(u, headers=other).status_code == 404 for u in cross)  # a file is read by its case
    # a paper of my other case is not found under this one
    other_papers = hall.client.get(f"/api/v1/me/cases/{mine_other['id']}/documents", headers=other).json
    for p in other_papers:
        assert hall.client.get(f"/api/v1/me/cases/{cid}/documents/{p['number']}.pdf", headers=me).status_code == 404
        assert hall.client.get(f"/api/v1/me/cases/{mine_other['id']}/documents/{p['number']}.pdf",
                               headers=me).status_code == 404
    page = as_page(hall.client, COMPANY["phone"])
    html = page.get(f"/me/cases/{cid}").get_data(as_text=True)
    assert 'id="papers"' in html and f"/me/cases/{cid}/papers/{cert['number']}.pdf" in html
    r = page.get(f"/me/cases/{cid}/papers/{cert['number']}.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert page.get(files[0].replace("/api/v1", "")).status_code == 404  # another applicant's file, on the pages
    page = as_page(hall.client, PERSON["phone"])
    assert page.get(files[0].replace("/api/v1", "")).status_code == 200
    for url in (f"/me/cases/{cid}", f"/me/cases/{cid}/papers/{cert['number']}.pdf",
                f"/documents/{cert['number']}.pdf", f"/cases/{cid}"):
        assert page.get(url).status_code in (403, 404), url
    assert page.get(f"/me/cases/{cid}").status_code == 404
    assert page.post(f"/me/cases/{cid}/rating", data={"_csrf": "t", "level": "1"}).status_code == 404
    # staff have no /me pages, nor the applicant's catalogue
    page = as_page(hall.client, "front")
    for url in ("/me/matters", "/me/matters/b_start_up", f"/me/cases/{cid}/papers/{cert['number']}.pdf"):
        assert page.get(url).status_code == 403, url
    assert hall.client.get(f"/api/v1/me/cases/{cid}/documents", headers=hall.h("front")).status_code == 403
