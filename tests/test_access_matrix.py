"""Who may see, start and act on what: every role against every endpoint and page, with the expected status.
Decided once in the service layer (engine.runtime.access), so the API and the pages agree."""
from __future__ import annotations

import re

import pytest

from tests.conftest import APPLICANT
from web import create_app

ROLES = ["front", "market1", "tax1", "pickup1", "super1", "audit1", "admin", "citizen1", "nobody"]
READERS = {"front", "market1", "super1", "audit1", "admin"}  # took it in, holds a task, oversees


@pytest.fixture
def world(services, db_url):
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "k" * 40})
    case = services.start_case(services.actor("front"), "sample_matter", APPLICANT, {}, intake={"accepted": True})
    task = case["tasks"][0]
    assert task["group"] == "market"
    api, pages = {}, {}
    for user in ROLES:
        client = app.test_client()
        api[user] = (client, {"Authorization": "Bearer " + client.post(
            "/api/v1/auth/token", json={"username": user, "password": "pw"}).json["token"]})
        page = app.test_client()
        csrf = re.search(r'name="_csrf" value="([^"]+)"', page.get("/login").text).group(1)
        page.post("/login", data={"username": user, "password": "pw", "_csrf": csrf})
        pages[user] = page
    return app, case, task, api, pages


def expect(table: dict, user: str):
    for statuses, users in table.items():
        if user in users:
            return statuses
    return table.get("*")


@pytest.mark.parametrize("user", ROLES)
def test_reading_a_case(world, user):
    app, case, task, api, pages = world
    client, h = api[user]
    want = 200 if user in READERS else 404
    for path in (f"/api/v1/cases/{case['id']}", f"/api/v1/cases/{case['id']}/events",
                 f"/api/v1/cases/{case['id']}/diagram.svg"):
        assert client.get(path, headers=h).status_code == want, (user, path)
    for path in (f"/cases/{case['id']}", f"/cases/{case['id']}/diagram.svg", f"/frontdesk/cases/{case['id']}/receipt.pdf"):
        r = pages[user].get(path)  # PDFs and diagrams follow the case's rule
        assert r.status_code == want, (user, path, r.status_code)


@pytest.mark.parametrize("user", ROLES)
def test_starting_a_case(world, user):
    app, case, task, api, pages = world
    client, h = api[user]
    window = client.post("/api/v1/cases", headers=h, json={"matter": "sample_matter", "applicant": APPLICANT})
    assert window.status_code == (201 if user in ("front", "admin") else 403), (user, window.json)
    online = client.post("/api/v1/cases", headers=h, json={
        "matter": "m_unemp_benefit", "applicant": {"type": "person", "name": "钱七", "id_number": "330206198808080042"},
        "channel": "online", "materials": ["id_card", "separation"], "data": {
            "insured_months": 30,
            "leaving_reason": "contract_ended", "job_registered": True}})
    assert online.status_code == (201 if user == "citizen1" else 403), (user, online.json)
    internal = client.post("/api/v1/cases", headers=h, json={"matter": "rv_seal", "applicant": APPLICANT})
    assert internal.status_code == 404  # a department's review is nobody's application
    if user == "citizen1":  # an applicant sees its own case, not the window's
        mine = online.json["id"]
        assert client.get(f"/api/v1/cases/{mine}", headers=h).status_code == 200
        assert client.get(f"/api/v1/cases/{case['id']}", headers=h).status_code == 404


@pytest.mark.parametrize("user", ROLES)
def test_acting_on_a_task_and_the_role_pages(world, user):
    app, case, task, api, pages = world
    client, h = api[user]
    r = client.post(f"/api/v1/tasks/{task['id']}/claim", headers=h)
    assert r.status_code == (200 if user in ("market1", "admin") else 403), (user, r.json)
    page = pages[user]
    assert page.get("/frontdesk/").status_code == (200 if user in ("front", "admin") else 403)
    assert page.get("/audit/").status_code == (200 if user in ("audit1", "admin") else 403)
    assert page.get(f"/audit/cases/{case['id']}").status_code == (200 if user in ("audit1", "admin") else 403)
    assert page.get("/inbox/").status_code == 200 and client.get("/api/v1/tasks", headers=h).status_code == 200
    mine = {t["id"] for t in client.get("/api/v1/tasks", headers=h).json["items"]}
    assert (task["id"] in mine) == (user in ("market1", "admin"))  # its group's, or claimed by the admin above
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=h,
                       json={"data": {"decision": "approve", "opinion": "同意"}})
    assert done.status_code == (200 if user in ("market1", "admin") else 403), (user, done.json)


def test_auditors_read_everything_and_change_nothing(world):
    app, case, task, api, pages = world
    client, h = api["audit1"]
    assert client.get(f"/api/v1/cases/{case['id']}/events", headers=h).status_code == 200
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", headers=h,
                       json={"data": {"decision": "approve", "opinion": "x"}}).status_code == 403
    assert client.post("/api/v1/cases", headers=h, json={"matter": "sample_matter",
                                                          "applicant": APPLICANT}).status_code == 403
