"""帮办代办 (issue 14): an agent acts for an applicant under an authorisation record with a scope and an expiry;
every act names both; an expired or revoked record, or one that does not cover the matter or act, stops it at once."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from engine.db import Event, make_session_factory
from tests.test_applicants import COMPANY, PERSON, sign_up
from tests.test_catalogue_walk import Clerks, application, verify_all
from tests.test_portal import accept_and_finish
from tests.walk import add_hall_users
from web import create_app

RELATIVE = {"type": "person", "name": "赵小六", "id_number": "330206199001010013", "phone": "13912340001",
            "password": "secret123"}
STRANGER = {"type": "person", "name": "钱七", "id_number": "110105198808081237", "phone": "13912340002",
            "password": "secret123"}


@pytest.fixture
def hall(services, db_url):
    add_hall_users(services)
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret",
                             "VALIDATE_RESPONSES": True})
    clerks = Clerks(app.test_client())
    clerks.app = app
    return clerks


def online(hall, h, code="m_id_card_renew") -> dict:
    """Apply online (as tests.test_portal.online; the guide is read without the On-Behalf-Of header)."""
    guide = hall.client.get(f"/api/v1/matters/{code}", headers={"Authorization": h["Authorization"]}).json
    body = {"matter": code, "data": application(guide["form"], guide["guide"].get("choose")),
            "materials": [m["id"] for m in guide["materials"]]}
    r = hall.client.post("/api/v1/me/cases", headers=h, json=body)
    assert r.status_code == 201, r.json
    return r.json


def later(days: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()


def grant(hall, principal: dict, body: dict, expect: int = 201) -> dict:
    r = hall.client.post("/api/v1/me/authorisations", headers=principal, json=body)
    assert r.status_code == expect, r.json
    return r.json


def as_agent(agent: dict, principal: dict) -> dict:
    return dict(agent, **{"On-Behalf-Of": principal["phone"]})


def test_an_agent_applies_for_the_principal_and_every_act_names_both(hall, cli_env, db_url):
    me, relative, stranger = (sign_up(hall.client, cli_env, p) for p in (PERSON, RELATIVE, STRANGER))
    record = grant(hall, me, {"agent": RELATIVE["phone"], "matters": ["m_id_card_renew"], "valid_until": later(30),
                              "note": "母亲代办"})
    assert record["status"] == "valid" and record["principal"] == PERSON["phone"] and record["agent_name"] == "赵小六"
    assert record["acts"] == ["apply", "track", "answer", "delivery", "rate"] and record["created_by"] == PERSON["phone"]
    mine = hall.client.get("/api/v1/me/authorisations", headers=relative).json
    assert [r["id"] for r in mine["received"]] == [record["id"]] and mine["granted"] == []
    assert mine["may_act_for"] == [{"principal": PERSON["phone"], "name": PERSON["name"]}]

    # the agent applies online for the principal: the case is the principal's, its start names both
    case = online(hall, as_agent(relative, PERSON))
    assert case["applicant"]["name"] == PERSON["name"] and case["applicant"]["id_number"] == PERSON["id_number"]
    assert case["agent"]["label"] == f"代办人 {RELATIVE['name']}（代 {PERSON['name']}）"
    started = json.loads(_events(db_url, case["id"])[0].payload)
    assert _events(db_url, case["id"])[0].actor == RELATIVE["phone"] and started["on_behalf_of"] == PERSON["phone"]
    # the principal sees it; the agent sees it (acting) while the record is valid, not as themself
    assert [c["id"] for c in hall.client.get("/api/v1/me/cases", headers=me).json] == [case["id"]]
    assert hall.client.get(f"/api/v1/me/cases/{case['id']}", headers=me).json["agent"]["agent"] == RELATIVE["phone"]
    acting = as_agent(relative, PERSON)
    assert [c["id"] for c in hall.client.get("/api/v1/me/cases", headers=acting).json] == [case["id"]]
    assert hall.client.get(f"/api/v1/me/cases/{case['id']}", headers=acting).status_code == 200
    assert hall.client.get("/api/v1/me/cases", headers=relative).json == []
    assert hall.client.get(f"/api/v1/me/cases/{case['id']}", headers=relative).status_code == 404
    # a third applicant sees nothing; nobody acts for someone who did not authorise them
    assert hall.client.get(f"/api/v1/me/cases/{case['id']}", headers=stranger).status_code == 404
    assert hall.client.get("/api/v1/me/cases", headers=as_agent(stranger, PERSON)).status_code == 403
    assert hall.client.get("/api/v1/me/cases", headers=as_agent(me, RELATIVE)).status_code == 403  # reversed
    assert hall.client.get("/api/v1/me/cases", headers=as_agent(stranger, STRANGER)).status_code == 403  # self
    # out of scope: another matter
    guide = hall.client.get("/api/v1/matters/m_food_permit", headers=me).json
    r = hall.client.post("/api/v1/me/cases", headers=acting, json={"matter": "m_food_permit", "data": {},
                                                                    "materials": [m["id"] for m in guide["materials"]]})
    assert r.status_code == 403
    # the window accepts, the departments decide; the agent rates it for the principal (an act naming both)
    done = accept_and_finish(hall, case)
    assert done["status"] == "completed"
    r = hall.client.post(f"/api/v1/me/cases/{case['id']}/rating", headers=acting, json={"level": 5})
    assert r.status_code == 201, r.json
    assert hall.client.get(f"/api/v1/me/cases/{case['id']}", headers=me).json["rating"]["level"] == 5
    # the header belongs to /api/v1/me/cases only
    r = hall.client.get("/api/v1/me/authorisations", headers=acting)
    assert r.status_code == 422 and "On-Behalf-Of" in r.json["error"]["fields"]
    out = verify_all(db_url)
    assert " 0 failed" in out and "ok," in out


def test_scope_of_acts_expiry_and_revocation_stop_the_agent_at_once(hall, cli_env, db_url):
    me, relative = sign_up(hall.client, cli_env, PERSON), sign_up(hall.client, cli_env, RELATIVE)
    acting = as_agent(relative, PERSON)
    track_only = grant(hall, me, {"agent": RELATIVE["phone"], "acts": ["track"], "valid_until": later(10)})
    case = online(hall, me)  # the principal's own case
    assert hall.client.get(f"/api/v1/me/cases/{case['id']}", headers=acting).json["agent"] is None
    assert hall.client.post("/api/v1/me/cases", headers=acting, json={"matter": "m_id_card_renew"}).status_code == 403
    done = accept_and_finish(hall, case)
    r = hall.client.post(f"/api/v1/me/cases/{done['id']}/rating", headers=acting, json={"level": 4})
    assert r.status_code == 403  # rating is not among the acts granted
    # a later record for everything, but for one day: the clock moves two days on, both have expired
    grant(hall, me, {"agent": RELATIVE["phone"], "valid_until": later(1)})
    app_services = hall.app.extensions["onewindow"]
    real = app_services.clock
    app_services.clock = lambda: real() + timedelta(days=2)
    assert hall.client.get(f"/api/v1/me/cases/{case['id']}", headers=acting).status_code == 200  # track_only holds
    app_services.clock = lambda: real() + timedelta(days=11)
    assert hall.client.get(f"/api/v1/me/cases/{case['id']}", headers=acting).status_code == 403
    assert hall.client.get("/api/v1/me/cases", headers=acting).status_code == 403
    statuses = {r["id"]: r["status"] for r in hall.client.get("/api/v1/me/authorisations", headers=me).json["granted"]}
    assert statuses[track_only["id"]] == "expired"
    app_services.clock = real
    # revoked: stops at once; only the principal revokes, another's record is not found
    assert hall.client.get("/api/v1/me/cases", headers=acting).status_code == 200
    assert hall.client.delete(f"/api/v1/me/authorisations/{track_only['id']}", headers=relative).status_code == 404
    for rid in [r["id"] for r in hall.client.get("/api/v1/me/authorisations", headers=me).json["granted"]]:
        r = hall.client.delete(f"/api/v1/me/authorisations/{rid}", headers=me)
        assert r.status_code == 200 and r.json["status"] == "revoked" and r.json["revoked_at"]
    assert hall.client.get(f"/api/v1/me/cases/{case['id']}", headers=acting).status_code == 403
    assert hall.client.get("/api/v1/me/cases", headers=acting).status_code == 403
    assert hall.client.get(f"/api/v1/me/cases/{case['id']}", headers=me).status_code == 200  # the principal still does
    assert hall.client.delete("/api/v1/me/authorisations/999999", headers=me).status_code == 404
    assert hall.client.delete("/api/v1/me/authorisations/abc", headers=me).status_code == 404


def test_bad_authorisations_are_refused_naming_the_field(hall, cli_env):
    me, _relative = sign_up(hall.client, cli_env, PERSON), sign_up(hall.client, cli_env, RELATIVE)
    cases = [({"agent": RELATIVE["phone"], "valid_until": later(-1)}, "valid_until"),
             ({"agent": RELATIVE["phone"], "valid_until": "tomorrow"}, "valid_until"),
             ({"agent": RELATIVE["phone"], "valid_until": later(5000)}, "valid_until"),
             ({"agent": RELATIVE["phone"], "valid_from": later(3), "valid_until": later(2)}, "valid_until"),
             ({"agent": RELATIVE["phone"], "matters": ["m_no_such"], "valid_until": later(3)}, "matters"),
             ({"agent": RELATIVE["phone"], "matters": ["zg_police"], "valid_until": later(3)}, "matters"),
             ({"agent": PERSON["phone"], "valid_until": later(3)}, "agent"),
             ({"agent": "13900000000", "valid_until": later(3)}, "agent"),
             ({"agent": "front", "valid_until": later(3)}, "agent"),  # staff who are no 帮办员
             ({"agent": RELATIVE["phone"], "acts": ["sign"], "valid_until": later(3)}, "acts"),
             ({"agent": RELATIVE["phone"]}, "valid_until")]
    for body, field in cases:
        r = hall.client.post("/api/v1/me/authorisations", headers=me, json=body)
        assert r.status_code == 422 and field in {k.split(".")[0] for k in r.json["error"]["fields"]}, (body, r.json)
    assert hall.client.get("/api/v1/me/authorisations", headers=me).json["granted"] == []  # nothing half-saved
    # staff do not grant; an agent acting for someone does not grant in their name
    r = hall.client.post("/api/v1/me/authorisations", headers=hall.h("front"),
                         json={"agent": RELATIVE["phone"], "valid_until": later(3)})
    assert r.status_code == 403


def test_a_company_authorises_its_staff_and_the_window_records_a_hall_agent(hall, cli_env, services, db_url):
    company, staff = sign_up(hall.client, cli_env, COMPANY), sign_up(hall.client, cli_env, RELATIVE)
    grant(hall, company, {"agent": RELATIVE["phone"], "matters": ["m_id_card_renew"], "acts": ["apply", "track"],
                          "valid_until": later(90)})
    assert online(hall, as_agent(staff, COMPANY))["applicant"]["credit_code"] == COMPANY["credit_code"]
    # a hall's 帮办员, recorded by the front desk on the person's signed paper
    services.add_user("bangban1", "pw", ["agent"], "帮办员小李")
    me = sign_up(hall.client, cli_env, PERSON)
    body = {"principal": PERSON["phone"], "agent": "bangban1", "valid_until": later(7), "note": "纸质授权书编号 A-001"}
    r = hall.client.post("/api/v1/authorisations", headers=hall.h("bangban1"), json=body)
    assert r.status_code == 403  # only the front desk records one
    assert hall.client.post("/api/v1/authorisations", headers=hall.h("front"),
                            json=dict(body, agent=RELATIVE["phone"])).status_code == 422  # window: hall 帮办员 only
    record = hall.post("/api/v1/authorisations", body)
    assert record["channel"] == "window" and record["created_by"] == "front" and record["agent_name"] == "帮办员小李"
    case = online(hall, as_agent(hall.h("bangban1"), PERSON))
    assert case["agent"]["label"] == f"代办人 帮办员小李（代 {PERSON['name']}）"
    assert [c["id"] for c in hall.client.get("/api/v1/me/cases", headers=me).json] == [case["id"]]
    assert hall.client.get("/api/v1/me/cases", headers=hall.h("bangban1")).status_code == 403  # not as themself
    # the window accepts; its events keep who applied for whom
    t = next(t for t in case["tasks"] if t["rule"] == "intake")
    hall.post(f"/api/v1/tasks/{t['id']}/complete", {"data": {"accepted": True}})
    first = _events(db_url, case["id"])[0]
    assert first.actor == "bangban1" and json.loads(first.payload)["on_behalf_of"] == PERSON["phone"]
    with hall.client.session_transaction() as sess:  # the staff's case page names both on the timeline
        sess["user"], sess["e"] = "front", 0
    html = hall.client.get(f"/cases/{case['id']}?lang=zh").get_data(as_text=True)
    assert f"代办人 帮办员小李（代 {PERSON['phone']}）" in html
    out = verify_all(db_url)
    assert " 0 failed" in out


def test_the_agent_pages_grant_switch_track_and_revoke(hall, cli_env, db_url):
    me, relative = sign_up(hall.client, cli_env, PERSON), sign_up(hall.client, cli_env, RELATIVE)
    page = hall.client

    def sign_in(who):
        with page.session_transaction() as sess:
            sess.clear()
            sess["csrf"] = "t"
        r = page.post("/login", data={"_csrf": "t", "username": who["phone"], "password": who["password"]})
        assert r.status_code == 302
        with page.session_transaction() as sess:
            sess["csrf"] = "t"

    sign_in(PERSON)
    html = page.get("/me/").get_data(as_text=True)
    assert 'id="agents-link"' in html
    html = page.get("/me/agents/").get_data(as_text=True)
    assert 'name="agent"' in html and 'name="valid_until"' in html
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date().isoformat()
    r = page.post("/me/agents/", data={"_csrf": "t", "agent": RELATIVE["phone"], "valid_until": yesterday,
                                       "acts": ["apply", "track"]})
    assert r.status_code == 422 and "截止时间已过" in r.get_data(as_text=True)
    until = (datetime.now(timezone.utc) + timedelta(days=20)).date().isoformat()
    r = page.post("/me/agents/", data={"_csrf": "t", "agent": RELATIVE["phone"], "valid_until": until,
                                       "matters": "m_id_card_renew", "acts": ["apply", "track"]})
    assert r.status_code == 302
    html = page.get("/me/agents/").get_data(as_text=True)
    assert RELATIVE["phone"] in html and "m_id_card_renew" in html and "撤销" in html
    # the agent applies for the principal (API) and follows it on the pages after choosing whom they act for
    case = online(hall, as_agent(relative, PERSON))
    sign_in(RELATIVE)
    assert case["number"] not in page.get("/me/").get_data(as_text=True)
    html = page.get("/me/agents/").get_data(as_text=True)
    assert f'value="{PERSON["phone"]}"' in html
    assert page.post("/me/agents/act", data={"_csrf": "t", "principal": STRANGER["phone"]}).status_code == 403
    r = page.post("/me/agents/act", data={"_csrf": "t", "principal": PERSON["phone"]})
    assert r.status_code == 302 and r.headers["Location"].endswith("/me/")
    html = page.get("/me/").get_data(as_text=True)
    assert case["number"] in html and 'id="acting-for"' in html
    assert 'id="agent"' in page.get(f"/me/cases/{case['id']}").get_data(as_text=True)
    html = page.get(f"/me/agents/cases/{case['id']}").get_data(as_text=True)
    assert f"代办人 {RELATIVE['name']}（代 {PERSON['name']}）" in html and RELATIVE["phone"] in html
    assert "Agent" in page.get(f"/me/agents/cases/{case['id']}?lang=en").get_data(as_text=True)
    # the principal revokes on the page: the agent's next page is refused, then they are back as themself
    sign_in(PERSON)
    record = hall.client.get("/api/v1/me/authorisations", headers=me).json["granted"][0]
    assert page.get(f"/me/agents/cases/{case['id']}").status_code == 200  # the principal sees who acted
    assert page.post(f"/me/agents/{record['id']}/revoke", data={"_csrf": "t"}).status_code == 302
    assert "已撤销" in page.get("/me/agents/?lang=zh").get_data(as_text=True)
    sign_in(RELATIVE)
    with page.session_transaction() as sess:
        sess["on_behalf_of"] = PERSON["phone"]
    assert page.get("/me/").status_code == 403
    assert page.get(f"/me/cases/{case['id']}").status_code == 404  # the choice was dropped: as themself now
    assert 'id="acting-for"' not in page.get("/me/").get_data(as_text=True)
    assert verify_all(db_url).count(" 0 failed") == 1


def _events(db_url, case_id):
    from sqlalchemy import select

    from engine.db import make_engine

    sessions = make_session_factory(make_engine(db_url))
    with sessions() as s:
        return list(s.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.seq)))
