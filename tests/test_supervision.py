"""电子监察 for supervisors: figures after a known history, the lists, 督办, CSV, the API, permissions, /metrics."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import inspect

from engine.db import Base
from engine.runtime.timers import fire_due
from tests.test_time_limits import at, food
from tests.test_timers import Clock
from tests.walk import COMPANY, FIELDS, HOUSE, PERSON, Hall, add_hall_users, fit
from web import create_app


@pytest.fixture
def history(services, db_url):
    """Four cases from Monday Nov 2 2026: one done on time at one visit, one deemed approved (late), one refused,
    one left overdue in review; then the app, on the same clock."""
    add_hall_users(services)
    clock = services.clock = Clock(at(2))
    hall = Hall(services)
    done = hall.apply("m_food_permit", COMPANY, food(), provided=hall.full("m_food_permit"))
    done = hall.decide_all(done["id"])
    clock.at = at(3)
    hall.pickup(done, "express", "SF1")
    water = hall.apply("m_water_transfer", PERSON, fit("f_water_transfer", HOUSE), provided=hall.full("m_water_transfer"))
    hall.apply("m_signboard", COMPANY, fit("f_signboard", dict(FIELDS, sign_text="x")), accepted=False,
               reason="不属于本中心受理范围")
    late = hall.apply("m_signboard", COMPANY, fit("f_signboard", dict(FIELDS, sign_text="梅山")),
                      provided=hall.full("m_signboard"), deferred=())
    clock.at = at(12)
    fire_due(services)  # the water review is deemed approved
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})
    app.extensions["onewindow"].clock = clock
    return {"app": app, "done": done, "water": water, "late": late, "clock": clock, "services": services}


def login(app, user):
    c = app.test_client()
    token = re.search(r'name="_csrf" value="([^"]+)"', c.get("/login").text).group(1)
    c.post("/login", data={"username": user, "password": "pw", "_csrf": token})
    return c


def bearer(app, user):
    r = app.test_client().post("/api/v1/auth/token", json={"username": user, "password": "pw"})
    return {"Authorization": f"Bearer {r.json['token']}"}


def test_the_figures_after_a_known_history(history):
    c = history["app"].test_client()
    r = c.get("/api/v1/stats?from=2026-11-01&to=2026-11-30", headers=bearer(history["app"], "super1"))
    assert r.status_code == 200
    s = r.json["summary"]
    assert (s["cases"], s["accepted"], s["refused"], s["done"], s["open"]) == (4, 3, 1, 1, 2)
    assert s["on_time_rate"] == 1.0 and s["one_visit_rate"] == 1.0 and s["visits_per_case"] == 1.0
    assert s["deemed"] == 1 and s["overdue"] == 2 and s["warning"] == 0 and s["immediate_share"] == 0.0
    matters = {m["matter"]: m for m in r.json["by_matter"]}
    assert matters["m_food_permit"]["avg_used_workdays"] == 1 and matters["m_food_permit"]["promised_days"] == 5
    assert matters["m_food_permit"]["statutory_days"] == 20 and matters["m_signboard"]["cases"] == 2
    overdue = {x["number"] for x in r.json["lists"]["overdue"]}
    assert overdue == {history["late"]["number"], history["water"]["number"]}  # the water case waits at pickup
    late = next(x for x in r.json["lists"]["overdue"] if x["number"] == history["late"]["number"])
    assert late["waiting_at"] == ["urban"] and late["hours_over"] > 0
    assert {c["channel"]: c["cases"] for c in r.json["by_channel"]} == {"window": 4}
    assert {d["day"]: d["cases"] for d in r.json["by_day"]} == {"2026-11-02": 1, "2026-11-03": 3}
    waits = {(w["process_id"], w["element_id"]) for w in r.json["waits"]}
    assert ("rv_signboard", "review") in waits
    only = c.get("/api/v1/stats?from=2026-11-01&to=2026-11-30&department=urban",
                 headers=bearer(history["app"], "super1")).json
    assert only["summary"]["cases"] == 2 and {m["matter"] for m in only["by_matter"]} == {"m_signboard"}


def test_bad_filters_answer_422_naming_the_field_and_others_may_not_look(history):
    app = history["app"]
    c = app.test_client()
    r = c.get("/api/v1/stats?from=2026-02-30&department=nowhere", headers=bearer(app, "super1"))
    assert r.status_code == 422 and set(r.json["error"]["fields"]) == {"from", "department"}
    r = c.get("/api/v1/stats?from=2026-11-20&to=2026-11-01", headers=bearer(app, "super1"))
    assert r.status_code == 422 and set(r.json["error"]["fields"]) == {"from"}
    assert c.get("/api/v1/stats", headers=bearer(app, "market1")).status_code == 403
    assert c.get("/api/v1/stats").status_code == 401
    assert login(app, "market1").get("/supervisor/").status_code == 403


def test_the_dashboard_lists_and_drills_down_and_urges(history):
    app = history["app"]
    c = login(app, "super1")
    assert c.get("/").headers["Location"].endswith("/supervisor/")  # the supervisor lands on the dashboard
    page = c.get("/supervisor/?from=2026-11-01&to=2026-11-30").text
    assert page.count("<svg") >= 5 and 'id="list-overdue"' in page and history["late"]["number"] in page
    assert "cdn" not in page.lower() and "<script" not in page.lower()
    case_id = history["late"]["id"]
    detail = c.get(f"/supervisor/cases/{case_id}")
    assert detail.status_code == 200 and "tl-overdue" in detail.text
    token = re.search(r'name="_csrf" value="([^"]+)"', detail.text).group(1)
    r = c.post(f"/supervisor/cases/{case_id}/urge", data={"_csrf": token, "text": "请今日办结"})
    assert r.status_code == 302
    inbox = login(app, "urban1")
    assert "请今日办结" in inbox.get("/notices/").text
    api = app.test_client().get("/api/v1/notices", headers=bearer(app, "urban1")).json
    assert api[0]["kind"] == "urge"
    r = app.test_client().post(f"/api/v1/cases/{case_id}/urge", json={"text": 5}, headers=bearer(app, "super1"))
    assert r.status_code == 422 and "text" in r.json["error"]["fields"]
    r = app.test_client().post(f"/api/v1/cases/{history['done']['id']}/urge", json={"text": "x"},
                               headers=bearer(app, "super1"))
    assert r.status_code == 409  # a closed case


def test_csv_export(history):
    c = login(history["app"], "super1")
    r = c.get("/supervisor/export.csv?table=matters&from=2026-11-01&to=2026-11-30")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["matter", "name", "department", "cases"]
    assert {row[0] for row in rows[1:]} == {"m_food_permit", "m_water_transfer", "m_signboard"}
    assert c.get("/supervisor/export.csv?table=nothing").status_code == 422
    overdue = c.get("/supervisor/export.csv?table=overdue").get_data(as_text=True)
    assert history["late"]["number"] in overdue


def test_the_inbox_puts_overdue_work_first_highlighted(history):
    text = login(history["app"], "urban1").get("/inbox/").text
    assert 'data-timeliness="overdue"' in text and "tl-overdue" in text


def test_the_case_api_has_due_dates_and_timeliness(history):
    app = history["app"]
    r = app.test_client().get(f"/api/v1/cases/{history['late']['id']}", headers=bearer(app, "front"))
    body = r.json
    assert body["timeliness"] == "overdue" and body["due"] == "2026-11-06T15:59:59+00:00"
    assert body["statutory_due"] == "2026-12-01T15:59:59+00:00"
    assert body["tasks"][0]["timeliness"] == "overdue"
    done = app.test_client().get(f"/api/v1/cases/{history['done']['id']}", headers=bearer(app, "front")).json
    assert done["timeliness"] == "done"


def test_metrics(history):
    app = history["app"]
    c = app.test_client()
    c.get("/login")
    text = c.get("/metrics").text
    assert 'onewindow_open_cases{state="overdue"} 2.0' in text
    assert 'onewindow_request_seconds_count{endpoint="auth.login",method="GET",status="200"}' in text
    assert "onewindow_timer_lag_seconds" in text and "onewindow_events_total" in text


def test_metrics_are_for_scrapers_only(history, monkeypatch):
    app = history["app"]
    c = app.test_client()
    remote = {"REMOTE_ADDR": "203.0.113.7"}
    assert c.get("/metrics", environ_base=remote).status_code == 403  # no token configured: this machine only
    assert c.get("/metrics").status_code == 200
    monkeypatch.setenv("ONEWINDOW_METRICS_TOKEN", "s3cret-scrape")
    assert c.get("/metrics").status_code == 401  # with a token, loopback is no excuse
    assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}, environ_base=remote).status_code == 401
    ok = c.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"}, environ_base=remote)
    assert ok.status_code == 200 and "onewindow_open_cases" in ok.text


def test_the_migrations_build_the_tables_the_models_describe(tmp_path):
    from engine.db import make_engine
    from engine.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    insp = inspect(make_engine(url))
    for table in ("calendar_years", "calendar_days", "case_clocks", "task_clocks", "notices"):
        have = {c["name"] for c in insp.get_columns(table)}
        assert have == {c.name for c in Base.metadata.tables[table].columns}, table
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from calendar_years").scalar() >= 23  # seeded
