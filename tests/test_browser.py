"""A bundle through real Chromium pages: front desk accepts, departments review in parallel (one refuses),
the pickup window hands it over. Screenshots go to test-artifacts/."""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)")]


@pytest.fixture
def live_server(services, db_url):
    from werkzeug.serving import make_server

    from web import create_app

    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "browser-test"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM,
                               args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def signed_in(browser, base: str, user: str):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", "pw")
    page.click("form.narrow button[type=submit]")
    page.wait_for_load_state()
    return page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_task(page, base: str, number: str) -> None:
    page.goto(f"{base}/inbox/")
    page.click(f'tr:has-text("{number}") a.button')
    page.wait_for_selector("form.task-form")


def review(page, decision: str, opinion: str) -> None:
    page.select_option("#f_decision", decision)
    page.fill("#f_opinion", opinion)
    page.click("form.task-form button[type=submit]")
    page.wait_for_load_state()


def test_bundle_in_the_browser(live_server, browser):
    base = live_server
    front = signed_in(browser, base, "front")
    assert front.url.endswith("/frontdesk/")
    front.fill("input[name=q]", "企业开办")
    front.click("form.search button")
    shot(front, "01-frontdesk-catalogue")
    front.click("text=示例一件事：企业开办")
    front.select_option("#a_type", "company")
    front.fill("#a_name", "示例科技有限公司")
    front.fill("#a_id", "91330206MA2XXXXX04")
    front.fill("#a_phone", "13800000000")
    front.fill("#i_remark", "材料齐全")
    shot(front, "02-frontdesk-intake")
    front.click("button[value=accept]")
    number = front.inner_text("#case-number")
    assert re.fullmatch(r"OW\d+", number)
    shot(front, "03-frontdesk-accepted")

    # two clerks open their tasks at the same time and both approve
    market, tax = signed_in(browser, base, "market1"), signed_in(browser, base, "tax1")
    assert number in market.inner_text("#inbox")
    shot(market, "04-inbox-market")
    open_task(market, base, number)
    open_task(tax, base, number)
    shot(tax, "05-task-tax")
    review(market, "approve", "同意设立登记")
    review(tax, "approve", "同意")
    assert number not in market.inner_text("#inbox")

    police = signed_in(browser, base, "police1")
    open_task(police, base, number)
    assert "同意设立登记" in police.inner_text("#opinions")
    review(police, "reject", "印章样式不符合要求")
    for user in ("social1", "fund1"):
        page = signed_in(browser, base, user)
        open_task(page, base, number)
        review(page, "approve", "同意")

    pickup = signed_in(browser, base, "pickup1")
    assert pickup.url.endswith("/pickup/")
    card = pickup.locator(f'article[data-case="{number}"]')
    assert "不同意" in card.inner_text()
    shot(pickup, "06-pickup")
    card.locator("select[name=f_method]").select_option("window")
    card.locator("button[type=submit]").click()
    pickup.wait_for_load_state()
    assert f"已办结 {number}" in pickup.inner_text("main")

    case_id = re.search(r"/cases/(\d+)", front.content()).group(1)
    pickup.goto(f"{base}/cases/{case_id}")
    assert "已办结" in pickup.inner_text("dl.summary")
    assert pickup.locator(".diagram svg").count() == 1
    shot(pickup, "07-case-closed")
    pickup.goto(f"{base}/cases/{case_id}?lang=en")
    assert "Timeline" in pickup.inner_text("main")
    shot(pickup, "08-case-english")


def test_the_browser_checks_fields_before_the_server(live_server, browser):
    """Inputs carry required/maxlength/pattern/min from the schema; Chromium compiles every pattern (with the
    `v` flag) and refuses an empty or malformed form before any request; refusing skips the checks."""
    base = live_server
    front = signed_in(browser, base, "front")
    front.goto(f"{base}/frontdesk/matters/m_company_reg")
    bad = front.evaluate("""() => [...document.querySelectorAll('input[pattern]')].filter(i => {
        try { new RegExp(i.pattern, 'v'); return false } catch (e) { return true } }).map(i => i.name)""")
    assert bad == []
    assert front.locator("input[pattern]").count() >= 4
    assert not front.evaluate("document.querySelector('form.intake').checkValidity()")
    front.fill("#a_name", "示例科技有限公司")
    front.fill("#f_contact_phone", "电话")
    front.fill("#f_id_number", "123")
    front.fill("#f_registered_capital", "-5")
    front.fill("#a_phone", "x")
    front.fill("#a_id", "91350100M000100Y43")
    state = front.evaluate("""() => Object.fromEntries(['f_contact_phone', 'f_id_number', 'f_registered_capital',
        'a_phone', 'a_id', 'f_company_name'].map(n => { const v = document.getElementById(n).validity;
        return [n, v.valid ? 'ok' : v.patternMismatch ? 'pattern' : v.rangeUnderflow ? 'min' : v.valueMissing ? 'missing'
                : 'other'] }))""")
    assert state == {"f_contact_phone": "pattern", "f_id_number": "pattern", "f_registered_capital": "min",
                     "a_phone": "pattern", "a_id": "ok", "f_company_name": "missing"}
    url = front.url
    front.click("button[value=accept]")
    assert front.url == url and front.locator("small.error").count() == 0  # no round trip
    shot(front, "09-frontdesk-browser-checks")
    front.click("button[value=refuse]")  # formnovalidate: a refusal needs no complete form
    front.wait_for_load_state()
    assert front.locator("#i_remark-error").count() == 1  # the server asks why
