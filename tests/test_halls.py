"""Halls and levels: the organisation as data, who decides where (the competent authority's department inbox), who sees
what (a clerk their own hall's cases and tasks, a supervisor also the halls below), and the whole path of issue 16: a
street hall accepts a district matter, the district department decides, the certificate's webhook reaches the
regulator signed after a failed first delivery, the regulator's finding revokes it, and the audit verifies."""
from __future__ import annotations

import hashlib
import re
import hmac
import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from engine.db import User
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.runtime import org, outbox, webhooks
from engine.window import findings
from tests.conftest import USERS
from tests.test_regulators import Receiver, signed
from tests.walk import COMPANY, FIELDS, add_users, fit
from web import create_app
from web.cli import cli

HALLS = [("city", "市民服务中心", "city", None), ("east", "东区政务服务中心", "district", "city"),
         ("west", "西区政务服务中心", "district", "city"), ("meishan", "梅山街道便民服务中心", "street", "east"),
         ("chunxiao", "春晓街道便民服务中心", "street", "west"), ("meishan_c1", "梅山社区服务站", "community", "meishan")]
# user, groups, hall
STAFF = [("front_meishan", ["front_desk"], "meishan"), ("pickup_meishan", ["pickup"], "meishan"),
         ("front_chunxiao", ["front_desk"], "chunxiao"), ("front_west", ["front_desk"], "west"),
         ("tax_east", ["tax"], "east"), ("tax_west", ["tax"], "west"), ("tax_city", ["tax"], "city"),
         ("super_city", ["supervisor"], "city"), ("super_east", ["supervisor"], "east"),
         ("super_west", ["supervisor"], "west"), ("admin_city", ["admin"], "city")]
SECRET = "regulator-secret-0123456789"
REG_SECRET = "tax-bureau-secret-0123456"


def build_org(services) -> None:
    """The halls, a tax department at each district and at the city, and the staff placed at their halls."""
    for code, name, level, parent in HALLS:
        org.add_hall(services, code, name, level, parent)
    for hall in ("city", "east", "west"):
        org.add_department(services, hall, "tax", "税务局")
    add_users(services, [(u, g) for u, g, _ in STAFF] + [(u, g) for u, g in USERS])
    with services.uow() as s:
        for user, _, hall in STAFF:
            s.execute(update(User).where(User.username == user).values(hall=hall))
        s.execute(update(User).where(User.hall.is_(None)).values(hall="city"))


def invoice(services, front: str = "front_meishan") -> dict:
    """A 新办纳税人发票申领 (decided by the district's tax department) accepted at `front`'s hall."""
    return services.start_case(services.actor(front), "m_tax_invoice", COMPANY, fit("f_tax_invoice", FIELDS),
                               intake={"accepted": True, "materials": {"licence": "provided"}})


def inbox_numbers(services, user: str) -> set[str]:
    return {t["case_number"] for t in services.inbox(services.actor(user)).items}


def readable(services, user: str, case_id: int) -> bool:
    try:
        services.case_view(case_id, services.actor(user))
        return True
    except NotFound:
        return False


# ---------------------------------------------------------------- the organisation
def test_halls_form_a_tree_of_levels_and_users_belong_to_one(services):
    build_org(services)
    tree = org.show(services)
    assert [(h["code"], h["depth"]) for h in tree] == [("city", 0), ("east", 1), ("meishan", 2), ("meishan_c1", 3),
                                                       ("west", 1), ("chunxiao", 2)]
    east = next(h for h in tree if h["code"] == "east")
    assert east["departments"] == {"tax": "税务局"} and "tax_east" in east["users"]
    with pytest.raises(Invalid) as err:
        org.add_hall(services, "bad", "倒挂", "district", "meishan")  # a district under a street
    assert "parent" in err.value.fields
    with pytest.raises(Invalid) as err:
        org.add_hall(services, "Bad Code", "", "province")
    assert set(err.value.fields) == {"code", "name", "level"}
    with pytest.raises(Invalid):
        services.add_user("nowhere", "pw", ["tax"], hall="atlantis")
    services.add_user("tax_default", "pw", ["tax"])  # no hall named: the only top hall
    assert services.actor("tax_default").hall == "city"
    assert services.actor("super_east").halls == {"east", "meishan", "meishan_c1"}
    assert services.actor("tax_east").halls == {"east"}


def test_org_commands(cli_env):
    runner = CliRunner()

    def run(*args):
        res = runner.invoke(cli, list(args), env=cli_env)
        assert res.exit_code == 0, res.output
        return res.output

    run("org", "add-hall", "c", "--name", "市民中心", "--level", "city")
    run("org", "add-hall", "d1", "--name", "一区中心", "--level", "district", "--parent", "c")
    run("org", "add-hall", "s1", "--name", "一街道", "--level", "street", "--parent", "d1")
    run("org", "add-dept", "d1", "market", "--name", "一区市场监管分局")
    run("users", "add", "m_d1", "--password", "pw", "--groups", "market", "--hall", "d1")
    out = run("org", "show")
    assert out.splitlines()[:2] == ["c  市民中心  [city]", "  d1  一区中心  [district]"]
    assert "    departments: market (一区市场监管分局)" in out and "    users: m_d1" in out and "    s1  一街道  [street]" in out
    res = runner.invoke(cli, ["org", "add-hall", "x", "--name", "X", "--level", "district", "--parent", "s1"],
                        env=cli_env)
    assert res.exit_code == 1 and "parent" in res.output


# ---------------------------------------------------------------- who decides where, who sees what
def test_a_street_hall_accepts_and_only_the_district_department_gets_the_task(services):
    build_org(services)
    case = invoice(services)
    assert case["hall"] == "meishan" and case["authority"] == {"hall": "east", "department": "tax"}
    started = services.events(case["id"])[0]["payload"]
    assert started["hall"] == "meishan" and started["authority"] == {"hall": "east", "department": "tax"}
    (task,) = case["tasks"]
    assert task["group"] == "tax"
    assert case["number"] in inbox_numbers(services, "tax_east")
    assert case["number"] not in inbox_numbers(services, "tax_west") | inbox_numbers(services, "tax_city")
    with pytest.raises(Forbidden):
        services.claim(services.actor("tax_west"), task["id"])
    with pytest.raises(NotFound):
        services.task_for(services.actor("tax_city"), task["id"])
    # a west street accepting the same matter sends it to the west district
    other = invoice(services, "front_chunxiao")
    assert other["authority"] == {"hall": "west", "department": "tax"}
    assert other["number"] in inbox_numbers(services, "tax_west") and other["number"] not in inbox_numbers(
        services, "tax_east")


def test_a_clerk_of_one_district_never_sees_another_districts_cases(services):
    build_org(services)
    east_case, west_case = invoice(services, "front_meishan"), invoice(services, "front_chunxiao")
    for user, sees, never in [("tax_east", east_case, west_case), ("tax_west", west_case, east_case),
                              ("front_meishan", east_case, west_case), ("front_chunxiao", west_case, east_case),
                              ("super_east", east_case, west_case), ("super_west", west_case, east_case)]:
        assert readable(services, user, sees["id"]), (user, sees["number"])
        assert not readable(services, user, never["id"]), (user, never["number"])
        with pytest.raises(NotFound):
            services.events(never["id"], services.actor(user))
        assert never["number"] not in inbox_numbers(services, user)
    # a front desk of a district does not see its streets' cases; the city's supervisor sees every district's
    assert not readable(services, "front_west", west_case["id"])
    assert readable(services, "super_city", east_case["id"]) and readable(services, "super_city", west_case["id"])
    assert not readable(services, "tax_city", east_case["id"])  # a clerk of the city: own hall only


def test_the_api_says_where_a_case_was_accepted_and_who_decides(services, db_url):
    build_org(services)
    case = invoice(services)
    client = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"}).test_client()

    def token(user):
        return {"Authorization": "Bearer " + client.post("/api/v1/auth/token",
                                                         json={"username": user, "password": "pw"}).json["token"]}

    r = client.get(f"/api/v1/cases/{case['id']}", headers=token("tax_east"))
    assert r.status_code == 200 and r.json["hall"] == "meishan"
    assert r.json["authority"] == {"hall": "east", "department": "tax"}
    assert client.get(f"/api/v1/cases/{case['id']}", headers=token("tax_west")).status_code == 404
    tasks = client.get("/api/v1/tasks", headers=token("tax_west")).json["items"]
    assert case["number"] not in {t["case_number"] for t in tasks}


def test_a_matter_with_no_hall_of_its_level_above_is_refused_with_the_reason(services):
    org.add_hall(services, "lone", "独立街道中心", "street")
    add_users(services, [("front_lone", ["front_desk"])])
    with services.uow() as s:
        s.execute(update(User).where(User.username == "front_lone").values(hall="lone"))
    with pytest.raises(Invalid, match="区级"):
        invoice(services, "front_lone")


# ---------------------------------------------------------------- the whole path (issue 16's done-when)
def whole_path(services, db_url) -> None:
    """Street front desk accepts a district matter -> only the district department sees the task -> it approves ->
    the certificate's webhook reaches the receiver signed after one failed delivery -> the regulator's finding
    revokes the certificate -> `onewindow audit verify --all` passes."""
    build_org(services)
    runner, env = CliRunner(), {"ONEWINDOW_DATABASE_URL": db_url}
    receiver = Receiver(fail=1)
    try:
        res = runner.invoke(cli, ["webhooks", "add", receiver.url, "--events",
                                  "certificate_issued,certificate_revoked,case_completed", "--secret", SECRET], env=env)
        assert res.exit_code == 0, res.output
        res = runner.invoke(cli, ["regulators", "add", "tax_bureau", "--secret", REG_SECRET], env=env)
        assert res.exit_code == 0, res.output

        case = invoice(services, "front_meishan")
        assert case["authority"] == {"hall": "east", "department": "tax"}
        (task,) = case["tasks"]
        seen_by = {u for u, _, _ in STAFF if case["number"] in inbox_numbers(services, u)}
        assert seen_by == {"tax_east"}  # only the district's tax department
        case = services.complete(services.actor("tax_east"), task["id"], {"decision": "approve", "opinion": "同意"})
        (cert,) = case["certificates"]
        (pickup,) = case["tasks"]
        assert pickup["group"] == "pickup"
        assert case["number"] in inbox_numbers(services, "pickup_meishan")  # results come back to the street hall

        now = datetime.now(timezone.utc)
        assert outbox.deliver_due(services, now=now) == 0  # the receiver failed the first delivery
        assert outbox.deliver_due(services, now=now + timedelta(seconds=11)) == 1
        assert [json.loads(p["body"])["event"] for p in receiver.posts] == ["certificate_issued"] * 2
        last = receiver.posts[-1]
        assert last["headers"]["X-Onewindow-Signature"] == signed(last["body"], SECRET)
        assert json.loads(last["body"])["data"]["number"] == cert["number"]
        assert webhooks.deliveries(services, None)[0]["status"] == "delivered"

        client = create_app(config={"DATABASE_URL": db_url, "TESTING": True,
                                    "SECRET_KEY": "test-secret"}).test_client()
        body = json.dumps({"certificate": cert["number"], "finding": "核查发现虚开发票", "action": "revoke"},
                          ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "X-Regulator": "tax_bureau"}
        r = client.post("/api/v1/regulator/findings", data=body, headers=headers)
        assert r.status_code == 401
        r = client.post("/api/v1/regulator/findings", data=body,
                        headers=dict(headers, **{"X-Onewindow-Signature": "sha256=" + hmac.new(
                            REG_SECRET.encode(), body, hashlib.sha256).hexdigest()}))
        assert r.status_code == 200, r.json
        assert r.json["status"] == "revoked"
        assert services.rules.certs.verify(cert["number"])["reason"] == "证照已注销"

        services.complete(services.actor("pickup_meishan"), pickup["id"], _pickup_data())
        outbox.deliver_due(services, now=now + timedelta(seconds=30))
        assert [json.loads(p["body"])["event"] for p in receiver.posts][2:] == ["certificate_revoked",
                                                                                "case_completed"]
        res = runner.invoke(cli, ["audit", "verify", "--all"], env=env)
        assert res.exit_code == 0, res.output
        assert "1 case(s) verified: 1 ok, 0 failed" in res.output
    finally:
        receiver.close()


def _pickup_data() -> dict:
    from tests.walk import pickup_data

    return pickup_data("window")


def test_the_whole_path_of_issue_16(services, db_url):
    """On the run's backend (SQLite by default; PostgreSQL with ONEWINDOW_TEST_BACKEND=postgres)."""
    whole_path(services, db_url)


@pytest.mark.postgres
def test_the_whole_path_of_issue_16_on_postgresql(pg_services, pg_url):
    whole_path(pg_services, pg_url)


# ---------------------------------------------------------------- 通办
def test_tongban_a_street_hall_routes_a_citywide_matter_to_another_district(services):
    from engine.clock import local_date
    from engine.supervision import stats

    build_org(services)
    case = services.start_case(services.actor("front_meishan"), "m_tax_invoice", COMPANY,
                               fit("f_tax_invoice", FIELDS), intake={"accepted": True,
                                                                      "materials": {"licence": "provided"}},
                               authority="west")  # 全市通办: the applicant's own district decides
    assert case["hall"] == "meishan" and case["authority"] == {"hall": "west", "department": "tax"}
    assert case["number"] in inbox_numbers(services, "tax_west")
    assert case["number"] not in inbox_numbers(services, "tax_east")
    case = services.complete(services.actor("tax_west"), case["tasks"][0]["id"],
                             {"decision": "approve", "opinion": "同意"})
    assert case["number"] in inbox_numbers(services, "pickup_meishan")  # results come back where it was accepted
    with pytest.raises(Invalid) as err:  # a street is not where a district matter is decided
        invoice_to(services, "chunxiao")
    assert "authority" in err.value.fields
    invoice(services)  # accepted and decided in the east: not 通办
    figures = stats.figures(services, services.actor("super_city"),
                            stats.parse_filters({}, local_date(services.clock()), set(stats.departments(services))))
    by_hall = {h["hall"]: h for h in figures["by_hall"]}
    assert by_hall["meishan"] == {"hall": "meishan", "name": "梅山街道便民服务中心", "accepted": 2, "tongban": 2,
                                  "decided": 0}
    assert by_hall["west"]["decided"] == 1 and by_hall["east"]["decided"] == 1
    east_only = stats.figures(services, services.actor("super_east"),
                              stats.parse_filters({}, local_date(services.clock()), set(stats.departments(services))))
    assert {h["hall"] for h in east_only["by_hall"]} == {"meishan", "east"}


def invoice_to(services, authority: str) -> dict:
    return services.start_case(services.actor("front_meishan"), "m_tax_invoice", COMPANY,
                               fit("f_tax_invoice", FIELDS), intake={"accepted": True,
                                                                      "materials": {"licence": "provided"}},
                               authority=authority)


@pytest.mark.parametrize("scope, accepted_at, chosen, ok", [
    ("本级", "east", None, True), ("本级", "meishan", None, False),
    ("区内通办", "meishan", None, True), ("区内通办", "meishan", "west", False),
    ("全市通办", "meishan", "west", True), ("全市通办", "other_street", "east", False),
    ("全省通办", "other_street", "east", True), ("跨省通办", "meishan_c1", "west", True)])
def test_a_scope_covers_the_halls_it_names(services, scope, accepted_at, chosen, ok):
    build_org(services)
    org.add_hall(services, "other_city", "另一市民中心", "city")
    org.add_hall(services, "other_district", "另一区", "district", "other_city")
    org.add_hall(services, "other_street", "另一街道", "street", "other_district")
    with services.read() as s:
        tree = org.load(s)
    if ok:
        assert tree.competent(accepted_at, "district", scope, chosen).level == "district"
    else:
        with pytest.raises(Invalid, match=scope):
            tree.competent(accepted_at, "district", scope, chosen)


# ---------------------------------------------------------------- 首接负责 and 转办
def test_a_misrouted_case_is_handed_over_acknowledged_and_every_step_replays(services):
    from engine.audit.verify import verify_ids
    from engine.runtime.transfers import Transfers

    build_org(services)
    transfers = Transfers(services)
    case = invoice(services)
    with pytest.raises(NotFound):  # another district's clerk cannot even see it
        transfers.transfer(services.actor("tax_west"), case["id"], "west", "应由西区办理")
    with pytest.raises(Invalid) as err:
        transfers.transfer(services.actor("tax_east"), case["id"], "atlantis", "应由西区办理")
    assert "to" in err.value.fields
    with pytest.raises(Invalid):
        transfers.transfer(services.actor("tax_east"), case["id"], "west", " ")
    services.claim(services.actor("tax_east"), case["tasks"][0]["id"])

    moved = transfers.transfer(services.actor("tax_east"), case["id"], "west", "申请人注册地在西区，应由西区办理")
    assert moved["hall"] == "meishan" and moved["authority"] == {"hall": "west", "department": "tax"}
    assert moved["transfer"]["from"] == {"hall": "east", "department": "tax"} and not moved["transfer"]["overdue"]
    assert moved["tasks"][0]["assignee"] is None  # unclaimed, in the receiving hall's inbox
    assert case["number"] in inbox_numbers(services, "tax_west")
    assert case["number"] not in inbox_numbers(services, "tax_east")
    add_users(services, [("tax_east2", ["tax"])])
    with services.uow() as s:
        s.execute(update(User).where(User.username == "tax_east2").values(hall="east"))
    assert not readable(services, "tax_east2", case["id"]) and readable(services, "front_meishan", case["id"])
    assert readable(services, "tax_east", case["id"])  # who claimed it keeps reading what they acted on
    with pytest.raises(Conflict):
        transfers.transfer(services.actor("tax_west"), case["id"], "west", "again")

    later = services.clock() + timedelta(days=5)
    (waiting,) = transfers.pending(services.actor("super_city"), later)
    assert waiting["number"] == case["number"] and waiting["overdue"] is True
    assert transfers.pending(services.actor("front_chunxiao"), later) == []
    with pytest.raises(Forbidden):  # the accepting hall may hand over, but only the receiving hall acknowledges
        transfers.acknowledge(services.actor("front_meishan"), case["id"])
    done = transfers.acknowledge(services.actor("tax_west"), case["id"])
    assert done["transfer"] is None and transfers.pending(services.actor("super_city"), later) == []
    with pytest.raises(Conflict):
        transfers.acknowledge(services.actor("tax_west"), case["id"])
    services.complete(services.actor("tax_west"), done["tasks"][0]["id"], {"decision": "approve", "opinion": "同意"})
    types = [e["type"] for e in services.events(case["id"])]
    assert types.count("case_transferred") == 1 and types.count("transfer_acknowledged") == 1
    (finding,) = list(verify_ids(services, [case["id"]]))
    assert finding.ok, finding


def test_transfer_through_the_api(services, db_url):
    build_org(services)
    case = invoice(services)
    client = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"}).test_client()

    def token(user):
        return {"Authorization": "Bearer " + client.post("/api/v1/auth/token",
                                                         json={"username": user, "password": "pw"}).json["token"]}

    url = f"/api/v1/cases/{case['id']}/transfer"
    assert client.post(url, json={"to": "nowhere", "reason": "x"}, headers=token("tax_east")).status_code == 422
    r = client.post(url, json={"to": "west", "reason": "应由西区办理"}, headers=token("front_meishan"))
    assert r.status_code == 200, r.json
    assert r.json["authority"] == {"hall": "west", "department": "tax"} and r.json["transfer"]["to"]["hall"] == "west"
    pending = client.get("/api/v1/transfers", headers=token("tax_west")).json
    assert [p["number"] for p in pending] == [case["number"]]
    r = client.post(f"{url}/acknowledge", headers=token("tax_west"))
    assert r.status_code == 200 and r.json["transfer"] is None


# ---------------------------------------------------------------- 负面清单
def test_the_negative_list_is_public_and_its_cases_are_counted_apart(services, db_url):
    from engine.clock import local_date
    from engine.readmodels import negative_list
    from engine.supervision import stats
    from tests.walk import PERSON, Hall, add_hall_users

    (entry,) = negative_list(services)
    assert entry["code"] == "m_id_card_renew" and entry["visits"] == 2 and "指纹" in entry["reason"]
    client = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"}).test_client()
    page = client.get("/negative-list")
    assert page.status_code == 200 and "居民身份证换领" in page.text and "指纹" in page.text
    assert "more than one visit" in client.get("/negative-list?lang=en").text
    r = client.get("/api/v1/negative-list")  # public: no token
    assert r.status_code == 200 and r.json == [entry]

    add_hall_users(services)
    hall = Hall(services)
    seal = hall.apply("m_seal", COMPANY, fit("f_seal", FIELDS), provided=["licence", "id_card"])
    hall.act(hall.task(seal, "on_spot"), {"decision": "approve", "opinion": "当场办结"}, who="front")
    card = hall.apply("m_id_card_renew", PERSON, dict(fit("f_id_card_renew", FIELDS), renew_reason="有效期满"), provided=["old_id", "photo"])
    card = hall.pickup(hall.decide_all(card["id"]))
    assert card["status"] == "completed"
    figures = stats.figures(services, services.actor("super1"),
                            stats.parse_filters({}, local_date(services.clock()), set(stats.departments(services))))
    assert figures["negative_list"]["matters"] == ["m_id_card_renew"]
    assert figures["negative_list"]["cases"] == 1 and figures["negative_list"]["done"] == 1
    assert figures["summary"]["one_visit_rate"] == 1.0 and figures["summary"]["done"] == 2


# ---------------------------------------------------------------- 转报
FORWARD_GUIDE = {"code": "000-QT-9901", "name": "转报测试事项", "type": "行政许可", "department": "税务局", "group": "tax",
                 "level": "district", "scope": "全市通办", "handling": "承诺件", "statutory_days": 20,
                 "promised_days": 10, "materials": []}


def forward_bpmn() -> str:
    """A district prepares (初审), the city decides (审批: `hall_level=city`), each with its own time limit."""
    guide = json.dumps(FORWARD_GUIDE, ensure_ascii=False)
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_fwd" targetNamespace="http://example.com/fwd">
<bpmn:process id="m_forward" name="转报测试事项" isExecutable="true">
<bpmn:extensionElements><ow:guide xmlns:ow="https://onewindow.example/bpmn/guide">{guide}</ow:guide></bpmn:extensionElements>
<bpmn:startEvent id="start" />
<bpmn:userTask id="prepare" name="区级初审" camunda:candidateGroups="tax" camunda:dueDate="P3D" />
<bpmn:userTask id="decide" name="市级审批" camunda:candidateGroups="tax" camunda:dueDate="P5D">
  <bpmn:extensionElements><camunda:properties><camunda:property name="hall_level" value="city" /></camunda:properties>
  </bpmn:extensionElements>
</bpmn:userTask>
<bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prepare" />
<bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="decide" />
<bpmn:sequenceFlow id="f3" sourceRef="decide" targetRef="end" />
</bpmn:process>
</bpmn:definitions>
'''


def test_a_step_forwarded_to_a_higher_level_is_done_there_with_its_own_inbox_and_limit(services, tmp_path):
    from engine.audit.verify import verify_ids
    from tests.helpers import deploy_files

    build_org(services)
    procs = tmp_path / "processes"
    procs.mkdir()
    (procs / "m_forward.bpmn").write_text(forward_bpmn(), encoding="utf-8")
    deploy_files(services, procs)
    case = services.start_case(services.actor("front_meishan"), "m_forward", COMPANY, {})
    assert case["authority"] == {"hall": "east", "department": "tax"}
    (prepare,) = case["tasks"]
    assert case["number"] in inbox_numbers(services, "tax_east")
    assert case["number"] not in inbox_numbers(services, "tax_city")
    assert not readable(services, "tax_city", case["id"])  # nothing forwarded yet
    case = services.complete(services.actor("tax_east"), prepare["id"], {})
    (decide,) = case["tasks"]
    assert decide["element_id"] == "decide" and decide["due"] != prepare["due"]
    assert case["number"] in inbox_numbers(services, "tax_city")  # the city decides
    assert case["number"] not in inbox_numbers(services, "tax_east") | inbox_numbers(services, "tax_west")
    assert readable(services, "tax_city", case["id"]) and not readable(services, "tax_west", case["id"])
    with pytest.raises(Forbidden):
        services.complete(services.actor("tax_east"), decide["id"], {})
    case = services.complete(services.actor("tax_city"), decide["id"], {})
    assert case["status"] == "completed"
    assert readable(services, "tax_city", case["id"])  # the city keeps reading what it decided
    events = [(e["type"], e["actor"], e["element_id"]) for e in services.events(case["id"])]
    assert ("task_completed", "tax_east", "prepare") in events and ("task_completed", "tax_city", "decide") in events
    (finding,) = list(verify_ids(services, [case["id"]]))
    assert finding.ok, finding


def test_a_district_supervisor_lists_only_the_late_cases_of_its_halls(services):
    from engine.clock import local_date
    from engine.supervision import stats

    build_org(services)
    east_case, west_case = invoice(services, "front_meishan"), invoice(services, "front_chunxiao")
    later = services.clock() + timedelta(days=60)

    def overdue(user):
        figures = stats.figures(services, services.actor(user), stats.parse_filters(
            {}, local_date(services.clock()), set(stats.departments(services))), now=later)
        return {c["number"] for c in figures["lists"]["overdue"]}

    assert overdue("super_city") == {east_case["number"], west_case["number"]}
    assert overdue("super_east") == {east_case["number"]}
    assert overdue("super_west") == {west_case["number"]}


def test_the_case_page_shows_where_the_case_is_and_a_transfer_waiting(services, db_url):
    from engine.runtime.transfers import Transfers

    build_org(services)
    case = invoice(services)
    Transfers(services).transfer(services.actor("tax_east"), case["id"], "west", "应由西区办理")
    client = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"}).test_client()
    client.get("/login")
    with client.session_transaction() as sess:
        token = sess.get("csrf")
    r = client.post("/login", data={"username": "front_meishan", "password": "pw", "_csrf": token})
    assert r.status_code in (302, 303), r.text
    page = client.get(f"/cases/{case['id']}").text
    assert '<dd id="case-hall">梅山街道便民服务中心</dd>' in page  # halls and departments by name, not code
    assert "西区政务服务中心 · 税务局" in page and "应由西区办理" in page
    assert "转办（移交）" in page and "case_transferred" not in page
    en = client.get(f"/cases/{case['id']}?lang=en").text
    assert "Accepted at" in en and "Decided by" in en
    client.post("/logout", data={"_csrf": token})
    client.get("/login")
    with client.session_transaction() as sess:
        token = sess.get("csrf")
    client.post("/login", data={"username": "front_chunxiao", "password": "pw", "_csrf": token})
    assert client.get(f"/cases/{case['id']}").status_code == 404


def test_check_names_a_forwarded_step_of_no_known_level(tmp_path):
    from engine.model.catalogue import FORMS_DIR, check

    procs = tmp_path / "processes"
    procs.mkdir()
    (procs / "m_forward.bpmn").write_text(forward_bpmn().replace('value="city"', 'value="galaxy"'), encoding="utf-8")
    result = check(processes_dir=procs, forms_dir=FORMS_DIR)
    assert not result.ok
    assert any(p.element == "decide" and "hall_level 'galaxy'" in p.message for p in result.problems)


def signed_in(app, user: str):
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as sess:
        token = sess.get("csrf")
    r = client.post("/login", data={"username": user, "password": "pw", "_csrf": token})
    assert r.status_code in (302, 303), r.text
    return client


def test_the_supervisor_page_counts_per_hall_and_the_negative_list_apart(services, db_url):
    build_org(services)
    invoice(services, "front_meishan")
    invoice_to(services, "west")
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})
    page = signed_in(app, "super_city").get("/supervisor/").text
    assert 'id="by-hall"' in page and "梅山街道便民服务中心 <code>meishan</code></td><td>2</td><td>2</td><td>0</td>" in page
    assert 'id="negative-list-figures"' in page
    en = signed_in(app, "super_east").get("/supervisor/?lang=en").text
    assert "Cases per hall" in en and "<code>west</code>" not in en.split('id="by-hall"')[1].split("</table>")[0]


def test_the_front_desk_page_routes_a_citywide_matter_to_the_district_chosen(services, db_url):
    from tests.test_web import accept

    build_org(services)
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})
    client = signed_in(app, "front_meishan")
    page = client.get("/frontdesk/matters/m_tax_invoice").text
    select = page.split('id="authority"')[1].split("</select>")[0]
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', select)
    assert options == [("east", "东区政务服务中心"), ("west", "西区政务服务中心")]  # the nearest first
    fields = {f"f_{k}": v for k, v in fit("f_tax_invoice", FIELDS).items()}
    number, case_id, _ = accept(client, COMPANY["name"], "m_tax_invoice", authority="west", mat_licence="provided",
                                **fields)
    assert services.case_view(case_id)["authority"] == {"hall": "west", "department": "tax"}
    assert number in inbox_numbers(services, "tax_west")
    # a hall the matter's scope does not cover is refused, naming the scope and where to go
    org.add_hall(services, "far", "外市中心", "city")
    org.add_hall(services, "far_d", "外市一区", "district", "far")
    form = {"_csrf": re.search(r'name="_csrf" value="([^"]+)"', page).group(1), "a_type": "company",
            "a_name": COMPANY["name"], "a_id": COMPANY["credit_code"], "decision": "accept", "authority": "far_d",
            "mat_licence": "provided", **fields}
    r = client.post("/frontdesk/matters/m_tax_invoice", data=form)
    assert r.status_code == 422 and "全市通办" in r.text


def test_transfer_and_acknowledge_from_the_case_page(services, db_url):
    build_org(services)
    case = invoice(services)
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})
    east = signed_in(app, "tax_east")
    page = east.get(f"/cases/{case['id']}").text
    assert 'id="transfer-form"' in page and '<option value="west">' in page and 'id="acknowledge"' not in page
    token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
    r = east.post(f"/cases/{case['id']}/transfer", data={"_csrf": token, "to": "west", "reason": " "})
    assert r.status_code == 303 and services.case_view(case["id"])["authority"]["hall"] == "east"  # no reason
    r = east.post(f"/cases/{case['id']}/transfer", data={"_csrf": token, "to": "west", "reason": "应由西区办理"})
    assert r.status_code == 303 and services.case_view(case["id"])["authority"]["hall"] == "west"
    west = signed_in(app, "tax_west")
    page = west.get(f"/cases/{case['id']}").text
    assert 'id="acknowledge"' in page and "应由西区办理" in page
    token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
    assert west.post(f"/cases/{case['id']}/transfer/acknowledge", data={"_csrf": token}).status_code == 303
    assert services.case_view(case["id"])["transfer"] is None
    assert 'id="handover"' not in signed_in(app, "front_chunxiao").get(f"/cases/{case['id']}").text
