"""电子监察 in real Chromium: after a generated history of two weeks, the supervisor sees the dashboard (charts drawn
on the server, no script), drills into an overdue case and presses it (督办); the department sees the notice.
Screenshots go to test-artifacts/."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from engine.runtime.timers import fire_due
from tests.test_browser import CHROMIUM, browser, shot, signed_in  # noqa: F401 - the browser fixture
from tests.test_time_limits import at, food
from tests.test_timers import Clock
from tests.walk import COMPANY, FIELDS, HOUSE, PERSON, Hall, add_hall_users, fit

pytestmark = [pytest.mark.browser]


def history(services) -> dict:
    """Two weeks of a hall, made by the service layer on a moving clock: cases decided on time and late, refused,
    容缺 and 告知承诺, a deemed approval, and reviews left undecided (overdue)."""
    add_hall_users(services)
    clock = services.clock = Clock(at(2))
    hall = Hall(services)
    sign = fit("f_signboard", dict(FIELDS, sign_text="梅山"))
    water = fit("f_water_transfer", HOUSE)
    left = []
    for day in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13):
        clock.at = at(day, 9)
        done = hall.apply("m_food_permit", COMPANY, food(), provided=hall.full("m_food_permit"))
        clock.at += timedelta(hours=3 if day % 3 else 30)
        done = hall.decide_all(done["id"])
        hall.pickup(done, "window" if day % 2 else "express", "SF1")
        clock.at = at(day, 11)
        hall.apply("m_water_transfer", PERSON, water, provided=hall.full("m_water_transfer"))
        if day % 4 == 0:
            hall.apply("m_signboard", COMPANY, sign, accepted=False, reason="不属于本中心受理范围")
        if day % 3 == 0:
            hall.apply("m_food_permit", COMPANY, food(), provided=["licence", "layout", "safety_rules"],
                       deferred=["lease"])
            hall.apply("m_food_permit", COMPANY, food(), provided=["licence", "lease"],
                       commitments=["layout", "safety_rules"])
        left.append(hall.apply("m_signboard", COMPANY, sign, provided=hall.full("m_signboard")))
        clock.at = at(day, 17)
        fire_due(services)  # deemed approvals and reminders, as the worker would
    clock.at = at(16, 10)
    fire_due(services)
    return {"clock": clock, "left": left}


@pytest.fixture
def hall_server(services, db_url):
    from werkzeug.serving import make_server

    from web import create_app

    made = history(services)
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "browser-test"})
    app.extensions["onewindow"].clock = made["clock"]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", made
    server.shutdown()
    thread.join(5)


def test_a_supervisor_sees_the_dashboard_drills_down_and_presses_a_case(hall_server, browser):  # noqa: F811
    base, made = hall_server
    page = signed_in(browser, base, "super1")
    assert page.url.endswith("/supervisor/")  # super1 lands on the dashboard, not an empty inbox
    page.goto(f"{base}/supervisor/?from=2026-11-01&to=2026-11-30")
    assert int(page.inner_text("#overdue-count")) >= len(made["left"]) - 1
    assert page.locator("#charts svg").count() == 6 and page.locator("script").count() == 0
    assert page.locator("#list-overdue tbody tr").count() >= 5
    shot(page, "supervisor-dashboard")
    page.goto(f"{base}/supervisor/?from=2026-11-01&to=2026-11-30&department=urban&lang=en")
    shot(page, "supervisor-dashboard-urban-en")
    page.goto(f"{base}/supervisor/?from=2026-11-01&to=2026-11-30&lang=zh")
    page.click("#list-overdue tbody tr:has(td:text-is('urban')) a")  # a review left undecided by 城管局
    page.wait_for_load_state()
    assert page.inner_text("#timeliness") == "逾期"
    page.fill("#urge-text", "请于今日办结并说明超期原因")
    page.click("#urge button[type=submit]")
    page.wait_for_load_state()
    assert "请于今日办结" in page.inner_text("#case-notices")
    shot(page, "supervisor-case-urged")
    clerk = signed_in(browser, base, "urban1")
    clerk.goto(f"{base}/notices/")
    assert "督办" in clerk.inner_text("#notices")
    clerk.goto(f"{base}/inbox/")
    assert clerk.locator("#inbox tr.tl-overdue").count() >= 1
    first = clerk.locator("#inbox tbody tr").first.get_attribute("data-timeliness")
    assert first == "overdue"  # sorted by urgency
    shot(clerk, "inbox-overdue-first")
