"""Applicant identities (issue 14): sign up, confirm the mobile with the code from the outbox, then sign in."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from web import create_app
from web.cli import cli

PERSON = {"type": "person", "name": "赵六", "id_number": "330206198505050022", "phone": "13912345678",
          "password": "secret123"}
COMPANY = {"type": "company", "name": "梅山味道餐饮有限公司", "credit_code": "91330206MA2H00001K",
           "legal_representative": "李四", "phone": "13812345678", "password": "secret123"}


@pytest.fixture
def client(services, db_url):
    return create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"}).test_client()


def code_for(cli_env, phone: str) -> str:
    """The confirmation code as the demo reads it: `onewindow outbox list --to PHONE`."""
    res = CliRunner().invoke(cli, ["outbox", "list", "--to", phone, "--json"], env=cli_env)
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert rows and rows[0]["kind"] == "sms" and rows[0]["target"] == phone
    return rows[0]["payload"]["code"]


def sign_up(client, cli_env, body=PERSON) -> dict:
    """Sign up and confirm; returns API headers for the new applicant."""
    r = client.post("/api/v1/applicants", json=body)
    assert r.status_code == 201, r.json
    r = client.post("/api/v1/applicants/verify", json={"phone": body["phone"], "code": code_for(cli_env, body["phone"])})
    assert r.status_code == 200 and r.json["status"] == "active", r.json
    r = client.post("/api/v1/auth/token", json={"username": body["phone"], "password": body["password"]})
    assert r.status_code == 200, r.json
    return {"Authorization": f"Bearer {r.json['token']}"}


def test_sign_up_confirm_and_sign_in(client, cli_env, services):
    r = client.post("/api/v1/applicants", json=PERSON)
    assert r.status_code == 201, r.json
    assert r.json["status"] == "pending" and r.json["id_number"] == "3302**********0022"
    token = {"username": PERSON["phone"], "password": PERSON["password"]}
    assert client.post("/api/v1/auth/token", json=token).status_code == 401  # not confirmed yet
    code = code_for(cli_env, PERSON["phone"])
    assert len(code) == 6 and code.isdigit()
    wrong = "000000" if code != "000000" else "111111"
    r = client.post("/api/v1/applicants/verify", json={"phone": PERSON["phone"], "code": wrong})
    assert r.status_code == 422 and "code" in r.json["error"]["fields"]
    r = client.post("/api/v1/applicants/verify", json={"phone": PERSON["phone"], "code": code})
    assert r.status_code == 200 and r.json["status"] == "active"
    r = client.post("/api/v1/auth/token", json=token)
    assert r.status_code == 200
    assert "applicant" in services.actor(PERSON["phone"]).groups
    # confirmed once: the code does not work twice
    assert client.post("/api/v1/applicants/verify", json={"phone": PERSON["phone"], "code": code}).status_code == 422


def test_a_business_signs_up(client, cli_env):
    h = sign_up(client, cli_env, COMPANY)
    assert client.get("/api/v1/matters", headers=h).status_code == 200


def test_duplicate_phone_is_409_and_nothing_is_half_saved(client, cli_env):
    assert client.post("/api/v1/applicants", json=PERSON).status_code == 201
    r = client.post("/api/v1/applicants", json=dict(PERSON, name="另一人"))
    assert r.status_code == 409
    assert client.post("/api/v1/applicants", json=dict(PERSON, phone="front")).status_code == 422
    res = CliRunner().invoke(cli, ["outbox", "list", "--to", PERSON["phone"], "--json"], env=cli_env)
    assert len(json.loads(res.output)) == 1  # one code, for the one account


@pytest.mark.parametrize("field,value", [("id_number", "330206198505050023"), ("id_number", "12345"),
                                         ("phone", "12345678901"), ("password", "short1"),
                                         ("password", "onlyletters"), ("type", "robot")])
def test_identifiers_are_checked(client, field, value):
    r = client.post("/api/v1/applicants", json=dict(PERSON, **{field: value}))
    assert r.status_code == 422 and field in r.json["error"]["fields"], r.json


def test_a_company_needs_a_valid_credit_code(client):
    r = client.post("/api/v1/applicants", json=dict(COMPANY, credit_code="91330206MA2H00001A"))
    assert r.status_code == 422 and "credit_code" in r.json["error"]["fields"]
    body = {k: v for k, v in COMPANY.items() if k != "credit_code"}
    assert client.post("/api/v1/applicants", json=body).status_code == 422


def test_wrong_codes_are_limited(client, cli_env):
    assert client.post("/api/v1/applicants", json=PERSON).status_code == 201
    code = code_for(cli_env, PERSON["phone"])
    wrong = [c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c != code][:5]
    for c in wrong:
        assert client.post("/api/v1/applicants/verify", json={"phone": PERSON["phone"], "code": c}).status_code == 422
    r = client.post("/api/v1/applicants/verify", json={"phone": PERSON["phone"], "code": code})
    assert r.status_code == 429  # void now, even with the right code


def test_sign_ups_are_throttled_per_address(client):
    for i in range(10):
        r = client.post("/api/v1/applicants", json=dict(PERSON, phone=f"1391234{i:04d}"))
        assert r.status_code == 201, r.json
    r = client.post("/api/v1/applicants", json=dict(PERSON, phone="13912349999"))
    assert r.status_code == 429 and "Retry-After" in r.headers
