"""好差评 channels (issue 14): the receipt's QR link (signed, no sign-in, rates once; a forged or altered link is not
found), the window pad (opened by the pickup clerk, tapped by the applicant), a bad rating from any channel starts
its 差评整改; 回访 figures; 申诉 of a finished 整改 decided by a supervisor; 零跑腿 and channel figures."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from engine.db import PadRequest, Rating
from engine.runtime import ratings
from tests.test_applicants import COMPANY, PERSON, sign_up
from tests.test_catalogue_walk import Clerks, verify_all
from tests.test_portal import online
from tests.walk import add_hall_users
from web import create_app

KEY = "test-secret"


@pytest.fixture
def hall(services, db_url):
    add_hall_users(services)
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": KEY, "VALIDATE_RESPONSES": True})
    return Clerks(app.test_client())


def as_user(client, user: str):
    with client.session_transaction() as sess:
        sess["user"], sess["e"], sess["csrf"] = user, 0, "t"
    return client


def receipt_link(hall, case_id: int, monkeypatch) -> str:
    """The rating URL printed on the 受理通知书 (the render's arguments, captured)."""
    import web.papers

    seen = {}
    real = web.papers.render

    def render(sheet, verify_url, rate_url=None):
        seen["rate_url"] = rate_url
        return real(sheet, verify_url, rate_url)

    monkeypatch.setattr(web.papers, "render", render)
    page = as_user(hall.client.application.test_client(), "front")
    r = page.get(f"/frontdesk/cases/{case_id}/receipt.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert seen["rate_url"] and "/rate/" in seen["rate_url"]
    return seen["rate_url"]


def test_the_receipts_qr_link_rates_once_and_a_bad_rating_starts_rectification(hall, monkeypatch, db_url, services):
    case = hall.apply("m_id_card_renew")  # at the window: the applicant has no account
    url = receipt_link(hall, case["id"], monkeypatch)
    token = url.rsplit("/", 1)[1]
    assert token == ratings.token_for(KEY, case["id"])
    anon = hall.client.application.test_client()
    info = anon.get(f"/api/v1/rate/{token}").json
    assert info["number"] == case["number"] and info["finished"] is False and info["rating"] is None
    assert "办结后可评价" in anon.get(f"/rate/{token}").get_data(as_text=True)
    assert anon.post(f"/api/v1/rate/{token}", json={"level": 5}).status_code == 409  # not finished
    case = hall.walk(case)
    assert case["status"] == "completed"
    # forged or altered links are not found
    sig = token.split("-", 1)[1]
    other = hall.apply("m_id_card_renew")
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), f"{other['id']}-{sig}", "1", "x-y", token + "x",
                ratings.token_for("another-key", case["id"])):
        assert anon.get(f"/api/v1/rate/{bad}").status_code == 404, bad
        assert anon.post(f"/api/v1/rate/{bad}", json={"level": 1}).status_code == 404, bad
        assert anon.get(f"/rate/{bad}").status_code == 404, bad
    assert anon.post(f"/api/v1/rate/{token}", json={"level": 9}).status_code == 422
    r = anon.post(f"/api/v1/rate/{token}", json={"level": 1, "comment": "窗口态度差", "tags": ["态度"]})
    assert r.status_code == 201, r.json
    assert r.json["channel"] == "qr" and r.json["title"] == "非常不满意" and r.json["rectification_case"]
    assert anon.post(f"/api/v1/rate/{token}", json={"level": 5}).status_code == 409  # 一次一评
    page = as_user(hall.client.application.test_client(), "nobody")
    r = page.post(f"/rate/{token}", data={"_csrf": "t", "level": "5"})
    assert r.status_code == 409
    html = page.get(f"/rate/{token}").get_data(as_text=True)
    assert 'id="rating"' in html and "非常不满意" in html
    zg = hall.get(f"/api/v1/cases/{ratings.rating_of_case(services, case['id'])['rectification_case']}",
                  user="police1")
    assert zg["matter"] == "zg_police" and zg["tasks"][0]["element_id"] == "verify"
    figures = hall.get("/api/v1/stats", user="super1")["ratings"]
    assert {c["channel"]: c["count"] for c in figures["by_channel"]} == {"portal": 0, "qr": 1, "pad": 0}
    assert figures["revisit"] == {"due": 1, "done": 0, "rate": 0.0}
    assert " 0 failed" in verify_all(db_url)


def test_the_rating_page_of_the_link_rates_without_signing_in(hall, monkeypatch):
    case = hall.walk(hall.apply("m_id_card_renew"))
    token = ratings.token_for(KEY, case["id"])
    page = hall.client.application.test_client()
    html = page.get(f"/rate/{token}").get_data(as_text=True)
    assert 'name="level"' in html and "非常满意" in html
    m = re.search(r'name="_csrf" value="([^"]+)"', html)
    r = page.post(f"/rate/{token}", data={"_csrf": m.group(1), "level": "4", "comment": "不错"})
    assert r.status_code == 302
    info = page.get(f"/api/v1/rate/{token}").json
    assert info["rating"]["title"] == "满意" and info["rating"]["channel"] == "qr"


def test_the_window_pad(hall, services, db_url):
    case = hall.walk(hall.apply("m_id_card_renew"))
    running = hall.apply("m_id_card_renew")
    app = hall.client.application
    # a tablet is paired by a pickup clerk and signed out; only a paired device shows the pad
    tablet = as_user(app.test_client(), "pickup1")
    assert tablet.get("/pad").status_code == 403
    front = as_user(app.test_client(), "front")
    assert front.post("/pad/pair", data={"_csrf": "t"}).status_code == 403
    assert front.get("/pad/desk").status_code == 403
    r = tablet.post("/pad/pair", data={"_csrf": "t"})
    assert r.status_code == 302 and "ow_pad=" in r.headers["Set-Cookie"]
    html = tablet.get("/pad?lang=zh").get_data(as_text=True)
    assert 'id="pad-idle"' in html and 'name="level"' not in html and "pickup1" not in html  # signed out
    # the clerk opens it from the desk, only for a finished case it may read
    desk = as_user(app.test_client(), "pickup1")
    assert 'id="pad-open"' in desk.get("/pad/desk").get_data(as_text=True)
    assert front.post("/pad/open", data={"_csrf": "t", "case": case["number"]}).status_code == 403
    desk.post("/pad/open", data={"_csrf": "t", "case": running["number"]})
    assert 'name="level"' not in tablet.get("/pad").get_data(as_text=True)  # not finished: not opened
    assert desk.post("/pad/open", data={"_csrf": "t", "case": case["number"]}).status_code == 302
    assert 'name="nonce"' not in desk.get("/pad/desk").get_data(as_text=True)
    html = tablet.get("/pad").get_data(as_text=True)
    assert case["number"] in html and html.count('name="level"') == 5
    nonce = re.search(r'name="nonce" value="([^"]+)"', html).group(1)
    csrf = re.search(r'name="_csrf" value="([^"]+)"', html).group(1)
    # the clerk's signed-in session neither sees the pad nor taps on it, even with the device's cookie and key
    desk.set_cookie("ow_pad", tablet.get_cookie("ow_pad").value)
    assert desk.get("/pad").status_code == 403
    assert desk.post("/pad/rate", data={"_csrf": "t", "nonce": nonce, "level": "5"}).status_code == 403
    # a forged pad cookie is no pad; a forged key rates nothing
    forged = app.test_client()
    forged.set_cookie("ow_pad", "eyJoYWxsIjoiIn0.forged")
    assert forged.get("/pad").status_code == 403
    tablet.post("/pad/rate", data={"_csrf": csrf, "nonce": "forged", "level": "5"})
    assert ratings.rating_of_case(services, case["id"]) is None
    # the applicant taps
    assert tablet.post("/pad/rate", data={"_csrf": csrf, "nonce": nonce, "level": "2"}).status_code == 302
    rated = ratings.rating_of_case(services, case["id"])
    assert rated["channel"] == "pad" and rated["title"] == "不满意" and rated["rectification_case"]
    with services.read() as s:
        assert s.scalar(select(Rating.opened_by).where(Rating.case_id == case["id"])) == "pickup1"
    tablet.post("/pad/rate", data={"_csrf": csrf, "nonce": nonce, "level": "5"})  # used up
    assert ratings.rating_of_case(services, case["id"])["level"] == 2
    assert 'id="pad-idle"' in tablet.get("/pad").get_data(as_text=True)
    # an expired pad takes no rating
    other = hall.walk(hall.apply("m_id_card_renew"))
    opened = ratings.open_pad(services, services.actor("pickup1"), other["id"])
    assert "nonce" not in opened  # what the clerk's side gets back carries no key
    waiting = ratings.pad_waiting(services, "")
    with services.uow() as s:
        s.execute(update(PadRequest).values(expires_at=services.clock().replace(year=2000)))
    from engine.errors import Conflict, Forbidden

    with pytest.raises(Forbidden):
        ratings.rate_on_pad(services, "", waiting["nonce"], 5, actor=services.actor("pickup1"))
    with pytest.raises(Conflict):
        ratings.rate_on_pad(services, "", waiting["nonce"], 5)
    assert ratings.rating_of_case(services, other["id"]) is None
    figures = hall.get("/api/v1/stats", user="super1")["ratings"]
    assert {c["channel"]: c["count"] for c in figures["by_channel"]}["pad"] == 1
    assert " 0 failed" in verify_all(db_url)


def walk_rectification(hall, case_id: int) -> dict:
    zg = hall.get(f"/api/v1/cases/{case_id}", user="police1")
    for data in ({"substantiated": "yes", "finding": "属实"}, {"measures": "增开窗口"},
                 {"result": "satisfied", "remark": "电话回访"}):
        (t,) = zg["tasks"]
        zg = hall.post(f"/api/v1/tasks/{t['id']}/complete", {"data": data}, user="police1")
    assert zg["status"] == "completed"
    return zg


def test_appeals_of_a_rectification(hall, cli_env, db_url):
    me = sign_up(hall.client, cli_env, PERSON)
    other = sign_up(hall.client, cli_env, COMPANY)
    case = finish_online(hall, online(hall, me))
    first = hall.client.post(f"/api/v1/me/cases/{case['id']}/rating", headers=me, json={"level": 2}).json
    assert first["channel"] == "portal"
    url = f"/api/v1/me/cases/{case['id']}/rating/appeal"
    assert hall.client.post(url, headers=me, json={"reason": "整改未落实"}).status_code == 409  # 整改 not done yet
    walk_rectification(hall, first["rectification_case"])
    figures = hall.get("/api/v1/stats", user="super1")["ratings"]
    assert figures["revisit"] == {"due": 1, "done": 1, "rate": 1.0}
    assert hall.client.post(url, headers=other, json={"reason": "x"}).status_code == 404
    assert hall.client.post(url, headers=me, json={"reason": ""}).status_code == 422
    assert hall.client.post(url, headers=hall.h("front"), json={"reason": "x"}).status_code == 403
    r = hall.client.post(url, headers=me, json={"reason": "整改未落实，窗口仍排长队"})
    assert r.status_code == 201 and r.json["status"] == "open", r.json
    appeal = r.json
    assert hall.client.post(url, headers=me, json={"reason": "再申诉"}).status_code == 409  # once per 整改
    mine = hall.client.get(f"/api/v1/me/cases/{case['id']}/rating/appeals", headers=me).json
    assert [a["id"] for a in mine] == [appeal["id"]]
    # supervisors list and decide; nobody else
    assert hall.client.get("/api/v1/appeals", headers=me).status_code == 403
    assert hall.client.get("/api/v1/appeals", headers=hall.h("front")).status_code == 403
    listed = hall.get("/api/v1/appeals?status=open", user="super1")
    assert [a["id"] for a in listed] == [appeal["id"]] and listed[0]["level_title"] == "不满意"
    assert hall.get("/api/v1/stats", user="super1")["ratings"]["appeals"] == {"open": 1, "upheld": 0, "dismissed": 0}
    decide = f"/api/v1/appeals/{appeal['id']}/decision"
    assert hall.client.post(decide, headers=hall.h("front"), json={"upheld": True, "reason": "x"}).status_code == 403
    assert hall.client.post(decide, headers=hall.h("super1"), json={"upheld": True}).status_code == 422
    assert hall.client.post("/api/v1/appeals/999/decision", headers=hall.h("super1"),
                            json={"upheld": True, "reason": "x"}).status_code == 404
    r = hall.client.post(decide, headers=hall.h("super1"), json={"upheld": True, "reason": "回访记录与申诉不符，重新整改"})
    assert r.status_code == 200 and r.json["status"] == "upheld" and r.json["new_rectification_case"], r.json
    again = r.json["new_rectification_case"]
    assert hall.client.post(decide, headers=hall.h("super1"), json={"upheld": False, "reason": "x"}).status_code == 409
    # upheld: a new 整改 of the same department runs; the rating points to it; 回访 is due again
    view = hall.client.get(f"/api/v1/me/cases/{case['id']}", headers=me).json
    assert view["rating"]["rectification_case"] == again != first["rectification_case"]
    zg = hall.get(f"/api/v1/cases/{again}", user="police1")
    assert zg["matter"] == "zg_police" and zg["status"] != "completed"
    figures = hall.get("/api/v1/stats", user="super1")["ratings"]
    assert figures["revisit"] == {"due": 1, "done": 0, "rate": 0.0}
    assert figures["appeals"] == {"open": 0, "upheld": 1, "dismissed": 0}
    walk_rectification(hall, again)
    # its outcome may be appealed in turn; a supervisor dismisses it on the page
    second = hall.client.post(url, headers=me, json={"reason": "仍不满意"}).json
    page = as_user(hall.client.application.test_client(), "super1")
    html = page.get("/supervisor/appeals").get_data(as_text=True)
    assert f'data-appeal="{second["id"]}"' in html and "仍不满意" in html
    r = page.post(f"/supervisor/appeals/{second['id']}", data={"_csrf": "t", "verdict": "dismissed", "reason": ""})
    assert r.status_code == 302  # no reason: refused, said on the page
    assert hall.get("/api/v1/appeals?status=open", user="super1")[0]["id"] == second["id"]
    r = page.post(f"/supervisor/appeals/{second['id']}", data={"_csrf": "t", "verdict": "dismissed",
                                                               "reason": "整改已落实"})
    assert r.status_code == 302
    figures = hall.get("/api/v1/stats", user="super1")["ratings"]
    assert figures["appeals"] == {"open": 0, "upheld": 1, "dismissed": 1} and figures["revisit"]["rate"] == 1.0
    html = page.get("/supervisor/?lang=zh").get_data(as_text=True)
    assert '<strong id="appeals">0 / 1 / 1</strong>' in html and 'id="revisit"' in html
    assert " 0 failed" in verify_all(db_url)


def finish_online(hall, case: dict, pickup: str = "express") -> dict:
    """The front desk accepts the online application with every material (预审), then the case runs to its end."""
    guide = hall.get(f"/api/v1/matters/{case['matter']}")
    t = next(t for t in case["tasks"] if t["rule"] == "intake")
    case = hall.post(f"/api/v1/tasks/{t['id']}/complete",
                     {"data": {"accepted": True, "materials": {m["id"]: "provided" for m in guide["materials"]}}})
    return hall.walk(case, pickup=pickup)


def test_zero_visit_and_online_figures(hall, cli_env):
    me = sign_up(hall.client, cli_env, PERSON)
    done_online = finish_online(hall, online(hall, me))
    assert done_online["status"] == "completed" and done_online["visits"] == 0
    done_window = hall.walk(hall.apply("m_id_card_renew"))
    assert done_window["visits"] >= 1
    s = hall.get("/api/v1/stats", user="super1")["summary"]
    assert s["online_cases"] == 1 and s["zero_visit"] == 1 and s["zero_visit_rate"] == 0.5
    page = as_user(hall.client.application.test_client(), "super1")
    html = page.get("/supervisor/?lang=zh").get_data(as_text=True)
    assert '<strong id="zero-visit-rate">50.0%</strong>' in html and '<strong id="online-cases">1</strong>' in html
