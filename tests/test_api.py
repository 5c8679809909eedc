"""The JSON API /api/v1: auth, every status code, a bundle walked by several users, OpenAPI = routes."""
from __future__ import annotations

import re

import pytest

from tests.conftest import APPLICANT
from web import create_app
from tests.walk import pickup_data

DEPTS = {"market": "market1", "tax": "tax1", "social": "social1", "fund": "fund1", "police": "police1"}


@pytest.fixture
def app(services, db_url):
    return create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})


@pytest.fixture
def client(app):
    return app.test_client()


def auth(client, user: str, password: str = "pw") -> dict:
    r = client.post("/api/v1/auth/token", json={"username": user, "password": password})
    assert r.status_code == 200, r.json
    return {"Authorization": f"Bearer {r.json['token']}"}


def start(client, h, matter="sample_bundle", applicant=None, **body) -> dict:
    """A case started at the window: the front desk's verdict (accepted) is taken in the same request."""
    r = client.post("/api/v1/cases", headers=h, json={"matter": matter, "applicant": applicant or APPLICANT,
                                                       "data": {}, "channel": "window", **body})
    assert r.status_code == 201, r.json
    return r.json


def task_of(client, h, case_id: int, group: str | None = None) -> dict:
    tasks = [t for t in client.get("/api/v1/tasks", headers=h).json["items"]
             if t["case_id"] == case_id and (group is None or t["group"] == group)]
    assert tasks, f"no task for case {case_id} ({group})"
    return tasks[0]


def error_of(r) -> dict:
    assert r.is_json, r.data[:200]
    assert set(r.json) == {"error"} and {"code", "message"} <= set(r.json["error"])
    assert b"Traceback" not in r.data
    return r.json["error"]


# ---------------------------------------------------------------- auth and errors
def test_401_without_or_with_a_bad_token(client):
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic Zm9vOmJhcg=="}):
        r = client.get("/api/v1/matters", headers=headers)
        assert r.status_code == 401 and error_of(r)["code"] == "unauthorized"
    r = client.post("/api/v1/auth/token", json={"username": "front", "password": "wrong"})
    assert r.status_code == 401 and error_of(r)


def test_token_from_another_secret_or_expired_is_refused(services, db_url, client):
    other = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "other"}).test_client()
    h = auth(other, "front")
    assert client.get("/api/v1/matters", headers=h).status_code == 401
    expired = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret",
                                 "API_TOKEN_MAX_AGE": -1}).test_client()
    r = expired.get("/api/v1/matters", headers=auth(client, "front"))
    assert r.status_code == 401 and "expired" in error_of(r)["message"]


def test_users_token_command_prints_a_working_token_and_revoke_ends_it(services, db_url, monkeypatch):
    from click.testing import CliRunner

    from web.cli import cli

    key = "k" * 40
    client = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": key}).test_client()
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", db_url)
    monkeypatch.setenv("ONEWINDOW_SECRET_KEY", "short")
    assert CliRunner().invoke(cli, ["users", "token", "tax1"]).exit_code == 2  # a weak key signs nothing
    monkeypatch.setenv("ONEWINDOW_SECRET_KEY", key)
    result = CliRunner().invoke(cli, ["users", "token", "tax1"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/tasks", headers=h).status_code == 200
    assert CliRunner().invoke(cli, ["users", "token", "ghost"]).exit_code == 1
    assert CliRunner().invoke(cli, ["users", "revoke", "tax1"]).exit_code == 0
    r = client.get("/api/v1/tasks", headers=h)
    assert r.status_code == 401 and "revoked" in r.json["error"]["message"]


def test_404_405_400_and_500_are_json(services, db_url, client):
    h = auth(client, "front")
    r = client.get("/api/v1/nowhere", headers=h)
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    r = client.delete("/api/v1/matters", headers=h)
    assert r.status_code == 405 and error_of(r)
    r = client.post("/api/v1/cases", headers=dict(h, **{"Content-Type": "application/json"}), data="{not json")
    assert r.status_code == 422 and error_of(r)["fields"]
    r = client.get("/api/v1/cases/99999", headers=h)
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    r = client.get("/api/v1/matters/no_such_matter", headers=h)
    assert r.status_code == 404 and error_of(r)

    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "x"})

    @app.get("/api/boom")
    def boom():
        raise RuntimeError("secret internals")

    r = app.test_client().get("/api/boom")
    assert r.status_code == 500 and error_of(r)["code"] == "internal_error"
    assert b"secret internals" not in r.data


# ---------------------------------------------------------------- catalogue
def test_matters_and_guide(client):
    h = auth(client, "front")
    matters = {m["code"]: m for m in client.get("/api/v1/matters", headers=h).json}
    assert not {"sample_bundle", "sample_matter"} & set(matters), "demo samples are not in the public catalogue"
    assert client.get("/api/v1/matters?q=sample_m", headers=h).json == []
    assert "review_market" not in matters, "processes only called by bundles are not applied for"

    guide = client.get("/api/v1/matters/sample_bundle", headers=h).json  # a sample still opens by its code
    assert guide["kind"] == "bundle" and guide["name"]
    assert set(guide["departments"]) == {"市场监管局", "税务局", "人社局", "公积金中心", "公安局"}  # titles, not codes
    assert set(guide["members"]) == {f"review_{d}" for d in DEPTS}
    assert {"handling", "promised_days", "statutory_days"} <= set(guide)
    assert guide["form"]["type"] == "object" and isinstance(guide["materials"], list)
    assert {"front_desk", "pickup", *DEPTS} <= set(guide["groups"])


# ---------------------------------------------------------------- cases and tasks
def test_create_case_201_and_422(client):
    h = auth(client, "front")
    case = start(client, h)
    assert case["number"].startswith("OW") and case["status"] == "running" and case["matter"] == "sample_bundle"
    assert case["applicant"]["name"] == APPLICANT["name"] and case["visits"] == 1
    assert sorted(t["group"] for t in case["tasks"]) == sorted(DEPTS)  # accepted at once: the reviews are open
    assert all(t["rule"] == "review" for t in case["tasks"])
    assert {m["matter"] for m in case["members"]} == set(DEPTS)  # the members its reviews name (no guide)
    assert all(m["status"] == "pending" and m["opinion"] is None for m in case["members"])
    refused = start(client, h, intake={"accepted": False, "reason": "不属于本中心受理范围"})
    assert refused["status"] == "completed" and refused["notice"]["kind"] == "不予受理"
    assert refused["members"][0]["status"] == "refused_at_intake"
    r = client.post("/api/v1/cases", headers=h, json={"matter": "sample_bundle", "applicant": APPLICANT,
                                                      "intake": {"accepted": False}})
    assert r.status_code == 422 and "reason" in error_of(r)["fields"]

    r = client.post("/api/v1/cases", headers=h, json={"matter": "sample_bundle", "applicant": {"type": "alien"}})
    assert r.status_code == 422
    assert set(error_of(r)["fields"]) == {"applicant.name", "applicant.type"}
    r = client.post("/api/v1/cases", headers=h, json={"matter": "nope", "applicant": APPLICANT})
    assert r.status_code == 422 and "matter" in error_of(r)["fields"]
    r = client.post("/api/v1/cases", headers=h, json={"applicant": APPLICANT})
    assert r.status_code == 422 and "matter" in error_of(r)["fields"]


def test_403_for_other_groups(client):
    h = auth(client, "front")
    case = start(client, h)
    r = client.post("/api/v1/cases", headers=auth(client, "nobody"), json={"matter": "sample_bundle", "applicant": APPLICANT})
    assert r.status_code == 403 and error_of(r)["code"] == "forbidden"
    tax = next(t for t in case["tasks"] if t["group"] == "tax")
    m = auth(client, "market1")
    assert client.post(f"/api/v1/tasks/{tax['id']}/claim", headers=m).status_code == 403
    r = client.post(f"/api/v1/tasks/{tax['id']}/complete", headers=m, json={"data": {"decision": "approve",
                                                                                     "opinion": "x"}})
    assert r.status_code == 403 and error_of(r)


def test_409_claimed_by_another_and_no_longer_ready(client):
    h = auth(client, "front")
    case = start(client, h)
    m1, m2 = auth(client, "market1"), auth(client, "market2")
    t = task_of(client, m1, case["id"], "market")
    assert client.post(f"/api/v1/tasks/{t['id']}/claim", headers=m1).status_code == 200
    r = client.post(f"/api/v1/tasks/{t['id']}/claim", headers=m2)
    assert r.status_code == 409 and error_of(r)["code"] == "conflict"
    r = client.post(f"/api/v1/tasks/{t['id']}/complete", headers=m2, json={"data": {"decision": "approve", "opinion": "ok"}})
    assert r.status_code == 409
    ok = client.post(f"/api/v1/tasks/{t['id']}/complete", headers=m1, json={"data": {"decision": "approve", "opinion": "ok"}})
    assert ok.status_code == 200
    again = client.post(f"/api/v1/tasks/{t['id']}/complete", headers=m1, json={"data": {"decision": "approve", "opinion": "ok"}})
    assert again.status_code == 409 and error_of(again)
    assert client.post("/api/v1/tasks/not-a-task/claim", headers=m1).status_code == 404


def test_422_per_field_on_complete(client):
    h = auth(client, "front")
    case = start(client, h)
    m = auth(client, "market1")
    t = task_of(client, m, case["id"], "market")
    r = client.post(f"/api/v1/tasks/{t['id']}/complete", headers=m, json={"data": {"remark": 5}})
    assert r.status_code == 422
    fields = error_of(r)["fields"]
    assert {"decision", "opinion", "remark"} <= set(fields)


def test_a_bundle_walked_through_by_different_users(client):
    front = auth(client, "front")
    case = start(client, front)
    assert {t["group"] for t in case["tasks"]} == set(DEPTS)
    assert all(m["status"] == "pending" for m in case["members"])

    for group, user in DEPTS.items():
        h = auth(client, user)
        t = task_of(client, h, case["id"], group)
        assert t["form"]["required"] == ["decision", "opinion"] and t["due"] and t["case_number"] == case["number"]
        assert all(x["group"] == group for x in client.get("/api/v1/tasks", headers=h).json["items"])
        assert client.post(f"/api/v1/tasks/{t['id']}/claim", headers=h).json["assignee"] == user
        decision = "reject" if group == "police" else "approve"
        r = client.post(f"/api/v1/tasks/{t['id']}/complete", headers=h,
                        json={"data": {"decision": decision, "opinion": f"{group} 意见"}})
        assert r.status_code == 200, r.json

    case = client.get(f"/api/v1/cases/{case['id']}", headers=front).json
    outcomes = {m["matter"]: (m["status"], m["opinion"]) for m in case["members"]}
    assert outcomes["police"] == ("rejected", "police 意见")
    assert outcomes["market"] == ("approved", "market 意见")
    assert [t["group"] for t in case["tasks"]] == ["pickup"]

    pk = auth(client, "pickup1")
    t = task_of(client, pk, case["id"], "pickup")
    assert t["form"]["properties"]["method"]["oneOf"] == [{"const": "window", "title": "窗口领取"},
                                                          {"const": "express", "title": "快递送达"}]
    assert "handed" not in t["form"]["properties"] and "handed" in t["form"]["$defs"]["system"]["properties"]
    r = client.post(f"/api/v1/tasks/{t['id']}/complete", headers=pk, json={"data": {"method": "express"}})
    assert r.status_code == 422 and "tracking_no" in error_of(r)["fields"]
    r = client.post(f"/api/v1/tasks/{t['id']}/complete", headers=pk,
                    json={"data": pickup_data("express", "SF123")})
    assert r.status_code == 200 and r.json["status"] == "completed" and r.json["tasks"] == []

    events = client.get(f"/api/v1/cases/{case['id']}/events", headers=pk).json
    assert events[0]["type"] == "case_started" and events[-1]["type"] == "case_completed"
    assert sum(e["type"] == "task_completed" for e in events) == 7
    assert client.get("/api/v1/cases/99999/events", headers=pk).status_code == 404


def test_diagram_svg(client):
    pytest.importorskip("engine.model.diagram")
    h = auth(client, "front")
    case = start(client, h, applicant=dict(APPLICANT, name="<script>alert(1)</script>"))
    r = client.get(f"/api/v1/cases/{case['id']}/diagram.svg", headers=h)
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    assert b"<svg" in r.data and b"<script" not in r.data
    assert client.get("/api/v1/cases/99999/diagram.svg", headers=h).status_code == 404


# ---------------------------------------------------------------- the OpenAPI document
def test_openapi_documents_exactly_the_routes(app, client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served
    for path, ops in doc["paths"].items():
        params = set(re.findall(r"{(\w+)}", path))
        for op in ops.values():
            assert {p["name"] for p in op.get("parameters", []) if p["in"] == "path"} == params, path
            for resp in op["responses"].values():
                ref = resp.get("$ref", "")
                assert not ref or ref.split("/")[-1] in doc["components"]["responses"]


def test_catalogue_matter_goes_through_the_window_rules(client):
    h = auth(client, "front")
    if client.get("/api/v1/matters/m_food_permit", headers=h).status_code == 404:
        pytest.skip("m_food_permit is not in the catalogue")
    guide = client.get("/api/v1/matters/m_food_permit", headers=h).json
    assert guide["promised_days"] is not None and {m["id"] for m in guide["materials"]} >= {"licence", "layout"}
    data = {"address": "中山路1号", "contact_name": "王五", "food_categories": ["热食类"]}
    body = {"matter": "m_food_permit", "applicant": dict(APPLICANT, credit_code="91330206MA2YYYYY2J"), "data": data,
            "materials": ["licence", "lease", "layout", "safety_rules"]}
    r = client.post("/api/v1/cases", headers=h, json=body)
    assert r.status_code == 201 and r.json["status"] == "running"
    assert "intake" not in [t["element_id"] for t in r.json["tasks"]]
    case_id = r.json["id"]
    for user in ("market1", "market_lead1", "market_head1"):  # 承办 → 审核 → 审批, each by its own group
        hm = auth(client, user)
        tasks = [t for t in client.get("/api/v1/tasks", headers=hm).json["items"] if t["case_id"] == case_id]
        if not tasks:
            break
        assert "approve" in [c["const"] for c in tasks[0]["form"]["properties"]["decision"]["oneOf"]]
        r2 = client.post(f"/api/v1/tasks/{tasks[0]['id']}/complete", headers=hm,
                         json={"data": {"decision": "approve", "opinion": "准予"}})
        assert r2.status_code == 200, r2.json
    pk = auth(client, "pickup1")
    t = task_of(client, pk, case_id, "pickup")
    r2 = client.post(f"/api/v1/tasks/{t['id']}/complete", headers=pk, json={"data": pickup_data()})
    assert r2.status_code == 200 and r2.json["status"] == "completed", r2.json
    assert r2.json["visits"] == 2  # came once to apply, once to pick up (counted by the window rules)
    body["applicant"] = dict(APPLICANT, credit_code="91330206MA2WWWWW35")  # a new holder: nothing shared yet
    r = client.post("/api/v1/cases", headers=h, json=dict(body, materials={"licence": "provided", "lease": "deferred",
                                                                       "layout": "provided", "safety_rules": "commitment"}))
    assert r.status_code == 422 and error_of(r)["fields"]
    r = client.post("/api/v1/cases", headers=h, json=dict(body, materials=[1, 2]))
    assert r.status_code == 422 and "materials" in error_of(r)["fields"]
