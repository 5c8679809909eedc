"""Every one-window rule holds on every path: each scenario runs once through the JSON API and once through the
web pages (front desk, inbox, pickup window), and must end the same way — then `audit verify` passes."""
from __future__ import annotations

import json
import re

from datetime import datetime, timedelta, timezone

import pytest

from engine.audit.verify import case_ids, verify_ids
from engine.runtime.timers import fire_due
from web import create_app
from tests.walk import COMPANY, FIELDS, add_hall_users, fit, pickup_data

FOOD = fit("f_food_permit", dict(FIELDS, food_categories=["热食类"]))
SIGN = fit("f_signboard", dict(FIELDS, sign_text="梅山味道"))
RESTAURANT = dict(FIELDS, registered_capital=50, food_categories=["热食类"], sign_text="梅山味道")
ALL_RESTAURANT = ["id_card", "articles", "lease", "licence", "layout", "safety_rules", "sign_design"]


class Api:
    """The JSON API, one bearer token per user."""

    def __init__(self, client):
        self.client, self.tokens = client, {}

    def _h(self, user):
        if user not in self.tokens:
            r = self.client.post("/api/v1/auth/token", json={"username": user, "password": "pw"})
            self.tokens[user] = {"Authorization": f"Bearer {r.json['token']}"}
        return self.tokens[user]

    def apply(self, matter, applicant, data, materials, accepted=True, reason=None):
        intake = {"accepted": accepted, **({"reason": reason} if reason else {})}
        r = self.client.post("/api/v1/cases", headers=self._h("front"), json={
            "matter": matter, "applicant": applicant, "data": data, "materials": materials, "intake": intake})
        assert r.status_code == 201, r.json
        return r.json["id"]

    def act(self, user, task, data) -> tuple[int, str]:
        r = self.client.post(f"/api/v1/tasks/{task['id']}/complete", headers=self._h(user), json={"data": data})
        return r.status_code, json.dumps(r.json, ensure_ascii=False)


class Web:
    """The pages a clerk uses: the front desk's intake page, the inbox task page, the pickup window."""

    def __init__(self, app):
        self.app, self.clients = app, {}

    def _c(self, user):
        if user not in self.clients:
            c = self.app.test_client()
            c.post("/login", data={"username": user, "password": "pw", "_csrf": _csrf(c, "/login")})
            self.clients[user] = c
        return self.clients[user]

    def apply(self, matter, applicant, data, materials, accepted=True, reason=None):
        c = self._c("front")
        form = {"_csrf": _csrf(c, f"/frontdesk/matters/{matter}"), "a_type": applicant["type"], "a_name": applicant["name"],
                "a_id": applicant.get("credit_code") or applicant.get("id_number", ""), "a_phone": applicant.get("phone", ""),
                "decision": "accept" if accepted else "refuse", **({"i_remark": reason} if reason else {})}
        form.update({f"f_{k}": v for k, v in data.items()})
        form.update({f"mat_{k}": v for k, v in materials.items()})
        r = c.post(f"/frontdesk/matters/{matter}", data=form, follow_redirects=True)
        assert r.status_code == 200, r.text[-2000:]
        return int(re.search(r"/cases/(\d+)", r.text).group(1))

    def act(self, user, task, data) -> tuple[int, str]:
        c = self._c(user)
        form = {}
        for k, v in _flat(data).items():
            form[f"f_{k}"] = "\n".join(v) if isinstance(v, list) else ("on" if v is True else v)
        if task["rule"] == "pickup":
            page = c.get("/pickup/").get_data(as_text=True)
            card = page[page.index(f'action="/pickup/{task["id"]}"'):].split("</form>")[0]
            form["handed"] = re.findall(r'name="handed" value="([^"]+)"', card)  # the clerk ticks off each item
            form["_csrf"] = _csrf(c, "/pickup/")
            r = c.post(f"/pickup/{task['id']}", data=form)
        else:
            form["_csrf"] = _csrf(c, f"/inbox/tasks/{task['id']}")
            r = c.post(f"/inbox/tasks/{task['id']}", data={k: v for k, v in form.items() if v is not False})
        return (200 if r.status_code == 302 else r.status_code), r.get_data(as_text=True)


def _flat(data: dict, prefix: str = "") -> dict:
    """Nested form data as the pages name their inputs ('recipient.name')."""
    out = {}
    for k, v in data.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def _csrf(client, path: str) -> str:
    m = re.search(r'name="_csrf" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert m, f"no CSRF token on {path}"
    return m.group(1)


@pytest.fixture(params=["api", "web"])
def via(request, services, db_url):
    add_hall_users(services)
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})
    driver = Api(app.test_client()) if request.param == "api" else Web(app)
    driver.sv = app.extensions["onewindow"]
    yield driver
    failed = [f.line() for f in verify_ids(driver.sv, case_ids(driver.sv)) if not f.ok]
    assert failed == [], failed  # whatever path produced them, the cases verify


def view(via, case_id):
    return via.sv.case_view(case_id)


def task(case, rule, element=None):
    found = [t for t in case["tasks"] if t["rule"] == rule and (element is None or t["element_id"] == element)]
    assert found, f"no open {rule} task: {[(t['element_id'], t['rule']) for t in case['tasks']]}"
    return found[0]


def user_of(t):
    return {"front_desk": "front", "pickup": "pickup1"}.get(t["group"], f"{t['group']}1")


def decide(via, case_id, decisions=None):
    decisions = decisions or {}
    while True:
        case = view(via, case_id)
        reviews = [t for t in case["tasks"] if t["rule"] == "review"]
        if not reviews:
            return case
        t = reviews[0]
        status, body = via.act(user_of(t), t, {"decision": decisions.get(t["process_id"][3:], "approve"),
                                               "opinion": f"{t['process_id']} 意见"})
        assert status == 200, body[-1500:]


def test_owed_materials_block_certificates_and_pickup_until_supplied(via):
    cid = via.apply("m_food_permit", COMPANY, FOOD, {"licence": "provided", "layout": "provided",
                                                     "safety_rules": "provided", "lease": "deferred"})
    case = decide(via, cid)
    assert case["outcomes"][0]["status"] == "approved" and case["certificates"] == []
    assert not [t for t in case["tasks"] if t["rule"] == "pickup"]
    supply = task(case, "supply")
    status, body = via.act("front", supply, {"supplied": ["something else"]})
    assert status == 422 and "经营场所使用证明" in body
    case = view(via, cid)
    assert case["certificates"] == [] and [m["id"] for m in case["owed"]] == ["lease"]
    assert via.act("front", supply, {"supplied": ["lease"]})[0] == 200
    case = view(via, cid)
    assert [c["type"] for c in case["certificates"]] == ["food_permit"] and task(case, "pickup")


def test_a_post_check_violation_revokes_the_certificate_with_the_reason(via):
    cid = via.apply("m_food_permit", COMPANY, FOOD, {"licence": "provided", "lease": "provided",
                                                     "layout": "commitment", "safety_rules": "commitment"})
    case = view(via, cid)
    assert case["certificates"][0]["status"] == "valid"
    assert via.act("pickup1", task(case, "pickup"), pickup_data("express", "SF1"))[0] == 200
    assert view(via, cid)["tasks"] == []  # 事后核查 waits its working days (the timer)
    assert fire_due(via.sv, now=datetime.now(timezone.utc) + timedelta(days=40)) == 1
    status, _ = via.act("market1", task(view(via, cid), "post_check"), {"result": "violation",
                                                                        "remark": "现场无食品安全管理制度"})
    assert status == 200
    cert = view(via, cid)["certificates"][0]
    assert cert["status"] == "revoked" and "现场无食品安全管理制度" in cert["revoke_reason"]


def test_a_second_correction_is_refused_naming_the_rule(via):
    cid = via.apply("m_signboard", COMPANY, SIGN, {"licence": "provided", "sign_design": "provided"})
    first = {"decision": "correct", "opinion": "效果图尺寸不清", "corrections": ["标注尺寸的效果图"]}
    assert via.act("urban1", task(view(via, cid), "review"), first)[0] == 200
    assert via.act("front", task(view(via, cid), "correction"), {"supplied": ["sign_design"]})[0] == 200
    review = task(view(via, cid), "review")
    status, body = via.act("urban1", review, dict(first, opinion="再补"))
    assert status == 422 and "补正只能退回一次" in body
    assert task(view(via, cid), "review")["id"] == review["id"]


def test_a_failed_joint_inspection_ends_the_permits(via):
    cid = via.apply("b_restaurant", COMPANY, RESTAURANT, {m: "provided" for m in ALL_RESTAURANT})
    case = decide(via, cid)
    for t in [t for t in case["tasks"] if t["rule"] == "inspection"]:
        assert via.act(user_of(t), t, {"passed": False, "findings": f"{t['group']} 现场不符合"})[0] == 200
    case = view(via, cid)
    out = {o["matter"]: o for o in case["outcomes"]}
    assert out["company_reg"]["status"] == "approved"
    assert out["food_permit"]["status"] == out["signboard"]["status"] == "rejected"
    assert "market 现场不符合" in out["food_permit"]["opinion"] and "urban 现场不符合" in out["signboard"]["opinion"]
    assert [t["rule"] for t in case["tasks"]] == ["pickup"]


def test_a_rejection_at_a_level_ends_the_member_and_no_one_acts_on_two_levels(via):
    via.sv.add_user("urban_both", "pw", ["urban", "urban_lead"])
    cid = via.apply("m_signboard", COMPANY, SIGN, {"licence": "provided", "sign_design": "provided"})
    assert via.act("urban_both", task(view(via, cid), "review"), {"decision": "approve", "opinion": "承办同意"})[0] == 200
    check = task(view(via, cid), "review", "review_check")
    status, body = via.act("urban_both", check, {"decision": "approve", "opinion": "审核同意"})
    assert status == 403 and "职责分离" in body
    assert via.act("urban_lead1", check, {"decision": "reject", "opinion": "位置遮挡消防通道"})[0] == 200
    case = view(via, cid)
    assert case["outcomes"][0]["status"] == "rejected" and [t["rule"] for t in case["tasks"]] == ["pickup"]


def test_a_refused_member_does_not_stop_the_others_and_pickup_hands_over_both(via):
    cid = via.apply("b_start_up", COMPANY, dict(FIELDS, registered_capital=100),
                    {m: "provided" for m in ("id_card", "articles", "lease")})
    case = decide(via, cid, {"tax_invoice": "reject"})
    assert via.act("pickup1", task(case, "pickup"), pickup_data())[0] == 200
    case = view(via, cid)
    assert case["status"] == "completed"
    status = {o["matter"]: o["status"] for o in case["outcomes"]}
    assert status["tax_invoice"] == "rejected" and [s for m, s in status.items() if m != "tax_invoice"] == ["approved"] * 4
    assert sorted(c["matter"] for c in case["certificates"]) == ["company_reg", "fund_reg", "seal", "social_reg"]
