"""The whole catalogue walked through the JSON API as a hall would work it — every matter and bundle approved and
refused, 一次性告知, 不予受理, 容缺 + 补齐, 补正, 告知承诺 + 事后核查 both ways, 即办, 秒批 both ways, applicant-chosen
members 0/1/n, every administrative act — then `onewindow audit verify --all` must report every case ok."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from engine.model.catalogue import FORMS_DIR
from engine.model.forms import choices
from engine.runtime.timers import fire_due
from tests.walk import COMPANY, FIELDS, HOUSE, PERSON, add_hall_users, pickup_data
from web import create_app
from web.cli import cli

KNOWN = dict(FIELDS, **HOUSE, project_code="2026-330206-47-01-000001", project_name="梅山综合楼", baby_name="赵小宝",
             registered_capital=100, sign_text="梅山味道", price=180, insured_months=30,
             leaving_reason="contract_ended", job_registered=True)
PERSONAL = {"contract_filing", "deed_tax", "estate_transfer", "water_transfer", "power_transfer", "gas_transfer",
            "birth_cert", "hukou_birth", "medins_enrol", "social_card", "unemp_benefit", "id_card_renew",
            "b_house", "b_newborn"}


def sample(name: str, prop: dict):
    """A value a clerk would type for a form field."""
    if name in KNOWN:
        return KNOWN[name]
    if prop.get("type") == "array":
        return [choices(prop["items"])[0][0]] if choices(prop.get("items")) else ["示例"]
    if choices(prop):
        return choices(prop)[0][0]
    return {"integer": 12, "number": 12.5, "boolean": True}.get(prop.get("type"), "示例内容")


def application(form: dict, choose: dict | None = None, chosen=None) -> dict:
    props = form.get("properties") or {}
    data = {k: sample(k, p) for k, p in props.items()}
    if choose is not None:
        data[choose["field"]] = list(chosen if chosen is not None else choose["options"])
    return data


class Clerks:
    """API clients of the hall's users."""

    def __init__(self, client):
        self.client, self.tokens = client, {}

    def h(self, user):
        if user not in self.tokens:
            r = self.client.post("/api/v1/auth/token", json={"username": user, "password": "pw"})
            assert r.status_code == 200, r.json
            self.tokens[user] = {"Authorization": f"Bearer {r.json['token']}"}
        return self.tokens[user]

    def get(self, path, user="front"):
        r = self.client.get(path, headers=self.h(user))
        assert r.status_code == 200, r.json
        return r.json

    def post(self, path, body, user="front", expect=(200, 201)):
        r = self.client.post(path, headers=self.h(user), json=body)
        assert r.status_code in (expect if isinstance(expect, tuple) else (expect,)), (path, r.status_code, r.json)
        return r.json

    def apply(self, code, materials=None, data=None, chosen=None, intake=None, channel="window", user="front"):
        guide = self.get(f"/api/v1/matters/{code}")
        choose = guide["guide"].get("choose")
        body = {"matter": code, "applicant": PERSON if code.removeprefix("m_") in PERSONAL or code in PERSONAL else COMPANY,
                "data": data if data is not None else application(guide["form"], choose, chosen),
                "materials": materials if materials is not None else [m["id"] for m in guide["materials"]],
                "channel": channel}
        if intake is not None:
            body["intake"] = intake
        return self.post("/api/v1/cases", body, user=user)

    def act(self, case, rule, data, element=None, expect=200):
        t = next(t for t in case["tasks"] if t["rule"] == rule and (element is None or t["element_id"] == element))
        user = {"front_desk": "front", "pickup": "pickup1"}.get(t["group"], f"{t['group']}1")
        return self.post(f"/api/v1/tasks/{t['id']}/complete", {"data": data}, user=user, expect=expect)

    def walk(self, case, reject=(), inspection=True, pickup="window"):
        """Work every open task by its rule until the case ends (or waits only for a post-approval check)."""
        for _ in range(60):
            rules = [t["rule"] for t in case["tasks"]]
            if not rules or rules == ["post_check"]:
                return case
            rule = rules[0]
            if rule == "review":
                t = case["tasks"][0]
                member = t["process_id"].removeprefix("rv_")
                data = {"decision": "reject" if member in reject else "approve", "opinion": f"{member} 意见"}
            elif rule == "inspection":
                data = {"passed": inspection, "findings": "踏勘意见"}
            elif rule == "supply":
                data = {"supplied": [m["id"] for m in case["owed"]]}
            elif rule == "on_spot":
                member = case["tasks"][0]["process_id"].removeprefix("m_")
                data = {"decision": "reject" if member in reject else "approve", "opinion": "当场决定"}
            elif rule == "pickup":
                data = pickup_data(pickup)
            else:
                raise AssertionError(f"no step for rule {rule}")
            case = self.act(case, rule, data)
        raise AssertionError("the case did not end")


@pytest.fixture
def hall(services, db_url):
    add_hall_users(services)
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})
    return Clerks(app.test_client())


def verify_all(db_url) -> str:
    res = CliRunner().invoke(cli, ["audit", "verify", "--all"], env={"ONEWINDOW_DATABASE_URL": db_url})
    assert res.exit_code == 0, res.output
    return res.output


def test_the_whole_catalogue_through_the_api_then_every_case_verifies(hall, services, db_url):
    matters = hall.get("/api/v1/matters")
    codes = [m["code"] for m in matters if not m["code"].startswith("sample_")]
    kinds = {m["code"]: m["kind"] for m in matters}
    assert {c for c in codes if c.startswith("b_")} == {c for c in codes if kinds[c] == "bundle"}
    assert all(kinds[c] == "matter" for c in codes if c.startswith("m_"))
    done = []
    for code in codes:
        if code == "m_unemp_benefit":
            continue  # applied for online only (below)
        case = hall.walk(hall.apply(code))                       # everything approved
        assert all(o["status"] == "approved" for o in case["members"]), (code, case["members"])
        done.append(case)
        case = hall.walk(hall.apply(code), reject={o["matter"] for o in case["members"]})  # every member refused
        assert {o["status"] for o in case["members"]} <= {"rejected", "not_handled"}, (code, case["members"])
        assert case["certificates"] == [], code
        refused = hall.apply(code, intake={"accepted": False, "reason": "不属于本中心受理范围"})
        assert refused["status"] == "completed" and refused["notice"]["kind"] == "不予受理"
    # 一次性告知: nothing handed in; the licence and the lease are on file from the cases above (数据共享)
    notice = hall.apply("m_food_permit", materials=[])
    assert notice["notice"]["kind"] == "一次性告知"
    assert notice["notice"]["missing"] == ["经营场所平面布局图", "食品安全管理制度"]
    # 容缺 + 补齐
    owed = hall.apply("m_food_permit", materials={"licence": "provided", "lease": "deferred", "layout": "provided",
                                                  "safety_rules": "provided"})
    owed = hall.walk(owed)
    assert owed["status"] == "completed" and owed["certificates"]
    # 补正 once, then approved
    corr = hall.apply("m_signboard")
    corr = hall.act(corr, "review", {"decision": "correct", "opinion": "补正", "corrections": ["效果图"]})
    corr = hall.act(corr, "correction", {"supplied": ["sign_design"]})
    hall.act(corr, "review", {"decision": "correct", "opinion": "再补", "corrections": ["x"]}, expect=422)
    assert hall.walk(corr)["status"] == "completed"
    # 告知承诺 + 核查, both outcomes
    for result in ("ok", "violation"):
        c = hall.apply("m_food_permit", materials={"licence": "provided", "lease": "provided",
                                                   "layout": "commitment", "safety_rules": "commitment"})
        c = hall.walk(c, pickup="express")
        assert c["tasks"] == [] and c["status"] == "running"  # 事后核查 waits its working days
        assert fire_due(services, now=datetime.now(timezone.utc) + timedelta(days=40)) == 1
        c = hall.get(f"/api/v1/cases/{c['id']}")
        c = hall.act(c, "post_check", {"result": result, "remark": "核查意见"})
        assert c["certificates"][0]["status"] == ("valid" if result == "ok" else "revoked")
    # 秒批 both ways, and a person where the rules do not decide
    for reason, months, expected in (("contract_ended", 30, "approved"), ("resigned", 30, "rejected"),
                                     ("other", 30, "approved")):
        data = {k: KNOWN[k] for k in ("job_registered",)}
        c = hall.apply("m_unemp_benefit", data=dict(data, insured_months=months, leaving_reason=reason),
                       materials=["separation", "id_card"], channel="online", user="citizen1")
        c = hall.walk(c)
        assert c["members"][0]["status"] == expected and c["visits"] == 0
    # applicant-chosen members: 0, 1, n
    for chosen in ([], ["food_permit"], ["food_permit", "hygiene_permit", "signboard"]):
        c = hall.walk(hall.apply("b_joint", chosen=chosen))
        assert [o["matter"] for o in c["members"]] == ["company_reg", *chosen]
    # a failed joint inspection
    c = hall.walk(hall.apply("b_restaurant"), inspection=False)
    assert [o["status"] for o in c["members"]] == ["approved", "rejected", "rejected"]
    # every administrative act, on cases that then go on to the end
    admin_acts(hall, services, db_url)
    out = verify_all(db_url)
    assert " 0 failed" in out and "ok," in out


def admin_acts(hall, services, db_url):
    from engine.runtime.admin import Admin

    admin, boss = Admin(services), services.actor("admin")
    c = hall.apply("b_start_up")
    review = next(t for t in c["tasks"] if t["rule"] == "review")
    admin.reassign(boss, review["id"], to_user="market2", reason="承办人休假")
    admin.suspend(boss, c["id"], reason="等待司法协查")
    admin.resume(boss, c["id"], reason="协查完毕")
    admin.correct_data(boss, c["id"], {"address": "梅山街道2号"}, reason="申请人更正住所")
    c = hall.get(f"/api/v1/cases/{c['id']}")
    t = next(t for t in c["tasks"] if t["rule"] == "review")
    c = hall.post(f"/api/v1/tasks/{t['id']}/complete", {"data": {"decision": "approve", "opinion": "同意"}}, user="market2")
    assert hall.walk(c)["status"] == "completed"
    migrate_a_case(hall, services, boss, admin)


def migrate_a_case(hall, services, boss, admin):
    """A designer deploys a new version of sample_matter; a running case moves onto it and goes on."""
    import tempfile
    from pathlib import Path

    from engine.model.catalogue import PROCESSES_DIR, check
    from engine.model.deploy import deploy

    c = hall.apply("sample_matter")
    with tempfile.TemporaryDirectory() as tmp:
        for src in [*PROCESSES_DIR.glob("*.bpmn"), *PROCESSES_DIR.glob("*.dmn")]:
            text = src.read_text(encoding="utf-8")
            if src.name == "sample_matter.bpmn":
                text = text.replace('name="出件"', 'name="出件（新版）"')
            (Path(tmp) / src.name).write_text(text, encoding="utf-8")
        with services.uow() as s:
            new = dict((pid, vid) for pid, vid, _ in deploy(s, check(processes_dir=Path(tmp), forms_dir=FORMS_DIR)))
    admin.migrate_version(boss, c["id"], new["sample_matter"], reason="新版出件环节")
    c = hall.get(f"/api/v1/cases/{c['id']}")
    assert hall.walk(c)["status"] == "completed"
