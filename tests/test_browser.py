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
    assert front.locator("a[href='/frontdesk/matters/b_start_up']").count() == 1  # the real bundle is listed
    front.goto(f"{base}/frontdesk/matters/sample_bundle")  # the demo sample is not listed, but opens by its code
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
    card.locator("input[name='f_recipient.name']").fill("王五")  # who took the results, by their ID card
    card.locator("input[name='f_recipient.id_number']").fill("330206198505050022")
    for box in card.locator("input[name=handed]").all():  # each decision handed over, ticked off
        box.check()
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
    assert front.locator("input[pattern]").count() >= 3  # a_id, a_phone, f_id_number
    assert not front.evaluate("document.querySelector('form.intake').checkValidity()")
    front.fill("#a_name", "示例科技有限公司")
    front.fill("#f_id_number", "123")
    front.fill("#f_registered_capital", "-5")
    front.fill("#a_phone", "x")
    front.fill("#a_id", "91350100M000100Y43")
    state = front.evaluate("""() => Object.fromEntries(['f_id_number', 'f_registered_capital',
        'a_phone', 'a_id', 'f_address'].map(n => { const v = document.getElementById(n).validity;
        return [n, v.valid ? 'ok' : v.patternMismatch ? 'pattern' : v.rangeUnderflow ? 'min' : v.valueMissing ? 'missing'
                : 'other'] }))""")
    assert state == {"f_id_number": "pattern", "f_registered_capital": "min",
                     "a_phone": "pattern", "a_id": "ok", "f_address": "missing"}
    url = front.url
    front.click("button[value=accept]")
    assert front.url == url and front.locator("small.error").count() == 0  # no round trip
    shot(front, "09-frontdesk-browser-checks")
    front.click("button[value=refuse]")  # formnovalidate: a refusal needs no complete form
    front.wait_for_load_state()
    assert front.locator("#i_remark-error").count() == 1  # the server asks why


def test_papers_in_the_browser(live_server, browser, services, tmp_path):
    """A bundle with an uploaded file from intake to pickup: the reviewer reads the application and opens the file;
    the certificate's verification page says valid, and after a revocation says revoked."""
    from tests.walk import add_hall_users

    add_hall_users(services)
    base = live_server
    scan = tmp_path / "公司章程.pdf"
    scan.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    front = signed_in(browser, base, "front")
    front.goto(f"{base}/frontdesk/matters/b_start_up")
    front.select_option("#a_type", "company")
    front.fill("#a_name", "梅山味道餐饮有限公司")
    front.fill("#a_id", "91330206MA2H00001K")
    front.fill("#a_phone", "13800000000")
    for key, value in {"address": "梅山街道1号", "contact_name": "李四", "id_number": "330206199001010013",
                       "registered_capital": "100"}.items():
        front.fill(f"#f_{key}", value)
    for material in ("id_card", "articles", "lease"):
        front.select_option(f"#mat_{material}", "provided")
    front.set_input_files("#file_articles", str(scan))
    shot(front, "10-papers-intake-with-file")
    front.click("button[value=accept]")
    number = front.inner_text("#case-number")
    assert "受理通知书" in front.inner_text("main") and "SL-" in front.inner_text("#documents")
    case_id = re.search(r"/cases/(\d+)", front.content()).group(1)
    shot(front, "11-papers-accepted")

    market = signed_in(browser, base, "market1")
    open_task(market, base, number)
    application = market.inner_text("#application")
    assert "申请人名称" in application and "梅山味道餐饮有限公司" in application and "100" in application
    assert "公司章程.pdf" in market.inner_text("#materials") and "第 1 / 2 级" in market.inner_text("#decides")
    shot(market, "12-papers-reviewer-desk")
    href = market.get_attribute("#materials a.file", "href")
    response = market.request.get(href if href.startswith("http") else base + href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body() == scan.read_bytes()
    review(market, "approve", "承办：同意设立登记")
    for user in ("market_lead1", "police1", "tax1", "social1", "fund1"):
        page = signed_in(browser, base, user)
        open_task(page, base, number)
        if user == "market_lead1":
            assert "承办：同意设立登记" in page.inner_text("#opinions")
        review(page, "approve", "同意")

    pickup = signed_in(browser, base, "pickup1")
    card = pickup.locator(f'article[data-case="{number}"]')
    assert "营业执照" in card.inner_text()
    card.locator("select[name=f_method]").select_option("window")
    card.locator("input[name='f_recipient.name']").fill("李四")
    card.locator("input[name='f_recipient.id_number']").fill("330206199001010013")
    for box in card.locator("input[name=handed]").all():
        box.check()
    shot(pickup, "13-papers-pickup")
    card.locator("button[type=submit]").click()
    pickup.wait_for_load_state()
    assert f"已办结 {number}" in pickup.inner_text("main")

    pickup.goto(f"{base}/cases/{case_id}")
    assert "准予许可决定书" in pickup.inner_text("#documents") and "李四" in pickup.inner_text("#pickup-record")
    row = pickup.locator("#certificates tr", has_text="营业执照")
    cert_number = row.get_attribute("data-number")
    shot(pickup, "14-papers-case")
    public = browser.new_context(locale="zh-CN").new_page()  # anyone holding the paper, signed in or not
    public.goto(f"{base}/verify/{cert_number}")
    assert "有效" in public.inner_text("#verdict") and "电子印章校验通过" in public.inner_text("#verdict")
    shot(public, "15-papers-verify-valid")

    admin = signed_in(browser, base, "admin")
    admin.goto(f"{base}/cases/{case_id}")
    row = admin.locator(f'#certificates tr[data-number="{cert_number}"]')
    row.locator("input[name=reason]").fill("登记事项虚假，依法撤销")
    row.locator("button[type=submit]").click()
    admin.wait_for_load_state()
    assert "已注销" in admin.inner_text("#certificates")
    public.goto(f"{base}/verify/{cert_number}")
    assert "已注销" in public.inner_text("#verdict") and "登记事项虚假" in public.inner_text("#verdict")
    shot(public, "16-papers-verify-revoked")
