"""预约 (issue 14): an applicant books a window slot of a hall on a working day; holidays, past slots and slots too
far ahead are 422, a full slot 409, at most N open bookings; cancel; nobody sees or cancels another's booking; the
front desk sees the day's bookings of its own hall only and marks one arrived — through the API and the pages."""
from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from engine.clock import local_date
from engine.runtime import bookings
from tests.test_applicants import COMPANY, PERSON, sign_up
from tests.test_catalogue_walk import Clerks, verify_all
from web import create_app
from web.cli import cli


@pytest.fixture
def desk(services, db_url):
    from engine.bootstrap import seed_org

    seed_org(services)
    for name, groups, hall in (("front_m", ["front_desk"], "main"), ("front_e", ["front_desk"], "east"),
                               ("pickup_m", ["pickup"], "main")):
        services.add_user(name, "pw", groups, name, hall)
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret",
                             "VALIDATE_RESPONSES": True})
    return Clerks(app.test_client())


def days(services, workday: bool, n: int = 1, start: int = 1) -> list:
    """The next `n` working (or non-working) days from tomorrow, in the calendar of this database."""
    with services.read() as s:
        cal = services.calendar.get(s)
    today, out, d = local_date(), [], start
    while len(out) < n and d < 40:
        day = today + timedelta(days=d)
        if cal.covers(day) and cal.is_workday(day) == workday:
            out.append(day.isoformat())
        d += 1
    assert len(out) == n, "the calendar must cover the next weeks"
    return out


def book(clerks, h, **body):
    return clerks.client.post("/api/v1/me/bookings", headers=h, json=body)


def test_booking_rules(desk, services, cli_env, monkeypatch):
    me = sign_up(desk.client, cli_env, PERSON)
    other = sign_up(desk.client, cli_env, COMPANY)
    (day,) = days(services, True)
    (holiday,) = days(services, False)
    slots = desk.client.get(f"/api/v1/booking-slots?hall=main&date={day}", headers=me).json
    assert [x["slot"] for x in slots["slots"]][:2] == ["09:00", "09:30"] and slots["slots"][-1]["slot"] == "16:30"
    assert slots["capacity"] == 3 and all(x["free"] == 3 for x in slots["slots"])
    r = book(desk, me, hall="main", date=holiday, slot="09:00")
    assert r.status_code == 422 and "date" in r.json["error"]["fields"]  # weekend or holiday
    assert desk.client.get(f"/api/v1/booking-slots?hall=main&date={holiday}", headers=me).status_code == 422
    yesterday = (local_date() - timedelta(days=1)).isoformat()
    r = book(desk, me, hall="main", date=yesterday, slot="09:00")
    assert r.status_code == 422 and "slot" in r.json["error"]["fields"]  # in the past
    far = (local_date() + timedelta(days=bookings.HORIZON_DAYS + 5)).isoformat()
    assert book(desk, me, hall="main", date=far, slot="09:00").status_code == 422
    for bad in ({"hall": "nowhere", "date": day, "slot": "09:00"}, {"hall": "main", "date": day, "slot": "12:00"},
                {"hall": "main", "date": "2026-13-01", "slot": "09:00"},
                {"hall": "main", "date": day, "slot": "09:00", "matter": "no_such_matter"},
                {"hall": "main", "date": day, "slot": "09:00", "x": 1}):
        r = book(desk, me, **bad)
        assert r.status_code == 422, (bad, r.json)
    # capacity per hall: one place, a second booking of the slot is 409
    r = CliRunner().invoke(cli, ["org", "booking-capacity", "main", "0"], env=cli_env)
    assert r.exit_code != 0
    r = CliRunner().invoke(cli, ["org", "booking-capacity", "main", "1"], env=cli_env)
    assert r.exit_code == 0 and "main" in r.output, r.output
    mine = book(desk, me, hall="main", date=day, slot="09:00", matter="m_id_card_renew")
    assert mine.status_code == 201, mine.json
    mine = mine.json
    assert mine["number"].startswith("YY" + day.replace("-", "")) and mine["status"] == "booked"
    r = book(desk, other, hall="main", date=day, slot="09:00")
    assert r.status_code == 409
    assert desk.client.get(f"/api/v1/booking-slots?hall=main&date={day}", headers=me).json["slots"][0]["free"] == 0
    # another applicant neither sees nor cancels mine
    assert [b["id"] for b in desk.client.get("/api/v1/me/bookings", headers=other).json] == []
    assert desk.client.delete(f"/api/v1/me/bookings/{mine['id']}", headers=other).status_code == 404
    assert desk.client.delete("/api/v1/me/bookings/abc", headers=me).status_code == 404
    # at most N open bookings
    monkeypatch.setenv("ONEWINDOW_BOOKING_MAX_OPEN", "2")
    assert book(desk, me, hall="main", date=day, slot="09:30").status_code == 201
    r = book(desk, me, hall="main", date=day, slot="10:00")
    assert r.status_code == 409 and "未到期的预约" in r.json["error"]["message"], r.json
    assert len(desk.client.get("/api/v1/me/bookings", headers=me).json) == 2  # nothing half-saved
    # cancel: the place is free again for someone else; cancelling twice is 409
    r = desk.client.delete(f"/api/v1/me/bookings/{mine['id']}", headers=me)
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert desk.client.delete(f"/api/v1/me/bookings/{mine['id']}", headers=me).status_code == 409
    assert book(desk, other, hall="main", date=day, slot="09:00").status_code == 201
    assert book(desk, me, hall="main", date=day, slot="10:00").status_code == 201  # one open again after cancelling
    # staff have no /me/bookings; applicants no desk list
    assert desk.client.get("/api/v1/me/bookings", headers=desk.h("front_m")).status_code == 403
    assert desk.client.get("/api/v1/bookings", headers=me).status_code == 403


def test_the_front_desk_sees_its_halls_bookings_and_marks_arrival(desk, services, cli_env):
    me = sign_up(desk.client, cli_env, PERSON)
    other = sign_up(desk.client, cli_env, COMPANY)
    (day,) = days(services, True)
    at_main = book(desk, me, hall="main", date=day, slot="13:30").json
    at_east = book(desk, other, hall="east", date=day, slot="13:30").json
    seen = desk.get(f"/api/v1/bookings?date={day}", user="front_m")
    assert seen["hall"] == "main" and [b["number"] for b in seen["items"]] == [at_main["number"]]
    assert seen["items"][0]["applicant"] == {"name": PERSON["name"], "phone": "1391***5678"}
    east = desk.get(f"/api/v1/bookings?date={day}", user="front_e")
    assert [b["number"] for b in east["items"]] == [at_east["number"]]
    assert desk.client.get("/api/v1/bookings?date=x", headers=desk.h("front_m")).status_code == 422
    assert desk.client.get(f"/api/v1/bookings?date={day}", headers=desk.h("pickup_m")).status_code == 403
    # another hall's booking is not found; arrival once
    r = desk.client.post(f"/api/v1/bookings/{at_main['id']}/arrive", headers=desk.h("front_e"))
    assert r.status_code == 404
    r = desk.client.post(f"/api/v1/bookings/{at_main['id']}/arrive", headers=desk.h("front_m"))
    assert r.status_code == 200 and r.json["status"] == "arrived" and r.json["arrived_at"]
    assert desk.client.post(f"/api/v1/bookings/{at_main['id']}/arrive", headers=desk.h("front_m")).status_code == 409
    assert desk.client.delete(f"/api/v1/me/bookings/{at_main['id']}", headers=me).status_code == 409


def test_the_booking_pages(desk, services, cli_env, db_url):
    me = sign_up(desk.client, cli_env, PERSON)
    assert me
    (day,) = days(services, True)
    (holiday,) = days(services, False)
    page = desk.client
    with page.session_transaction() as sess:
        sess["user"], sess["e"], sess["csrf"] = PERSON["phone"], 0, "t"
    html = page.get(f"/me/bookings?hall=main&date={day}").get_data(as_text=True)
    assert 'id="slots"' in html and "09:00" in html and 'name="slot"' in html and "3 / 3" in html
    r = page.post("/me/bookings", data={"_csrf": "t", "hall": "main", "date": holiday, "slot": "09:00"})
    assert r.status_code == 422 and "非工作日" in r.get_data(as_text=True)
    assert page.post("/me/bookings", data={"hall": "main", "date": day, "slot": "09:00"}).status_code == 400  # CSRF
    r = page.post("/me/bookings", data={"_csrf": "t", "hall": "main", "date": day, "slot": "11:30"})
    assert r.status_code == 302
    html = page.get("/me/bookings").get_data(as_text=True)
    assert "预约成功" in html and "已预约" in html and "取消预约" in html
    (mine,) = bookings.mine(services, services.actor(PERSON["phone"]))
    en = page.get("/me/bookings?lang=en").get_data(as_text=True)
    assert "My bookings" in en and "Cancel" in en
    # the front desk's page lists the day's bookings of its hall and marks arrival
    with page.session_transaction() as sess:
        sess["user"], sess["e"] = "front_m", 0
    html = page.get(f"/frontdesk/?bookings_date={day}&lang=zh").get_data(as_text=True)
    assert 'id="bookings"' in html and mine["number"] in html and "到场" in html
    r = page.post(f"/frontdesk/bookings/{mine['id']}/arrive", data={"_csrf": "t"})
    assert r.status_code == 302
    assert bookings.mine(services, services.actor(PERSON["phone"]))[0]["status"] == "arrived"
    with page.session_transaction() as sess:
        sess["user"], sess["e"] = "front_e", 0
    html = page.get(f"/frontdesk/?bookings_date={day}").get_data(as_text=True)
    assert 'id="bookings"' in html and f'data-booking="{mine["number"]}"' not in html  # another hall's
    with page.session_transaction() as sess:
        sess["user"], sess["e"] = PERSON["phone"], 0
    r = page.post(f"/me/bookings/{mine['id']}/cancel", data={"_csrf": "t"})
    assert r.status_code == 302  # already arrived: said on the page, nothing changes
    assert bookings.mine(services, services.actor(PERSON["phone"]))[0]["status"] == "arrived"
    out = verify_all(db_url)
    assert " 0 failed" in out


def test_racing_for_the_last_place_on_postgresql(pg_services):
    """Two applicants book the last place of a slot at once: one gets it, the other 409 — never both."""
    import threading

    from engine.errors import Conflict
    from engine.runtime import org
    from tests.walk import add_users

    sv = pg_services
    add_users(sv, [("a1", ["applicant"]), ("a2", ["applicant"])])
    org.add_hall(sv, "main", "市民中心", "city")
    bookings.set_capacity(sv, "main", 1)
    (day,) = days(sv, True)
    results, barrier = {}, threading.Barrier(2)

    def go(user):
        barrier.wait()
        try:
            results[user] = bookings.book(sv, sv.actor(user), "main", day, "14:00")["number"]
        except Conflict:
            results[user] = 409

    threads = [threading.Thread(target=go, args=(u,)) for u in ("a1", "a2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(str(v) for v in results.values())[0] == "409" and len(results) == 2, results
    assert {x["slot"]: x["free"] for x in bookings.slots(sv, "main", day)["slots"]}["14:00"] == 0
