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
