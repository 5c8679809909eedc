"""A case walked through the pages in zh-CN and in English: no code reaches a Chinese page, no Chinese word of the
page's own chrome reaches an English one (what applicants entered and what the catalogue names stay as written)."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from web import create_app
from web.cli import cli
from tests.test_web import csrf

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
CODES = re.compile(r"\b(?:window|express|correct|completed|running|pending|approve|reject|market|tax|police|social|"
                   r"fund|front_desk|pickup|Not Found|required|verify|say why|process versions)\b|\(ok\)|\(zip\)")
PEOPLE = [("desk1", "综合窗口 张敏", ["front_desk"]), ("mkt1", "市场监管局 王强", ["market"]),
          ("mktlead1", "市场监管局 林峰", ["market_lead"]), ("pol1", "公安局 吴刚", ["police"]),
          ("tax9", "税务局 陈静", ["tax"]), ("soc1", "人社局 刘洋", ["social"]), ("fnd1", "公积金中心 周杰", ["fund"]),
          ("pick1", "出件窗口 孙丽", ["pickup"]), ("aud1", "审计员 钱进", ["auditor"]),
          ("sup1", "电子监察 郑华", ["supervisor"])]
BY_GROUP = {g[0]: u for u, _, g in PEOPLE}
APPLICANT = {"a_type": "company", "a_name": "梅山味道餐饮有限公司", "a_id": "91330206MA2H00001K", "a_phone": "13800000000"}
FIELDS = {"f_address": "梅山街道1号", "f_contact_name": "李四", "f_id_number": "330206199001010013",
          "f_registered_capital": "100"}


@pytest.fixture
def app(services, db_url):
    for user, name, groups in PEOPLE:
        services.add_user(user, "pw", groups, name)
    return create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})


def visible(page: str) -> str:
    """The text a reader sees: no diagram, scripts, styles, tags or attribute values."""
    page = re.sub(r"<(svg|script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "\n", page))


def catalogue_words() -> list[str]:
    """What the catalogue itself names in Chinese (matters, tasks, materials, fields, certificates, departments):
    data, shown as written in both languages."""
    words = set()
    for path in (ROOT / "processes").glob("*.bpmn"):
        text = path.read_text(encoding="utf-8")
        words |= {html.unescape(w) for w in re.findall(r'name="([^"]+)"', text)}
        for guide in re.findall(r"<ow:guide[^>]*>(.*?)</ow:guide>", text, re.S):
            words |= set(_strings(json.loads(html.unescape(guide))))
    for path in (ROOT / "forms").glob("*.json"):
        words |= set(_strings(json.loads(path.read_text(encoding="utf-8"))))
    words |= {name for _, name, _ in PEOPLE} | {v for v in {**APPLICANT, **FIELDS}.values()}
    return sorted((w for w in words if CJK.search(w)), key=len, reverse=True)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def check_zh(page: str, where: str) -> None:
    text = visible(page)
    leaks = SNAKE.findall(text) + CODES.findall(text)
    lines = [line.strip() for line in text.splitlines() if SNAKE.search(line) or CODES.search(line)]
    assert not leaks, f"{where}: codes on a zh-CN page: {leaks} in {lines}"


def check_en(page: str, where: str, data: list[str]) -> None:
    text = visible(page)
    for word in data:
        text = text.replace(word, " ")
    left = sorted({line.strip() for line in text.splitlines() if CJK.search(line)})
    assert not left, f"{where}: Chinese in the English page's chrome: {left}"
    leaks = SNAKE.findall(text)
    assert not leaks, f"{where}: codes on an English page: {leaks}"


class Reader:
    """Signed-in clients; every page they open is checked in zh-CN, then again with ?lang=en."""

    def __init__(self, app):
        # the link back to Chinese is written in Chinese on every English page
        self.app, self.clients, self.data, self.seen = app, {}, [*catalogue_words(), "中文"], []

    def client(self, user: str | None):
        if user is None:  # not signed in
            return self.clients.setdefault(None, self.app.test_client())
        if user not in self.clients:
            c = self.app.test_client()
            r = c.post("/login", data={"username": user, "password": "pw", "_csrf": csrf(c, "/login")})
            assert r.status_code == 302, r.text
            self.clients[user] = c
        return self.clients[user]

    def read(self, user: str, path: str, status: int = 200) -> str:
        c = self.client(user)
        zh = c.get(path + ("&" if "?" in path else "?") + "lang=zh")
        assert zh.status_code == status, (path, zh.status_code)
        check_zh(zh.text, f"{user} {path}")
        en = c.get(path + ("&" if "?" in path else "?") + "lang=en")
        check_en(en.text, f"{user} {path} (en)", self.data)
        c.get("/?lang=zh")  # back to Chinese for the next form post
        self.seen.append(path)
        return zh.text


def test_a_case_through_every_page_in_both_languages(app, services, db_url):
    r = Reader(app)
    r.read(None, "/")
    r.read(None, "/login")
    catalogue = r.read("desk1", "/frontdesk/")
    assert "1 工作日" in catalogue and "fund、market" not in catalogue
    found = r.read("desk1", "/frontdesk/?q=营业执照")
    assert "/frontdesk/matters/b_start_up" in found and "/frontdesk/matters/m_company_reg" in found
    guide = r.read("desk1", "/frontdesk/matters/m_seal")
    assert re.search(r'id="guide-departments">公安局<', guide) and "即办（当场办结）" in guide
    r.read("desk1", "/frontdesk/matters/b_start_up")

    desk = r.client("desk1")
    path = "/frontdesk/matters/b_start_up"
    form = {"_csrf": csrf(desk, path), **APPLICANT, **FIELDS, "decision": "accept",
            **{f"mat_{m}": "provided" for m in ("id_card", "articles", "lease")}}
    done = desk.post(path, data=form, follow_redirects=True)
    assert done.status_code == 200, done.text
    check_zh(done.text, "accepted")
    case_id = int(re.search(r"/cases/(\d+)", done.text).group(1))

    for _ in range(12):
        tasks = services.case_view(case_id)["tasks"]
        if not tasks:
            break
        t = tasks[0]
        user = BY_GROUP[t["group"]]
        if t["rule"] == "pickup":
            page = r.read(user, "/pickup/")
            handed = re.findall(r'name="handed" value="([^"]+)"', page)
            c = r.client(user)
            res = c.post(f"/pickup/{t['id']}", data={"_csrf": csrf(c, "/pickup/"), "f_method": "window",
                                                   "f_recipient.name": "Li Si", "f_recipient.id_number":
                                                   "330206199001010013", "handed": handed})
            assert res.status_code == 302, res.text
            continue
        r.read(user, "/inbox/")
        r.read(user, f"/inbox/tasks/{t['id']}")
        c = r.client(user)
        res = c.post(f"/inbox/tasks/{t['id']}", data={"_csrf": csrf(c, f"/inbox/tasks/{t['id']}"),
                                                     "f_decision": "approve", "f_opinion": "ok"})
        assert res.status_code == 302, res.text
        r.read(user, f"/cases/{case_id}")
    assert services.case_view(case_id)["status"] == "completed"

    page = r.read("desk1", f"/cases/{case_id}")
    assert "营业执照" in page and "已办结" in page
    r.read("aud1", "/audit/")
    audit = r.read("aud1", f"/audit/cases/{case_id}")
    steps = len(re.findall(r'href="\?step=\d+"', audit))
    for n in (1, 2, steps // 2, steps):
        r.read("aud1", f"/audit/cases/{case_id}?step={n}")
    aud = r.client("aud1")
    verified = aud.post(f"/audit/cases/{case_id}/verify", data={"_csrf": csrf(aud, f"/audit/cases/{case_id}")})
    check_zh(verified.text, "verify")
    assert "校验通过" in verified.text
    r.read("desk1", "/frontdesk/matters/no_such_matter", status=404)
    r.read("sup1", "/supervisor/")
    r.read("sup1", f"/supervisor/cases/{case_id}")
    r.read("mkt1", "/notices/")

    res = CliRunner().invoke(cli, ["audit", "verify", "--all"], env={"ONEWINDOW_DATABASE_URL": db_url})
    assert res.exit_code == 0, res.output
