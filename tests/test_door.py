"""What cannot be stored or replayed is refused at the door (422 naming the field) and leaves no case behind;
`audit verify` reports a case it cannot check instead of stopping."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from engine.db import Case
from engine.errors import Invalid
from engine.runtime.inputs import check_value
from tests.conftest import APPLICANT
from web import create_app
from web.cli import cli


def deep(n: int) -> dict:
    node: dict = {"x": 1}
    for _ in range(n):
        node = {"a": node}
    return node


@pytest.mark.parametrize("value, field", [
    ({"n": float("nan")}, "data.n"), ({"n": float("inf")}, "data.n"), ({"s": "a\x00b"}, "data.s"),
    ({"s": "\ud800"}, "data.s"), ({"s": "x" * 30_000}, "data.s"), ({"l": [1] * 5000}, "data.l"),
    ({"materials": {"a": "provided"}}, "data.materials"), ({"decisions": {}}, "data.decisions"),
])
def test_values_the_platform_cannot_keep_are_refused_naming_the_field(value, field):
    with pytest.raises(Invalid) as err:
        check_value(value, "data", {"materials", "decisions"})
    assert field in err.value.fields


def test_deep_nesting_is_refused():
    with pytest.raises(Invalid) as err:
        check_value(deep(40), "applicant")
    assert any(k.startswith("applicant.a.a") for k in err.value.fields)
    check_value(deep(5), "applicant")  # forms nest a few levels: fine


@pytest.fixture
def client(services, db_url):
    return create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "t"}).test_client()


def token(client, user="front"):
    r = client.post("/api/v1/auth/token", json={"username": user, "password": "pw"})
    return {"Authorization": f"Bearer {r.json['token']}", "Content-Type": "application/json"}


BAD_BODIES = [
    ('{"matter": "sample_matter", "applicant": %s, "data": {"x": NaN}}', "data.x"),
    ('{"matter": "sample_matter", "applicant": %s, "data": {"x": Infinity}}', "data.x"),
    ('{"matter": "sample_matter", "applicant": %s, "data": {"s": "a\\u0000b"}}', "data.s"),
    ('{"matter": "sample_matter", "applicant": %s, "data": {"s": "\\ud800"}}', "data.s"),
    ('{"matter": "sample_matter", "applicant": %s, "data": {"materials": ["x"]}}', "data.materials"),
    ('{"matter": "m_food_permit", "applicant": %s, "data": {"owed": ["lease"]}}', "data.owed"),
]


@pytest.mark.parametrize("body, field", BAD_BODIES)
def test_bad_applications_answer_422_and_leave_no_case(client, services, body, field):
    r = client.post("/api/v1/cases", headers=token(client), data=body % json.dumps(APPLICANT))
    assert r.status_code == 422, r.get_data(as_text=True)
    assert field in r.json["error"]["fields"] and b"Traceback" not in r.data
    with services.uow() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_a_900_deep_applicant_answers_422_and_leaves_no_case(client, services):
    applicant = dict(APPLICANT, extra=deep(900))
    r = client.post("/api/v1/cases", headers=token(client), data=json.dumps({"matter": "sample_matter",
                                                                              "applicant": applicant}))
    assert r.status_code == 422 and any(k.startswith("applicant.extra") for k in r.json["error"]["fields"])
    with services.uow() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_bad_task_data_answers_422_and_changes_nothing(client, services):
    h = token(client)
    case = client.post("/api/v1/cases", headers=h, json={"matter": "sample_bundle", "applicant": APPLICANT}).json
    t = next(t for t in case["tasks"] if t["group"] == "market")
    before = services.events(case["id"])
    m = token(client, "market1")
    for body, field in (('{"data": {"decision": "approve", "opinion": NaN}}', "data.opinion"),
                        ('{"data": {"decision": "approve", "opinion": "ok", "decisions": {}}}', "data.decisions")):
        r = client.post(f"/api/v1/tasks/{t['id']}/complete", headers=m, data=body)
        assert r.status_code == 422 and field in r.json["error"]["fields"]
    assert services.events(case["id"]) == before


def test_verify_reports_a_case_it_cannot_check_and_goes_on(services, db_url, monkeypatch):
    front = services.actor("front")
    broken = services.start_case(front, "sample_matter", APPLICANT, {}, intake={"accepted": True})
    fine = services.start_case(front, "sample_matter", APPLICANT, {}, intake={"accepted": True})
    with services.uow() as s:  # a stored task row that no longer parses (e.g. a damaged disk page)
        s.execute(text("UPDATE task_rows SET body = 'NaN{' WHERE case_id = :c"), {"c": broken["id"]})
    res = CliRunner().invoke(cli, ["audit", "verify", "--all"], env={"ONEWINDOW_DATABASE_URL": db_url})
    assert res.exit_code == 1
    assert "2 case(s) verified: 1 ok, 1 failed" in res.output and broken["number"] in res.output
    assert fine["number"] not in res.output and "Traceback" not in res.output
    import engine.audit.verify as verify

    def exploding(*args, **kwargs):  # whatever goes wrong inside a replay, the run reports it and goes on
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(verify, "replay", exploding)
    res = CliRunner().invoke(cli, ["audit", "verify", "--all"], env={"ONEWINDOW_DATABASE_URL": db_url})
    assert res.exit_code == 1 and "2 case(s) verified: 0 ok, 2 failed" in res.output
    assert "error: case: could not be verified: RecursionError" in res.output and "Traceback" not in res.output
