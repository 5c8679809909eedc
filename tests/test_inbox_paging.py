"""Paged inboxes: one query a page, a cursor that neither skips nor repeats, the newest tasks reachable —
through the service layer, the API and the inbox page."""
from __future__ import annotations

import re

import pytest

from engine.errors import Invalid
from tests.conftest import APPLICANT
from web import create_app


def start(services, n: int) -> list[int]:
    front = services.actor("front")
    return [services.start_case(front, "sample_matter", APPLICANT, {}, intake={"accepted": True})["id"]
            for _ in range(n)]


def test_pages_cover_every_task_once_in_order(services):
    ids = start(services, 7)
    market = services.actor("market1")
    seen, cursor = [], None
    while True:
        page = services.inbox(market, limit=3, cursor=cursor)
        assert len(page.items) <= 3
        seen += [t["case_id"] for t in page.items]
        cursor = page.next
        if cursor is None:
            break
    assert seen == ids  # oldest first, each once
    newest = services.inbox(market, desc=True, limit=2).items
    assert [t["case_id"] for t in newest] == ids[::-1][:2]  # the newest are reachable at once
    by_number = services.inbox(market, sort="number", desc=True, limit=50).items
    assert [t["case_number"] for t in by_number] == sorted((t["case_number"] for t in by_number), reverse=True)
    assert services.inbox(services.actor("tax1")).items == []  # not tax's tasks


def test_due_sort_pages_through_tasks_with_and_without_due_dates(services):
    start(services, 4)
    front = services.actor("front")  # the sample bundle's intake has no due date; its reviews have one
    case = services.start_case(front, "sample_bundle", APPLICANT, {})
    assert case["tasks"][0]["due"] is None
    admin = services.actor("admin")
    seen, cursor = [], None
    while True:
        page = services.inbox(admin, sort="due", limit=2, cursor=cursor)
        seen += [t["id"] for t in page.items]
        if page.next is None:
            break
        cursor = page.next
    assert len(seen) == len(set(seen))


def test_bad_paging_arguments_are_refused(services):
    market = services.actor("market1")
    for kwargs, field in (({"cursor": "garbage"}, "cursor"), ({"limit": 0}, "limit"), ({"limit": 10_000}, "limit"),
                          ({"sort": "password"}, "sort")):
        with pytest.raises(Invalid) as err:
            services.inbox(market, **kwargs)
        assert field in err.value.fields


def test_api_and_page_are_paged(services, db_url):
    start(services, 5)
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "t"})
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "market1", "password": "pw"}).json["token"]
    h = {"Authorization": f"Bearer {token}"}
    first = client.get("/api/v1/tasks?limit=2", headers=h).json
    assert len(first["items"]) == 2 and first["next"] and first["items"][0]["form"]["type"] == "object"
    second = client.get(f"/api/v1/tasks?limit=2&cursor={first['next']}", headers=h).json
    assert not {t["id"] for t in first["items"]} & {t["id"] for t in second["items"]}
    r = client.get("/api/v1/tasks?cursor=%%%", headers=h)
    assert r.status_code == 422 and "cursor" in r.json["error"]["fields"]
    assert client.get("/api/v1/tasks?limit=x", headers=h).status_code == 422

    page = app.test_client()
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page.get("/login").text).group(1)
    page.post("/login", data={"username": "market1", "password": "pw", "_csrf": csrf})
    html = page.get("/inbox/").text
    assert html.count("<tr data-task=") == 5 and 'id="next-page"' not in html
