"""Hand-made hostile requests: each answers a clear 4xx (never 500), and none leaves a case behind."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine.db import Case
from tests.conftest import APPLICANT
from web import create_app

CASE = {"matter": "sample_matter", "applicant": APPLICANT}


@pytest.fixture
def api(services, db_url):
    client = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "k" * 40}).test_client()
    token = client.post("/api/v1/auth/token", json={"username": "front", "password": "pw"}).json["token"]
    return client, {"Authorization": f"Bearer {token}"}


def raw(body: str) -> dict:
    return {"data": body.encode("utf-8", "surrogatepass"), "content_type": "application/json"}


@pytest.mark.parametrize("path", ["/api/v1/cases/2147483648", "/api/v1/cases/99999999999999999999",
                                  "/api/v1/cases/0/events", "/api/v1/cases/9223372036854775808/diagram.svg"])
def test_ids_out_of_range_are_not_found(api, path):
    client, h = api
    r = client.get(path, headers=h)
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


@pytest.mark.parametrize("body, status", [
    (json.dumps(dict(CASE, applicant=None)), 422), (json.dumps(dict(CASE, applicant="张三")), 422),
    (json.dumps(dict(CASE, applicant=["a"])), 422), (json.dumps(dict(CASE, channel="w" * 500)), 422),
    (json.dumps(dict(CASE, applicant=dict(APPLICANT, blob="x" * 100_000))), 422),
    (json.dumps(dict(CASE, data={"a": "x\u0000y"})), 422), ('{"matter": "sample_matter", "applicant": {"name": "\\ud800"}}', 422),
    ("[" * 100_000 + "]" * 100_000, 422), ('{"matter": "sample_matter", "applicant": {"name": "甲"}, "data": NaN}', 422),
    (json.dumps(dict(CASE, materials="abc")), 422), (json.dumps(dict(CASE, intake={"accepted": "yes"})), 422),
    (json.dumps(dict(CASE, matter="rv_seal")), 404), (json.dumps(dict(CASE, unknown=1)), 422), ("not json", 422),
])
def test_malformed_applications_are_refused_and_leave_no_case(api, services, body, status):
    client, h = api
    r = client.post("/api/v1/cases", headers=h, **raw(body))
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    assert r.json["error"]["code"] and b"Traceback" not in r.data
    with services.uow() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_corrections_must_be_a_list_not_a_string(api, services):
    client, h = api
    case = client.post("/api/v1/cases", headers=h, json={"matter": "m_signboard", "applicant": dict(
        APPLICANT, credit_code="91330206MA2H00001K"), "data": {"address": "乙", "contact_name": "丙",
        "sign_text": "丁"}, "materials": ["licence", "sign_design"]})
    assert case.status_code == 201, case.json
    services.add_user("urban1", "pw", ["urban"])
    token = client.post("/api/v1/auth/token", json={"username": "urban1", "password": "pw"}).json["token"]
    review = case.json["tasks"][0]
    r = client.post(f"/api/v1/tasks/{review['id']}/complete", headers={"Authorization": f"Bearer {token}"},
                    json={"data": {"decision": "correct", "opinion": "补正", "corrections": "abc"}})
    assert r.status_code == 422 and "corrections" in r.json["error"]["fields"]


def test_internal_processes_are_not_in_the_catalogue(api):
    client, h = api
    codes = {m["code"] for m in client.get("/api/v1/matters", headers=h).json}
    assert codes and not {c for c in codes if c.startswith(("rv_", "review_")) or c.endswith("_dispatch")}
    assert client.get("/api/v1/matters/rv_seal", headers=h).status_code == 404
