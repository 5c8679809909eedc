"""The catalogue people search: names, short names, departments, certificates and keywords, through the engine's
query that both the API and the front desk page use; every guide complete; demo samples not listed; bundle forms
asking each fact once."""
from __future__ import annotations

import json
import re

import pytest

from engine.model.forms import members_of

from engine import readmodels as catalog
from engine.model.catalogue import FORMS_DIR
from engine.model.guide import HANDLING
from tests.test_web import login


@pytest.fixture
def api(client_app):
    client = client_app.test_client()
    r = client.post("/api/v1/auth/token", json={"username": "front", "password": "pw"})
    assert r.status_code == 200, r.json
    return client, {"Authorization": f"Bearer {r.json['token']}"}


@pytest.fixture
def client_app(services, db_url):
    from web import create_app

    return create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})


def codes(api, q: str) -> set[str]:
    client, h = api
    r = client.get("/api/v1/matters", headers=h, query_string={"q": q})
    assert r.status_code == 200, r.json
    return {m["code"] for m in r.json}


def page_codes(client, q: str) -> set[str]:
    return set(re.findall(r'href="/frontdesk/matters/([^"?]+)"', client.get("/frontdesk/", query_string={"q": q}).text))


@pytest.mark.parametrize("q, wanted, unwanted", [
    ("营业执照", {"b_start_up", "m_company_reg"}, {"m_seal", "m_food_permit"}),  # the certificate it produces
    ("企业开办", {"b_start_up"}, set()),                                          # a bundle's short name
    ("刻章", {"m_seal"}, set()),                                                  # a short name
    ("公安局", {"m_seal", "m_hukou_birth", "m_id_card_renew"}, {"m_company_reg"}),  # a department
    ("社保卡", {"m_social_card", "b_newborn"}, {"m_social_reg"}),                 # a keyword, and a bundle's member
    ("二手房", {"b_house", "m_contract_filing", "m_deed_tax"}, set()),
    ("市场监管局 许可证", {"m_food_permit"}, {"m_company_reg"}),                   # every word must match
    ("000-XK-0101", {"m_company_reg"}, set()),                                    # the 事项编码
])
def test_search_finds_by_name_short_name_department_certificate_and_keyword(api, client_app, q, wanted, unwanted):
    found = codes(api, q)
    assert wanted <= found and not (unwanted & found), (q, found)
    assert page_codes(login(client_app, "front"), q) == found  # the page asks the same query


def test_search_without_a_hit_is_empty_not_everything(api):
    assert codes(api, "没有这样的事项") == set()
    assert len(codes(api, "")) == len(codes(api, "  ")) > 30


def test_demo_samples_are_not_listed_but_still_open_and_run(api, client_app, services):
    listed = codes(api, "")
    assert not {c for c in listed if c.startswith("sample_")}
    assert codes(api, "示例") == set() and codes(api, "sample") == set()
    assert "示例" not in login(client_app, "front").get("/frontdesk/").text
    client, h = api
    guide = client.get("/api/v1/matters/sample_matter", headers=h)
    assert guide.status_code == 200 and guide.json["kind"] == "matter"
    case = client.post("/api/v1/cases", headers=h, json={"matter": "sample_matter", "applicant": {
        "type": "company", "name": "示例科技有限公司", "credit_code": "91330206MA2H00001K"}})
    assert case.status_code == 201, case.json


def test_every_guide_is_complete(api, client_app, services):
    rows = catalog.matters(services)
    assert len(rows) >= 30
    page = login(client_app, "front")
    for m in rows:
        where = m["code"]
        assert m["departments"] and all(re.search(r"[\u4e00-\u9fff]", d) for d in m["departments"]), where
        assert m["handling"] in HANDLING and m["item_code"], where
        assert isinstance(m["promised_days"], int) and isinstance(m["statutory_days"], int), where
        assert m["statutory_days"] > 0 and m["promised_days"] <= m["statutory_days"], where
        assert m["promised_days"] > 0 or m["handling"] == "即办件", where  # 0 only for what is done on the spot
        assert all(isinstance(f["amount"], (int, float)) and f["basis"] for f in m["fees"]), where
        assert m["kind"] == ("bundle" if m["code"].startswith("b_") else "matter"), where
        text = page.get(f"/frontdesk/matters/{m['code']}").text
        promised = re.search(r'id="guide-promised">([^<]+)<', text).group(1)
        statutory = re.search(r'id="guide-statutory">([^<]+)<', text).group(1)
        assert statutory == f"{m['statutory_days']} 工作日", where
        assert promised == (f"{m['promised_days']} 工作日" if m["promised_days"] else "即办（当场办结）"), where
        departments = re.search(r'id="guide-departments">([^<]+)<', text).group(1)
        assert departments == "、".join(m["departments"]) and "—" not in departments, where
        fees = re.search(r'id="guide-fees">([^<]+)<', text).group(1)
        assert fees == ("不收费" if not m["fees"] else fees) and (not m["fees"] or "元" in fees), where
    listing = page.get("/frontdesk/").text
    assert listing.count(" 工作日</td>") + listing.count("即办（当场办结）") == 2 * len(rows)
    seal = next(m for m in rows if m["code"] == "m_seal")
    assert seal["departments"] == ["公安局"] and seal["handling"] == "即办件"
    renew = next(m for m in rows if m["code"] == "m_id_card_renew")
    assert "证件工本费 20 元" in page.get("/frontdesk/matters/m_id_card_renew").text and renew["fees"]
    assert page.get("/frontdesk/").text.count("<td>一件事</td>") == sum(m["kind"] == "bundle" for m in rows) == 6


APPLICANT_FACTS = {"company_name", "contact_phone", "applicant_name", "credit_code", "phone"}
APPLICANT_TITLES = {"申请人名称", "企业（主体）名称", "企业名称", "联系电话", "统一社会信用代码", "身份证号", "身份证号码"}


@pytest.mark.parametrize("path", sorted(FORMS_DIR.glob("[bf]_*.json")), ids=lambda p: p.stem)
def test_a_start_form_asks_each_fact_once_and_not_what_the_applicant_block_holds(path):
    form = json.loads(path.read_text(encoding="utf-8"))
    props = form["properties"]
    titles = [p.get("title") for p in props.values()]
    assert len(titles) == len(set(titles)), f"{path.stem}: a title asked twice: {titles}"
    assert not APPLICANT_FACTS & set(props), f"{path.stem}: asks what the applicant block holds"
    assert not APPLICANT_TITLES & set(titles), f"{path.stem}: asks what the applicant block holds"


def test_each_matter_asks_for_its_own_facts():
    social_card = json.loads((FORMS_DIR / "f_social_card.json").read_text(encoding="utf-8"))["properties"]
    assert "baby_name" not in social_card and "新生儿姓名" not in json.dumps(social_card, ensure_ascii=False)
    medins = json.loads((FORMS_DIR / "f_medins_enrol.json").read_text(encoding="utf-8"))["properties"]
    assert "baby_name" not in medins
    newborn = json.loads((FORMS_DIR / "b_newborn.json").read_text(encoding="utf-8"))
    assert "baby_name" in newborn["properties"]
    assert members_of(newborn)["baby_name"] == ["birth_cert", "hukou_birth"]  # asked once, for those who need it
    company = json.loads((FORMS_DIR / "f_company_reg.json").read_text(encoding="utf-8"))["properties"]
    assert company["id_number"]["title"] == "法定代表人身份证号码"  # not the applicant's: a company applies
