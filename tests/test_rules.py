"""Window and back-office rules (engine.window.matters) and every bundle of the catalogue, through the service layer."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.window.certificates import Certificates
from engine.errors import Conflict, Invalid
from engine.window.matters import Matters

COMPANY = {"type": "company", "name": "梅山味道餐饮有限公司", "credit_code": "91330206MA2H000001"}
FIELDS = {"company_name": "梅山味道餐饮有限公司", "address": "梅山街道1号", "contact_name": "李四",
          "contact_phone": "13800000000", "id_number": "330206199001010011"}
PERSON = {"type": "person", "name": "王五", "id_number": "330206198505050022"}
HOUSE = {"id_number": "330206198505050022", "property_address": "梅山花园3幢101室", "contact_phone": "13900000000"}
EXTRA_USERS = ["health", "urban", "housing", "estate", "water", "power", "gas", "medins", "dev"]


@pytest.fixture
def hall(services):
    for g in EXTRA_USERS:
        services.add_user(f"{g}1", "pw", [g])
    return Matters(services, Certificates(services, Ed25519PrivateKey.generate()))


def fit(form: str, data: dict) -> dict:
    """Keep only the fields the start form asks for (a test's data is a superset)."""
    import json
    from engine.model.catalogue import FORMS_DIR
    props = json.loads((FORMS_DIR / f"{form}.json").read_text(encoding="utf-8"))["properties"]
    return {k: v for k, v in data.items() if k in props}


def actor(hall, name):
    return hall.sv.actor(name)


def decide_all(hall, case_id, decisions: dict[str, str]) -> dict:
    """Let each department decide its open reviews (process id -> decision) until none is left open."""
    while True:
        case = hall.view(case_id)
        open_reviews = [t for t in case["tasks"] if t["element_id"] == "review"]
        if not open_reviews:
            return case
        t = open_reviews[0]
        member = t["process_id"][3:]
        hall.review(actor(hall, f"{t['group']}1"), t["id"], decisions.get(member, "approve"), f"{member} 审查意见")


def full(hall, pid):
    """Every needed material as provided (a first-time applicant)."""
    return [m["id"] for m in hall.guide(pid)["materials"]]


# ---------------------------------------------------------------- window rules
def test_one_notice_lists_everything_missing_and_nothing_starts(hall):
    front = actor(hall, "front")
    case = hall.apply(front, "m_food_permit", COMPANY, fit("f_food_permit", dict(FIELDS, food_categories=["热食类"])), provided=["lease"],
                      deferred=["layout"])
    assert case["status"] == "completed" and case["tasks"] == []
    notice = case["notice"]
    assert notice["kind"] == "一次性告知"
    assert notice["missing"] == ["营业执照", "经营场所平面布局图（不可容缺）", "食品安全管理制度"]
    assert "一次性告知书" in notice["text"] and "3. 食品安全管理制度" in notice["text"]
    assert [o["status"] for o in case["outcomes"]] == ["refused_at_intake"]
    events = hall.sv.events(case["id"])
    assert [e["type"] for e in events].count("intake_refused") == 1
    assert not any(e["element_id"] == "review" for e in events)
    assert hall.certs.for_case(case["id"]) == []


def test_refusal_with_reason(hall):
    case = hall.refuse(actor(hall, "front"), "m_signboard", COMPANY, fit("f_signboard", dict(FIELDS, sign_text="梅山味道")),
                       reason="招牌位于历史文化街区禁设区域，不属于可审批范围")
    assert case["status"] == "completed" and case["notice"]["kind"] == "不予受理"
    ev = [e for e in hall.sv.events(case["id"]) if e["type"] == "intake_refused"][0]
    assert "禁设区域" in ev["payload"]["reason"]
    with pytest.raises(Invalid):
        hall.refuse(actor(hall, "front"), "m_signboard", COMPANY, fit("f_signboard", dict(FIELDS, sign_text="x")), reason=" ")


def test_deferred_material_blocks_pickup_until_supplied(hall):
    front, pickup = actor(hall, "front"), actor(hall, "pickup1")
    case = hall.apply(front, "m_food_permit", COMPANY, fit("f_food_permit", dict(FIELDS, food_categories=["热食类"])),
                      provided=["licence", "layout", "safety_rules"], deferred=["lease"])
    assert {t["element_id"] for t in case["tasks"]} == {"review", "supply"}  # review goes on
    assert [m["id"] for m in case["owed"]] == ["lease"]
    case = decide_all(hall, case["id"], {})
    assert case["outcomes"][0]["status"] == "approved" and case["certificates"] == []
    with pytest.raises(Conflict, match="容缺材料未补齐"):
        hall.pickup(pickup, case["id"])
    with pytest.raises(Invalid):
        hall.supplement(front, case["id"], [])
    case = hall.supplement(front, case["id"], ["lease"])
    assert case["owed"] == []
    case = hall.pickup(pickup, case["id"], method="window")
    assert case["status"] == "completed" and case["visits"] == 2
    assert [c["type"] for c in case["certificates"]] == ["food_permit"]


def test_commitment_approves_at_once_then_post_check(hall):
    front, pickup, market = actor(hall, "front"), actor(hall, "pickup1"), actor(hall, "market1")
    case = hall.apply(front, "m_food_permit", COMPANY, fit("f_food_permit", dict(FIELDS, food_categories=["冷食类"])),
                      provided=["licence", "lease"], commitments=["layout", "safety_rules"])
    assert [t["element_id"] for t in case["tasks"]] == ["pickup"]  # no review: approved at once
    assert case["outcomes"][0]["status"] == "approved"
    case = hall.pickup(pickup, case["id"], method="express", tracking_no="SF100")
    assert case["visits"] == 1 and len(case["certificates"]) == 1
    check = [t for t in case["tasks"] if t["element_id"] == "post_check"][0]
    assert check["group"] == "market" and case["status"] == "running"
    case = hall.post_check(market, case["id"], "violation", "现场无冷食专间")
    assert case["status"] == "completed" and case["certificates"][0]["status"] == "revoked"
    with pytest.raises(Invalid, match="容缺受理与告知承诺"):
        other = dict(COMPANY, credit_code="91330206MA2H000002")  # a new holder: nothing on file to share
        hall.apply(front, "m_food_permit", other, fit("f_food_permit", dict(FIELDS, food_categories=["冷食类"])),
                   provided=["licence"], deferred=["lease"], commitments=["layout", "safety_rules"])


def test_on_the_spot_matter_ends_at_the_window(hall):
    case = hall.on_spot(actor(hall, "front"), "m_seal", COMPANY, {k: FIELDS[k] for k in
                        ("company_name", "address", "contact_name", "contact_phone")}, provided=["licence", "id_card"])
    assert case["status"] == "completed" and case["visits"] == 1 and case["tasks"] == []
    assert case["outcomes"][0]["status"] == "approved" and case["certificates"][0]["type"] == "seal_filing"


def test_correction_once_then_supplement_resumes_review(hall):
    front, urban = actor(hall, "front"), actor(hall, "urban1")
    case = hall.apply(front, "m_signboard", COMPANY, dict({k: FIELDS[k] for k in ("company_name", "address",
                      "contact_name", "contact_phone")}, sign_text="梅山味道"), provided=["licence", "sign_design"])
    review = case["tasks"][0]
    case = hall.review(urban, review["id"], "correct", "效果图尺寸不清", corrections=["标注尺寸的效果图"])
    assert [t["element_id"] for t in case["tasks"]] == ["correction"]
    case = hall.supplement(front, case["id"], ["sign_design"], "已补标注尺寸")
    review = case["tasks"][0]
    assert review["element_id"] == "review"
    with pytest.raises(Invalid, match="补正只能退回一次"):
        hall.review(urban, review["id"], "correct", "再补", corrections=["x"])
    case = hall.review(urban, review["id"], "approve", "同意")
    assert [t["element_id"] for t in case["tasks"]] == ["pickup"]


# ---------------------------------------------------------------- bundles
def start_up(hall, **kw):
    return hall.apply(actor(hall, "front"), "b_start_up", COMPANY, dict(FIELDS, registered_capital=100),
                      provided=["id_card", "articles", "lease", "licence"], **kw)


def test_start_up_registration_first_then_four_in_parallel_one_refusal_keeps_others(hall):
    case = start_up(hall)
    assert [t["process_id"] for t in case["tasks"]] == ["rv_company_reg"]
    reg = case["tasks"][0]
    case = hall.review(actor(hall, "market1"), reg["id"], "approve", "准予登记")
    assert sorted(t["process_id"] for t in case["tasks"]) == ["rv_fund_reg", "rv_seal", "rv_social_reg", "rv_tax_invoice"]
    case = decide_all(hall, case["id"], {"tax_invoice": "reject"})
    case = hall.pickup(actor(hall, "pickup1"), case["id"], method="express", tracking_no="EMS1")
    status = {o["matter"]: o["status"] for o in case["outcomes"]}
    assert status == {"company_reg": "approved", "seal": "approved", "tax_invoice": "rejected",
                      "social_reg": "approved", "fund_reg": "approved"}
    assert sorted(c["matter"] for c in case["certificates"]) == ["company_reg", "fund_reg", "seal", "social_reg"]
    notice = [o for o in case["outcomes"] if o["status"] == "rejected"][0]["notice"]
    assert notice.startswith("不予许可决定书") and "tax_invoice 审查意见" in notice
    assert case["visits"] == 1 and case["status"] == "completed"


def test_start_up_refused_registration_skips_the_rest(hall):
    case = start_up(hall)
    case = hall.review(actor(hall, "market1"), case["tasks"][0]["id"], "reject", "名称与已登记企业近似")
    assert [t["element_id"] for t in case["tasks"]] == ["pickup"]
    case = hall.pickup(actor(hall, "pickup1"), case["id"])
    assert [o["status"] for o in case["outcomes"]] == ["rejected"] + ["not_handled"] * 4
    assert case["certificates"] == []


def test_restaurant_joint_inspection_then_permits(hall):
    case = hall.apply(actor(hall, "front"), "b_restaurant", COMPANY,
                      dict(FIELDS, registered_capital=50, food_categories=["热食类"], sign_text="梅山味道"),
                      provided=["id_card", "articles", "lease", "licence", "layout", "safety_rules", "sign_design"])
    case = hall.review(actor(hall, "market1"), case["tasks"][0]["id"], "approve", "准予")
    insp = {t["element_id"]: t for t in case["tasks"]}
    assert set(insp) == {"inspect_market", "inspect_urban"}
    assert insp["inspect_market"]["group"] == "market" and insp["inspect_urban"]["group"] == "urban"
    hall.sv.complete(actor(hall, "market1"), insp["inspect_market"]["id"], {"passed": True, "findings": "布局合理"})
    hall.sv.complete(actor(hall, "urban1"), insp["inspect_urban"]["id"], {"passed": True, "findings": "招牌位置可行"})
    case = hall.view(case["id"])
    assert sorted(t["process_id"] for t in case["tasks"]) == ["rv_food_permit", "rv_signboard"]
    results = hall.results(case["id"])
    assert results["b_restaurant"]["inspect_market"]["passed"] and results["b_restaurant"]["inspect_urban"]["passed"]
    case = decide_all(hall, case["id"], {"signboard": "reject"})
    case = hall.pickup(actor(hall, "pickup1"), case["id"])
    assert {o["matter"]: o["status"] for o in case["outcomes"]} == {"company_reg": "approved", "food_permit": "approved",
                                                                  "signboard": "rejected"}


def test_house_transfer_chain(hall):
    case = hall.apply(actor(hall, "front"), "b_house", PERSON, dict(HOUSE, price=180),
                      provided=["sale_contract", "deed", "tax_paid"])
    assert [t["process_id"] for t in case["tasks"]] == ["rv_contract_filing"]
    case = hall.review(actor(hall, "housing1"), case["tasks"][0]["id"], "approve", "备案")
    assert sorted(t["process_id"] for t in case["tasks"]) == ["rv_deed_tax", "rv_estate_transfer"]
    for t in case["tasks"]:
        case = hall.review(actor(hall, f"{t['group']}1"), t["id"], "approve", "同意")
    assert sorted(t["process_id"] for t in case["tasks"]) == ["rv_gas_transfer", "rv_power_transfer", "rv_water_transfer"]
    case = decide_all(hall, case["id"], {})
    case = hall.pickup(actor(hall, "pickup1"), case["id"])
    assert all(o["status"] == "approved" for o in case["outcomes"]) and len(case["certificates"]) == 6


@pytest.mark.parametrize("permits", [[], ["food_permit"], ["food_permit", "hygiene_permit", "signboard"]])
def test_joint_approval_applicant_chosen_permits(hall, permits):
    data = dict(FIELDS, registered_capital=10, permits=permits)
    if "food_permit" in permits:
        data["food_categories"] = ["糕点类"]
    if "signboard" in permits:
        data["sign_text"] = "梅山"
    case = hall.apply(actor(hall, "front"), "b_joint", COMPANY, data,
                      provided=["id_card", "articles", "lease", "licence", "layout", "safety_rules", "sign_design",
                                "hygiene_staff", "hygiene_rules"])
    case = hall.review(actor(hall, "market1"), case["tasks"][0]["id"], "approve", "准予")
    assert sorted(t["process_id"] for t in case["tasks"] if t["element_id"] == "review") == sorted(f"rv_{p}" for p in permits)
    case = decide_all(hall, case["id"], {"hygiene_permit": "reject"})
    case = hall.pickup(actor(hall, "pickup1"), case["id"])
    expected = {"company_reg": "approved", **{p: "rejected" if p == "hygiene_permit" else "approved" for p in permits}}
    assert {o["matter"]: o["status"] for o in case["outcomes"]} == expected


def test_joint_approval_materials_follow_the_choice(hall):
    front = actor(hall, "front")
    case = hall.apply(front, "b_joint", COMPANY, dict(FIELDS, registered_capital=10, permits=[]),
                      provided=["id_card", "articles", "lease"])
    assert "notice" not in case  # no permit chosen: their materials are not asked for
    case = hall.apply(front, "b_joint", COMPANY, dict(FIELDS, registered_capital=10, permits=["signboard"], sign_text="x"),
                      provided=["id_card", "articles", "lease"])
    assert case["notice"]["missing"] == ["招牌设计效果图"]  # the licence comes from the chain itself (一链办理)


@pytest.mark.parametrize("items", [["construction_permit"], ["construction_permit", "quality_safety", "fire_design"]])
def test_construction_stage_one_or_several_reviewed_jointly(hall, items):
    data = dict({k: FIELDS[k] for k in ("company_name", "address", "contact_name", "contact_phone")},
                project_code="2026-330206-47-01-000001", project_name="梅山综合楼", items=items)
    case = hall.apply(actor(hall, "front"), "b_build", COMPANY, data,
                      provided=["licence", "land_title", "drawings_review", "funds_proof", "supervision_contract",
                                "fire_drawings"])
    assert sorted(t["process_id"] for t in case["tasks"] if t["element_id"] == "review") == sorted(f"rv_{i}" for i in items)
    case = decide_all(hall, case["id"], {})
    case = hall.pickup(actor(hall, "pickup1"), case["id"])
    assert [o["matter"] for o in case["outcomes"]] == items and len(case["certificates"]) == len(items)


def test_construction_stage_needs_at_least_one_item(hall):
    with pytest.raises(Invalid):
        hall.apply(actor(hall, "front"), "b_build", COMPANY, {"items": []}, provided=[])


def test_newborn_bundle(hall):
    parent = {"type": "person", "name": "赵六", "id_number": "330206199202020033"}
    data = {"id_number": parent["id_number"], "baby_name": "赵小宝", "contact_phone": "13700000000"}
    case = hall.apply(actor(hall, "front"), "b_newborn", parent, data, deferred=["photo"])
    assert "notice" not in case and [m["id"] for m in case["owed"]] == ["photo"]
    case = hall.review(actor(hall, "health1"), [t for t in case["tasks"] if t["element_id"] == "review"][0]["id"],
                       "approve", "签发")
    assert sorted(t["process_id"] for t in case["tasks"] if t["element_id"] == "review") == [
        "rv_hukou_birth", "rv_medins_enrol", "rv_social_card"]
    case = decide_all(hall, case["id"], {})
    case = hall.supplement(actor(hall, "front"), case["id"], ["photo"])
    case = hall.pickup(actor(hall, "pickup1"), case["id"], method="express", tracking_no="SF9")
    assert len(case["certificates"]) == 4 and case["visits"] == 1


# ---------------------------------------------------------------- 秒批
UNEMP = {"id_number": "330206198808080044", "contact_phone": "13600000000", "insured_months": 30,
         "leaving_reason": "contract_ended", "job_registered": True}


def test_instant_approval_by_rules_with_no_person(hall):
    p = {"type": "person", "name": "钱七", "id_number": UNEMP["id_number"]}
    case = hall.apply(actor(hall, "nobody"), "m_unemp_benefit", p, UNEMP, channel="online")
    assert case["status"] == "completed" and case["visits"] == 0
    assert case["outcomes"][0]["status"] == "approved" and case["certificates"][0]["type"] == "unemp_benefit"
    assert not any(e["type"] == "task_completed" for e in hall.sv.events(case["id"]))
    case = hall.apply(actor(hall, "nobody"), "m_unemp_benefit", p, dict(UNEMP, insured_months=6), channel="online")
    assert case["status"] == "completed" and case["outcomes"][0]["status"] == "rejected"
    assert "缴费不满一年" in case["outcomes"][0]["opinion"]


def test_instant_approval_falls_back_to_a_person(hall):
    p = {"type": "person", "name": "孙八", "id_number": UNEMP["id_number"]}
    case = hall.apply(actor(hall, "nobody"), "m_unemp_benefit", p, dict(UNEMP, leaving_reason="other"),
                      channel="online", provided=["separation"])
    assert case["status"] == "running" and case["tasks"][0]["group"] == "social"
    case = hall.review(actor(hall, "social1"), case["tasks"][0]["id"], "approve", "经核实属非本人意愿中断就业")
    assert case["status"] == "completed" and case["outcomes"][0]["status"] == "approved" and case["certificates"]


def test_online_application_with_missing_materials_is_not_submitted(hall):
    p = {"type": "person", "name": "孙八"}
    data = dict(UNEMP, leaving_reason="other")
    data.pop("id_number")
    with pytest.raises(Invalid, match="一次性告知书"):
        hall.apply(actor(hall, "nobody"), "m_unemp_benefit", p, dict(data, id_number="330206198808080044"),
                   channel="online")


# ---------------------------------------------------------------- data sharing and visits
def test_second_application_needs_fewer_materials(hall):
    front = actor(hall, "front")
    before = hall.prepare("m_food_permit", COMPANY)
    assert {m["id"] for m in before["materials"] if m["status"] == "needed"} == {"licence", "lease", "layout", "safety_rules"}
    reg = {k: FIELDS[k] for k in ("company_name", "address", "contact_name", "contact_phone", "id_number")}
    case = hall.apply(front, "m_company_reg", COMPANY, dict(reg, registered_capital=100),
                      provided=["articles", "lease"])
    assert "notice" not in case  # id card: 免提交 via the population record
    decide_all(hall, case["id"], {})
    hall.pickup(actor(hall, "pickup1"), case["id"], method="express", tracking_no="SF1")
    after = hall.prepare("m_food_permit", COMPANY)
    shared = {m["id"]: m["source"] for m in after["materials"] if m["status"] == "shared"}
    assert shared == {"licence": "cert:business_licence", "lease": "case:lease"}
    assert after["prefill"]["company_name"] == FIELDS["company_name"] and "id_number" not in after["prefill"]
    case = hall.apply(front, "m_food_permit", COMPANY, {"food_categories": ["热食类"]},
                      provided=["layout", "safety_rules"])
    assert "notice" not in case and case["tasks"][0]["element_id"] == "review"
    data = hall.start_data(case["id"])
    assert data["materials"] == {"licence": "shared", "lease": "shared", "layout": "provided", "safety_rules": "provided"}
    assert data["address"] == FIELDS["address"]


def test_visit_share(hall):
    front = actor(hall, "front")
    seal = {k: FIELDS[k] for k in ("company_name", "address", "contact_name", "contact_phone")}
    hall.on_spot(front, "m_seal", COMPANY, seal, provided=["licence", "id_card"])
    case = hall.apply(front, "m_signboard", COMPANY, dict(seal, sign_text="x"), provided=["licence", "sign_design"])
    decide_all(hall, case["id"], {})
    hall.pickup(actor(hall, "pickup1"), case["id"], method="window")
    assert hall.visit_stats() == {"cases": 2, "at_most_one_visit": 1, "share": 0.5}


def test_pickup_and_its_certificates_commit_together_or_not_at_all(hall, monkeypatch):
    """One user action is one transaction: if sealing the certificate fails, the pickup did not happen."""
    front, pickup = actor(hall, "front"), actor(hall, "pickup1")
    case = hall.apply(front, "m_food_permit", COMPANY, fit("f_food_permit", dict(FIELDS, food_categories=["热食类"])),
                      provided=full(hall, "m_food_permit"))
    case = decide_all(hall, case["id"], {})
    events_before = hall.sv.events(case["id"])

    def broken_seal(*args, **kwargs):
        raise RuntimeError("seal device offline")

    monkeypatch.setattr(hall.certs, "issue", broken_seal)
    with pytest.raises(RuntimeError):
        hall.pickup(pickup, case["id"], method="window")
    after = hall.view(case["id"])
    assert [t["element_id"] for t in after["tasks"]] == ["pickup"] and after["visits"] == 1
    assert after["status"] == "running" and hall.sv.events(case["id"]) == events_before
    monkeypatch.undo()
    done = hall.pickup(pickup, case["id"], method="window")
    assert done["status"] == "completed" and [c["type"] for c in done["certificates"]] == ["food_permit"]
