"""The pages a hall works with, in real Chromium, in zh-CN and in English: front desk (catalogue, guide and intake),
inbox, task, case and audit. Each page is screenshot in both languages (test-artifacts/lang-*.png) and its HTML
checked like tests/test_i18n_pages.py does: no code on a Chinese page, no Chinese chrome on an English one."""
from __future__ import annotations

import re

import pytest

from tests.test_browser import CHROMIUM, browser, live_server, shot  # noqa: F401 - fixtures
from tests.test_i18n_pages import PEOPLE, catalogue_words, check_en, check_zh

pytestmark = [pytest.mark.browser]

APPLICANT = {"type": "company", "name": "梅山味道餐饮有限公司", "credit_code": "91330206MA2H00001K", "phone": "13800000000"}
DATA = {"address": "梅山街道1号", "contact_name": "李四", "id_number": "330206199001010013", "registered_capital": 100}


def page_for(browser, base: str, user: str):  # noqa: F811
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", "pw")
    page.click("form.narrow button[type=submit]")
    page.wait_for_load_state()
    return page


def test_hall_pages_in_both_languages_in_the_browser(live_server, browser, services):  # noqa: F811
    for user, name, groups in PEOPLE:
        services.add_user(user, "pw", groups, name)
    case = services.start_case(services.actor("desk1"), "b_start_up", APPLICANT, DATA,
                               intake={"accepted": True, "materials": {m: "provided" for m in ("id_card", "articles",
                                                                                                "lease")}})
    market = next(t for t in case["tasks"] if t["group"] == "market")
    done = services.complete(services.actor("mkt1"), market["id"], {"decision": "approve", "opinion": "同意设立登记"})
    task = next(t for t in done["tasks"] if t["group"] == "market_lead")
    data_words = sorted({*catalogue_words(), "中文", *APPLICANT.values(), *map(str, DATA.values()), "同意设立登记",
                         *(n for _, n, _ in PEOPLE)}, key=len, reverse=True)  # what people wrote stays as written
    pages = [("desk1", "/frontdesk/", "frontdesk"), ("desk1", "/frontdesk/matters/b_start_up", "intake"),
             ("mktlead1", "/inbox/", "inbox"), ("mktlead1", f"/inbox/tasks/{task['id']}", "task"),
             ("desk1", f"/cases/{case['id']}", "case"), ("aud1", f"/audit/cases/{case['id']}", "audit")]
    base = live_server
    signed = {}
    for user, path, name in pages:
        page = signed.get(user) or signed.setdefault(user, page_for(browser, base, user))
        sep = "&" if "?" in path else "?"
        page.goto(f"{base}{path}{sep}lang=zh")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        check_zh(page.content(), f"{user} {path}")
        if name == "audit":  # each changed datum by its name, none by its key (`by`, `missing`, …)
            cells = page.locator("td[title]").all_inner_texts()
            assert cells and not [c for c in cells if re.search(r"\b[a-z]{2,}\b", c)], cells
        shot(page, f"lang-{name}-zh")
        page.goto(f"{base}{path}{sep}lang=en")
        check_en(page.content(), f"{user} {path} (en)", data_words)
        shot(page, f"lang-{name}-en")
    page.goto(f"{base}/?lang=zh")
