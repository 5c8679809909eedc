"""Issue 14's done-when, through real Chromium pages: an applicant signs up (the code read from the outbox as
`onewindow outbox list --to PHONE` shows it), confirms, signs in, applies online for a bundle with an uploaded file;
the front desk accepts it (预审), the departments approve, the pickup window hands it over; the applicant tracks the
case on /me, downloads the certificate, rates it 不满意; the 差评整改 runs 核实 → 整改 → 回访 on the department's
pages; every case verifies. Screenshots go to test-artifacts/portal-*.png."""
from __future__ import annotations

import re

import pytest

from tests.test_browser import CHROMIUM, browser, live_server, open_task, review, shot, signed_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not __import__("os").path.exists(CHROMIUM),
                                 reason=f"{CHROMIUM} is missing (apt-get install chromium)")]

COMPANY = {"name": "梅山味道餐饮有限公司", "credit_code": "91330206MA2H00001K", "legal_representative": "李四",
           "phone": "13812345678", "password": "secret123"}


def mobile(browser):
    """A phone-sized page (the portal is meant for small screens)."""
    return browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()


def test_an_applicant_online_from_sign_up_to_the_rectification(live_server, browser, services, cli_env, db_url,
                                                               tmp_path):
    from sqlalchemy import select

    from engine.db import Rating
    from tests.test_applicants import code_for
    from tests.test_catalogue_walk import verify_all
    from tests.walk import add_hall_users

    add_hall_users(services)
    base = live_server
    scan = tmp_path / "公司章程.pdf"
    scan.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    lease = tmp_path / "租赁合同.pdf"
    lease.write_bytes(b"%PDF-1.4\n2 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    # sign up on the page, confirm with the code the outbox holds, sign in with the phone
    me = mobile(browser)
    me.goto(f"{base}/me/signup")
    me.check("input[name=type][value=company]")
    for key in ("name", "credit_code", "legal_representative", "phone", "password"):
        me.fill(f"#{key}", COMPANY[key])
    shot(me, "portal-01-signup")
    me.click("form.narrow button[type=submit]")
    me.wait_for_load_state()
    assert "/me/confirm" in me.url
    me.fill("#code", code_for(cli_env, COMPANY["phone"]))
    shot(me, "portal-02-confirm")
    me.click("form.narrow button[type=submit]")
    me.wait_for_load_state()
    assert "/login" in me.url
    me.fill("#username", COMPANY["phone"])
    me.fill("#password", COMPANY["password"])
    me.click("form.narrow button[type=submit]")
    me.wait_for_load_state()
    assert me.url.endswith("/me/")

    # the catalogue the window uses, then the bundle's guide and its merged form, with the files
    me.click("text=在线申请")
    me.fill("input[name=q]", "企业开办")
    me.click("form.search button")
    me.wait_for_load_state()
    shot(me, "portal-03-catalogue")
    me.click("li[data-code=b_start_up] a.apply")
    me.wait_for_selector("#submit-apply")
    assert "办事指南" in me.inner_text("#guide") and COMPANY["name"] in me.inner_text("#applicant")
    for key, value in {"address": "梅山街道1号", "contact_name": "李四", "id_number": "330206199001010013",
                       "registered_capital": "100"}.items():
        me.fill(f"#f_{key}", value)
    me.set_input_files("#file_articles", str(scan))
    me.set_input_files("#file_lease", str(lease))
    shot(me, "portal-04-apply")
    assert me.evaluate("document.querySelector('form.intake').checkValidity()"), me.evaluate(
        "[...document.querySelectorAll('form.intake :invalid')].map(e => e.name)")
    me.focus("#submit-apply")  # the keyboard, not coordinates: a phone-sized page after a full-page screenshot
    with me.expect_navigation():
        me.keyboard.press("Enter")
    assert re.search(r"/me/cases/\d+$", me.url), me.url
    number = me.inner_text("#case-number")
    case_url = me.url
    assert "综合受理" in me.inner_text("#open-steps")
    me.reload()  # a GET after the POST/redirect: reloading applies nothing again
    me.goto(f"{base}/me/")
    assert me.locator("ul.mycases li[data-case]").count() == 1
    shot(me, "portal-05-submitted")

    # online 预审: the front desk reads what was handed in, with the file, and accepts
    front = signed_in(browser, base, "front")
    open_task(front, base, number)
    assert "公司章程.pdf" in front.inner_text("#materials")
    front.check("#f_accepted")
    front.fill("#f_remark", "网上预审通过")
    shot(front, "portal-06-prereview")
    front.click("form.task-form button[type=submit]")
    front.wait_for_load_state()

    for user in ("market1", "market_lead1", "police1", "tax1", "social1", "fund1"):
        page = signed_in(browser, base, user)
        open_task(page, base, number)
        if user == "market1":
            shot(page, "portal-07-department")
        review(page, "approve", "同意")
        page.close()

    pickup = signed_in(browser, base, "pickup1")
    card = pickup.locator(f'article[data-case="{number}"]')
    card.locator("select[name=f_method]").select_option("window")
    card.locator("input[name='f_recipient.name']").fill("李四")
    card.locator("input[name='f_recipient.id_number']").fill("330206199001010013")
    for box in card.locator("input[name=handed]").all():
        box.check()
    card.locator("button[type=submit]").click()
    pickup.wait_for_load_state()
    assert f"已办结 {number}" in pickup.inner_text("main")

    # the applicant tracks the case, downloads the certificate and rates it 不满意
    me.goto(case_url)
    assert "已办结" in me.inner_text("#status")
    steps = me.inner_text("#steps")
    assert "综合受理" in steps and "✓" in steps
    cert = me.locator("#papers li[data-category=certificate]", has_text="营业执照")
    assert cert.count() == 1 and "受理通知书" in me.inner_text("#papers")
    shot(me, "portal-08-case-done")
    href = cert.locator("a.download").get_attribute("href")
    response = me.request.get(base + href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    me.check("input[name=level][value='2']")
    me.fill("#comment", "网上申请后仍需到窗口领取，等候时间长")
    me.fill("#tags", "办理慢")
    shot(me, "portal-09-rating")
    me.click("form.card button[type=submit]")
    me.wait_for_load_state()
    assert "不满意" in me.inner_text("#rating")

    # 差评整改 at the department concerned: 核实 → 整改 → 回访 on its inbox pages
    with services.read() as s:
        rating = s.scalars(select(Rating)).one()
        department, zg_id = rating.department, rating.remediation_case_id
    assert zg_id
    clerk = signed_in(browser, base, {"front_desk": "front"}.get(department, f"{department}1"))
    zg_number = services.get_case(zg_id)["number"]
    for step, fill in (("核实", {"#f_substantiated": ("select", "yes"), "#f_finding": ("fill", "窗口排队时间过长属实")}),
                       ("整改", {"#f_measures": ("fill", "增设网上申请快递送达，高峰时段增开窗口")}),
                       ("回访", {"#f_result": ("select", "satisfied"), "#f_remark": ("fill", "电话回访，申请人认可")})):
        open_task(clerk, base, zg_number)
        for selector, (how, value) in fill.items():
            clerk.select_option(selector, value) if how == "select" else clerk.fill(selector, value)
        if step == "回访":
            shot(clerk, "portal-10-revisit")
        clerk.click("form.task-form button[type=submit]")
        clerk.wait_for_load_state()
    assert services.get_case(zg_id)["status"] == "completed"

    out = verify_all(db_url)
    assert " 0 failed" in out and "ok," in out
