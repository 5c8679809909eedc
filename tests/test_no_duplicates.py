"""No duplicate cases: the API honours Idempotency-Key; the front desk's accept and refuse follow
POST/redirect/GET with a one-time form token, so a reload or Back + 受理 never starts a second case."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from engine.db import Case
from tests.conftest import APPLICANT
from web import create_app


def count(services) -> int:
    with services.uow() as s:
        return s.scalar(select(func.count()).select_from(Case))


def app_for(db_url):
    return create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "t" * 40})


def test_idempotency_key_gives_the_same_case_for_the_same_request(services, db_url):
    client = app_for(db_url).test_client()
    token = client.post("/api/v1/auth/token", json={"username": "front", "password": "pw"}).json["token"]
    h = {"Authorization": f"Bearer {token}", "Idempotency-Key": "intake-2026-0001"}
    body = {"matter": "sample_matter", "applicant": APPLICANT, "data": {}}
    first = client.post("/api/v1/cases", headers=h, json=body)
    again = client.post("/api/v1/cases", headers=h, json=body)
    assert first.status_code == 201 and again.status_code == 200 and again.json["id"] == first.json["id"]
    other = client.post("/api/v1/cases", headers=h, json=dict(body, data={"x": 1}))
    assert other.status_code == 409 and other.json["error"]["code"] == "conflict"
    assert count(services) == 1
    bad = client.post("/api/v1/cases", headers=dict(h, **{"Idempotency-Key": "k2"}),
                      json=dict(body, applicant={"type": "robot"}))
    assert bad.status_code == 422  # a request that fails records no key ...
    ok = client.post("/api/v1/cases", headers=dict(h, **{"Idempotency-Key": "k2"}), json=body)
    assert ok.status_code == 201 and count(services) == 2  # ... so the corrected one starts its case
    plain = {"Authorization": h["Authorization"]}
    client.post("/api/v1/cases", headers=plain, json=body)
    client.post("/api/v1/cases", headers=plain, json=body)
    assert count(services) == 4  # without a key, every request is a new application
    assert client.post("/api/v1/cases", headers=dict(plain, **{"Idempotency-Key": "x" * 201}),
                       json=body).status_code == 422


def test_front_desk_reload_and_back_never_start_a_second_case(services, db_url):
    client = app_for(db_url).test_client()
    login = client.get("/login").text
    client.post("/login", data={"username": "front", "password": "pw",
                                "_csrf": re.search(r'name="_csrf" value="([^"]+)"', login).group(1)})
    page = client.get("/frontdesk/matters/sample_bundle").text
    form = {"_csrf": re.search(r'name="_csrf" value="([^"]+)"', page).group(1),
            "form_token": re.search(r'name="form_token" value="([^"]+)"', page).group(1),
            "a_type": "company", "a_name": "示例科技有限公司", "a_id": APPLICANT["credit_code"], "a_phone": "13800000000",
            "decision": "accept"}
    r = client.post("/frontdesk/matters/sample_bundle", data=form)
    assert r.status_code == 303 and "/done" in r.location
    done = client.get(r.location)
    assert done.status_code == 200 and 'id="case-number"' in done.text
    assert client.get(r.location).status_code == 200  # reloading the result page
    again = client.post("/frontdesk/matters/sample_bundle", data=form)  # Back + 受理
    assert again.status_code == 303 and again.location == r.location
    assert count(services) == 1
    fresh = client.get("/frontdesk/matters/sample_bundle").text  # a new page is a new application
    assert re.search(r'name="form_token" value="([^"]+)"', fresh).group(1) != form["form_token"]
