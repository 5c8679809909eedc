"""The one-window rules (engine.window) on every bundle and matter kind of the catalogue, through the one action
path of the service layer: start_case (with the window's verdict) and complete (every task, by its rule)."""
from __future__ import annotations

import pytest

from engine.errors import Forbidden, Invalid
from tests.walk import COMPANY, FIELDS, HOUSE, PERSON, Hall, add_hall_users, fit


@pytest.fixture
def hall(services):
    add_hall_users(services)
    return Hall(services)


def food(categories=("热食类",)) -> dict:
    return fit("f_food_permit", dict(FIELDS, food_categories=list(categories)))


# ---------------------------------------------------------------- intake
def test_one_notice_lists_everything_missing_and_nothing_starts(hall):
    case = hall.apply("m_food_permit", COMPANY, food(), provided=["lease"], deferred=["layout"])
    assert case["status"] == "completed" and case["tasks"] == []
    notice = case["notice"]
    assert notice["kind"] == "一次性告知"
    assert notice["missing"] == ["营业执照", "经营场所平面布局图（不可容缺）", "食品安全管理制度"]
    assert "一次性告知书" in notice["text"] and "3. 食品安全管理制度" in notice["text"]
    assert [o["status"] for o in case["outcomes"]] == ["refused_at_intake"]
    events = hall.sv.events(case["id"])
    assert [e["type"] for e in events].count("intake_refused") == 1
    assert not any(e["element_id"] == "review" for e in events)
    assert case["certificates"] == []


def test_refusal_with_reason(hall):
    case = hall.apply("m_signboard", COMPANY, fit("f_signboard", dict(FIELDS, sign_text="梅山味道")), accepted=False,
                      reason="招牌位于历史文化街区禁设区域，不属于可审批范围")
    assert case["status"] == "completed" and case["notice"]["kind"] == "不予受理"
    ev = [e for e in hall.sv.events(case["id"]) if e["type"] == "intake_refused"][0]
    assert "禁设区域" in ev["payload"]["reason"]
    with pytest.raises(Invalid) as err:
        hall.apply("m_signboard", COMPANY, fit("f_signboard", dict(FIELDS, sign_text="x")), accepted=False, reason=" ")
    assert "reason" in err.value.fields


def test_deferred_and_commitment_together_are_refused_and_leave_no_case(hall):
    from engine.db import Case
    from sqlalchemy import func, select

    with pytest.raises(Invalid, match="容缺受理与告知承诺"):
        hall.apply("m_food_permit", COMPANY, food(), provided=["licence"], deferred=["lease"],
                   commitments=["layout", "safety_rules"])
    with hall.sv.uow() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


# ---------------------------------------------------------------- 容缺 + 补齐
def test_deferred_material_blocks_pickup_and_certificates_until_supplied(hall):
    case = hall.apply("m_food_permit", COMPANY, food(), provided=["licence", "layout", "safety_rules"],
                      deferred=["lease"])
    assert {t["rule"] for t in case["tasks"]} == {"review", "supply"}  # the review goes on meanwhile
    assert [m["id"] for m in case["owed"]] == ["lease"]
    case = hall.decide_all(case["id"])
    assert case["outcomes"][0]["status"] == "approved" and case["outcomes"][0]["level"] == 3
    assert case["certificates"] == [] and not hall.open(case, "pickup")  # owed: no certificate, no pickup
    supply = hall.task(case, "supply")
    before = hall.sv.events(case["id"])
    with pytest.raises(Invalid) as err:
        hall.act(supply, {"supplied": []})
    assert "经营场所使用证明" in err.value.message and hall.sv.events(case["id"]) == before
    case = hall.act(supply, {"supplied": ["lease"]})
    assert case["owed"] == [] and [c["type"] for c in case["certificates"]] == ["food_permit"]
    case = hall.pickup(case, "window")
    assert case["status"] == "completed" and case["visits"] == 2


# ---------------------------------------------------------------- 告知承诺 + 事后核查
def after_post_check_wait(hall, case) -> dict:
    """The post-check opens the guide's `post_check_days` working days after the commitment was approved."""
    from datetime import datetime, timedelta, timezone

    from engine.runtime.timers import fire_due

    assert fire_due(hall.sv, now=datetime.now(timezone.utc) + timedelta(days=3)) == 0  # not yet
    assert fire_due(hall.sv, now=datetime.now(timezone.utc) + timedelta(days=40)) == 1
    return hall.view(case["id"])


def test_commitment_approves_at_once_then_a_violation_revokes(hall):
    case = hall.apply("m_food_permit", COMPANY, food(["冷食类"]), provided=["licence", "lease"],
                      commitments=["layout", "safety_rules"])
    assert [t["rule"] for t in case["tasks"]] == ["pickup"]  # no review: approved at once
    assert case["outcomes"][0]["status"] == "approved" and case["outcomes"][0]["source"] == "commitment"
    assert len(case["certificates"]) == 1
    case = hall.pickup(case, "express", "SF100")
    assert case["visits"] == 1 and case["tasks"] == []  # 事后核查 waits its working days (a timer)
    case = after_post_check_wait(hall, case)
    check = hall.task(case, "post_check")
    assert check["group"] == "market" and case["status"] == "running"
    case = hall.act(check, {"result": "violation", "remark": "现场无冷食专间"})
    cert = case["certificates"][0]
    assert case["status"] == "completed" and cert["status"] == "revoked" and "现场无冷食专间" in cert["revoke_reason"]
    revoked = [e for e in hall.sv.events(case["id"]) if e["type"] == "certificate_revoked"]
    assert len(revoked) == 1 and "告知承诺不实" in revoked[0]["payload"]["reason"]


def test_commitment_post_check_ok_keeps_the_certificate(hall):
    case = hall.apply("m_food_permit", COMPANY, food(["冷食类"]), provided=["licence", "lease"],
                      commitments=["layout", "safety_rules"])
    case = after_post_check_wait(hall, hall.pickup(case, "express", "SF101"))
    case = hall.act(hall.task(case, "post_check"), {"result": "ok", "remark": "承诺属实"})
    assert case["status"] == "completed" and case["certificates"][0]["status"] == "valid"


# ---------------------------------------------------------------- 即办
def test_on_the_spot_matter_ends_at_the_window(hall):
    case = hall.apply("m_seal", COMPANY, fit("f_seal", FIELDS), provided=["licence", "id_card"])
    onsite = hall.task(case, "on_spot")
    assert onsite["group"] == "front_desk"
    case = hall.act(onsite, {"decision": "approve", "opinion": "材料齐全，当场办结"}, who="front")
    assert case["status"] == "completed" and case["visits"] == 1 and case["tasks"] == []
    assert case["outcomes"][0]["status"] == "approved" and case["certificates"][0]["type"] == "seal_filing"


# ---------------------------------------------------------------- 补正
def test_correction_once_then_the_review_resumes(hall):
    case = hall.apply("m_signboard", COMPANY, fit("f_signboard", dict(FIELDS, sign_text="梅山味道")),
                      provided=["licence", "sign_design"])
    review = hall.task(case, "review")
    case = hall.act(review, {"decision": "correct", "opinion": "效果图尺寸不清", "corrections": ["标注尺寸的效果图"]})
    correction = hall.task(case, "correction")
    assert correction["group"] == "front_desk"
    case = hall.act(correction, {"supplied": ["sign_design"], "remark": "已补标注尺寸"}, who="front")
    review = hall.task(case, "review")
    with pytest.raises(Invalid, match="补正只能退回一次") as err:
        hall.act(review, {"decision": "correct", "opinion": "再补", "corrections": ["x"]})
    assert "decision" in err.value.fields
    case = hall.decide_all(case["id"])
    assert hall.open(case, "pickup") and case["outcomes"][0]["status"] == "approved"


# ---------------------------------------------------------------- levels
def test_upper_level_may_return_the_member_to_the_level_below(hall):
    case = hall.apply("m_signboard", COMPANY, fit("f_signboard", dict(FIELDS, sign_text="梅山味道")),
                      provided=["licence", "sign_design"])
    case = hall.act(hall.task(case, "review"), {"decision": "approve", "opinion": "承办同意"})
    check = hall.task(case, "review", "review_check")
    assert check["group"] == "urban_lead"
    case = hall.act(check, {"decision": "return", "opinion": "请核实设置位置"})
    assert hall.task(case, "review")["element_id"] == "review"
    with pytest.raises(Invalid) as err:  # the first level has no level below
        hall.act(hall.task(case, "review"), {"decision": "return", "opinion": "x"}, who="urban1")
    assert "decision" in err.value.fields


def test_a_rejection_at_an_upper_level_is_final(hall):
    case = hall.apply("m_signboard", COMPANY, fit("f_signboard", dict(FIELDS, sign_text="梅山味道")),
                      provided=["licence", "sign_design"])
    case = hall.act(hall.task(case, "review"), {"decision": "approve", "opinion": "承办同意"})
    case = hall.act(hall.task(case, "review"), {"decision": "reject", "opinion": "位置遮挡消防通道"})
    assert [t["rule"] for t in case["tasks"]] == ["pickup"]
    out = case["outcomes"][0]
    assert out["status"] == "rejected" and out["level"] == 2 and "消防通道" in out["notice"]
    assert case["certificates"] == []


def test_separation_of_duties_across_levels(hall):
    hall.sv.add_user("urban_both", "pw", ["urban", "urban_lead"])
    case = hall.apply("m_signboard", COMPANY, fit("f_signboard", dict(FIELDS, sign_text="梅山味道")),
                      provided=["licence", "sign_design"])
    case = hall.act(hall.task(case, "review"), {"decision": "approve", "opinion": "承办同意"}, who="urban_both")
    with pytest.raises(Forbidden, match="职责分离"):
        hall.act(hall.task(case, "review"), {"decision": "approve", "opinion": "审核同意"}, who="urban_both")


# ---------------------------------------------------------------- bundles
def start_up(hall):
    return hall.apply("b_start_up", COMPANY, dict(FIELDS, registered_capital=100),
                      provided=["id_card", "articles", "lease", "licence"])


def test_start_up_registration_first_then_four_in_parallel_one_refusal_keeps_others(hall):
    case = start_up(hall)
    assert [t["process_id"] for t in case["tasks"]] == ["rv_company_reg"]
    case = hall.act(hall.task(case, "review"), {"decision": "approve", "opinion": "准予登记"})
    case = hall.act(hall.task(case, "review"), {"decision": "approve", "opinion": "审核同意"})  # 一审一核
    assert [c["type"] for c in case["certificates"]] == ["business_licence"]  # issued on the decision
    assert sorted(t["process_id"] for t in case["tasks"]) == ["rv_fund_reg", "rv_seal", "rv_social_reg", "rv_tax_invoice"]
    case = hall.decide_all(case["id"], {"tax_invoice": "reject"})
    case = hall.pickup(case, "express", "EMS1")
    status = {o["matter"]: o["status"] for o in case["outcomes"]}
    assert status == {"company_reg": "approved", "seal": "approved", "tax_invoice": "rejected",
                      "social_reg": "approved", "fund_reg": "approved"}
    assert sorted(c["matter"] for c in case["certificates"]) == ["company_reg", "fund_reg", "seal", "social_reg"]
    notice = [o for o in case["outcomes"] if o["status"] == "rejected"][0]["notice"]
    assert notice.startswith("不予许可决定书") and "tax_invoice 审查意见" in notice
    assert case["visits"] == 1 and case["status"] == "completed"


def test_start_up_refused_registration_skips_the_rest(hall):
    case = start_up(hall)
    case = hall.act(hall.task(case, "review"), {"decision": "reject", "opinion": "名称与已登记企业近似"})
    assert [t["rule"] for t in case["tasks"]] == ["pickup"]
    case = hall.pickup(case)
    assert [o["status"] for o in case["outcomes"]] == ["rejected"] + ["not_handled"] * 4
    assert case["certificates"] == []


def restaurant(hall):
    case = hall.apply("b_restaurant", COMPANY, dict(FIELDS, registered_capital=50, food_categories=["热食类"],
                                                    sign_text="梅山味道"),
                      provided=["id_card", "articles", "lease", "licence", "layout", "safety_rules", "sign_design"])
    case = hall.decide_all(case["id"])  # 营业执照 first (two levels)
    insp = {t["element_id"]: t for t in hall.open(case, "inspection")}
    assert set(insp) == {"inspect_market", "inspect_urban"}
    assert insp["inspect_market"]["group"] == "market" and insp["inspect_urban"]["group"] == "urban"
    return case, insp


def test_restaurant_joint_inspection_then_permits(hall):
    case, insp = restaurant(hall)
    hall.act(insp["inspect_market"], {"passed": True, "findings": "布局合理"})
    case = hall.act(insp["inspect_urban"], {"passed": True, "findings": "招牌位置可行"})
    assert sorted(t["process_id"] for t in hall.open(case, "review")) == ["rv_food_permit", "rv_signboard"]
    case = hall.decide_all(case["id"], {"signboard": "reject"})
    case = hall.pickup(case)
    assert {o["matter"]: o["status"] for o in case["outcomes"]} == {"company_reg": "approved", "food_permit": "approved",
                                                                  "signboard": "rejected"}


def test_a_failed_joint_inspection_ends_the_permits_with_the_inspectors_findings(hall):
    case, insp = restaurant(hall)
    hall.act(insp["inspect_market"], {"passed": False, "findings": "后厨无防蝇设施"})
    case = hall.act(insp["inspect_urban"], {"passed": False, "findings": "招牌占用人行道"})
    assert [t["rule"] for t in case["tasks"]] == ["pickup"]  # the permits are not reviewed
    out = {o["matter"]: o for o in case["outcomes"]}
    assert out["company_reg"]["status"] == "approved"
    for m in ("food_permit", "signboard"):
        assert out[m]["status"] == "rejected" and out[m]["source"] == "inspection"
        assert "后厨无防蝇设施" in out[m]["opinion"] and "招牌占用人行道" in out[m]["opinion"]
    assert sorted(c["matter"] for c in case["certificates"]) == ["company_reg"]


def test_house_transfer_chain(hall):
    case = hall.apply("b_house", PERSON, dict(HOUSE, price=180), provided=["sale_contract", "deed", "tax_paid"])
    assert [t["process_id"] for t in case["tasks"]] == ["rv_contract_filing"]
    case = hall.act(hall.task(case, "review"), {"decision": "approve", "opinion": "备案"})
    assert sorted(t["process_id"] for t in case["tasks"]) == ["rv_deed_tax", "rv_estate_transfer"]
    case = hall.decide_all(case["id"], {})
    case = hall.pickup(case)
    assert all(o["status"] == "approved" for o in case["outcomes"]) and len(case["certificates"]) == 6


@pytest.mark.parametrize("permits", [[], ["food_permit"], ["food_permit", "hygiene_permit", "signboard"]])
def test_joint_approval_applicant_chosen_permits(hall, permits):
    data = dict(FIELDS, registered_capital=10, permits=permits)
    if "food_permit" in permits:
        data["food_categories"] = ["糕点类"]
    if "signboard" in permits:
        data["sign_text"] = "梅山"
    case = hall.apply("b_joint", COMPANY, data, provided=["id_card", "articles", "lease", "licence", "layout",
                                                         "safety_rules", "sign_design", "hygiene_staff", "hygiene_rules"])
    case = hall.act(hall.task(case, "review"), {"decision": "approve", "opinion": "准予"})
    case = hall.act(hall.task(case, "review"), {"decision": "approve", "opinion": "审核同意"})
    assert sorted(t["process_id"] for t in hall.open(case, "review")) == sorted(f"rv_{p}" for p in permits)
    case = hall.decide_all(case["id"], {"hygiene_permit": "reject"})
    case = hall.pickup(case)
    expected = {"company_reg": "approved", **{p: "rejected" if p == "hygiene_permit" else "approved" for p in permits}}
    assert {o["matter"]: o["status"] for o in case["outcomes"]} == expected


def test_joint_approval_materials_follow_the_choice(hall):
    case = hall.apply("b_joint", COMPANY, dict(FIELDS, registered_capital=10, permits=[]),
                      provided=["id_card", "articles", "lease"])
    assert "notice" not in case  # no permit chosen: their materials are not asked for
    case = hall.apply("b_joint", COMPANY, dict(FIELDS, registered_capital=10, permits=["signboard"], sign_text="x"),
                      provided=["id_card", "articles", "lease"])
    assert case["notice"]["missing"] == ["招牌设计效果图"]  # the licence comes from the chain itself (一链办理)


@pytest.mark.parametrize("items", [["construction_permit"], ["construction_permit", "quality_safety", "fire_design"]])
def test_construction_stage_one_or_several_reviewed_jointly(hall, items):
    data = dict(fit("b_build", FIELDS), project_code="2026-330206-47-01-000001", project_name="梅山综合楼", items=items)
    case = hall.apply("b_build", COMPANY, data, provided=["licence", "land_title", "drawings_review", "funds_proof",
                                                         "supervision_contract", "fire_drawings"])
    assert sorted(t["process_id"] for t in hall.open(case, "review")) == sorted(f"rv_{i}" for i in items)
    case = hall.decide_all(case["id"])
    case = hall.pickup(case)
    assert [o["matter"] for o in case["outcomes"]] == items and len(case["certificates"]) == len(items)


def test_construction_stage_needs_at_least_one_item(hall):
    with pytest.raises(Invalid):
        hall.apply("b_build", COMPANY, {"items": []})


def test_newborn_bundle(hall):
    parent = {"type": "person", "name": "赵六", "id_number": "330206199202020031", "phone": "13700000000"}
    data = {"baby_name": "赵小宝", "insured_category": "新生儿", "card_bank": "农商银行"}  # parent's ID: the applicant
    case = hall.apply("b_newborn", parent, data, deferred=["photo"])
    assert "notice" not in case and [m["id"] for m in case["owed"]] == ["photo"]
    case = hall.act(hall.task(case, "review"), {"decision": "approve", "opinion": "签发"})
    assert sorted(t["process_id"] for t in hall.open(case, "review")) == [
        "rv_hukou_birth", "rv_medins_enrol", "rv_social_card"]
    case = hall.decide_all(case["id"])
    assert case["certificates"] == []  # the photo is owed
    case = hall.act(hall.task(case, "supply"), {"supplied": ["photo"]}, who="front")
    assert len(case["certificates"]) == 4
    case = hall.pickup(case, "express", "SF9")
    assert case["visits"] == 1 and case["status"] == "completed"


# ---------------------------------------------------------------- 秒批
UNEMP_ID = "330206198808080042"  # the applicant's, in the applicant block (not asked again in the form)
UNEMP = {"insured_months": 30, "leaving_reason": "contract_ended", "job_registered": True}


def test_instant_approval_by_rules_with_no_person(hall):
    p = {"type": "person", "name": "钱七", "id_number": UNEMP_ID}
    case = hall.apply("m_unemp_benefit", p, UNEMP, channel="online", who="citizen1")
    assert case["status"] == "completed" and case["visits"] == 0
    assert case["outcomes"][0]["status"] == "approved" and case["certificates"][0]["type"] == "unemp_benefit"
    assert not any(e["type"] == "task_completed" for e in hall.sv.events(case["id"]))
    case = hall.apply("m_unemp_benefit", p, dict(UNEMP, insured_months=6), channel="online", who="citizen1")
    assert case["status"] == "completed" and case["outcomes"][0]["status"] == "rejected"
    assert "缴费不满一年" in case["outcomes"][0]["opinion"] and case["certificates"] == []


def test_instant_approval_falls_back_to_a_person(hall):
    p = {"type": "person", "name": "孙八", "id_number": UNEMP_ID}
    case = hall.apply("m_unemp_benefit", p, dict(UNEMP, leaving_reason="other"), channel="online",
                      provided=["separation"], who="citizen1")
    assert case["status"] == "running" and case["tasks"][0]["group"] == "social"
    case = hall.act(case["tasks"][0], {"decision": "approve", "opinion": "经核实属非本人意愿中断就业"})
    assert case["status"] == "completed" and case["outcomes"][0]["status"] == "approved" and case["certificates"]


def test_online_application_with_missing_materials_is_not_submitted(hall):
    from engine.db import Case
    from sqlalchemy import func, select

    p = {"type": "person", "name": "孙八"}
    data = dict(UNEMP, leaving_reason="other")  # no employment record to share: the separation proof is missing
    with pytest.raises(Invalid, match="一次性告知书"):
        hall.apply("m_unemp_benefit", p, data, channel="online", who="citizen1")
    with hall.sv.uow() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


# ---------------------------------------------------------------- data sharing and visits
def test_second_application_needs_fewer_materials(hall):
    reg = fit("f_company_reg", dict(FIELDS, registered_capital=100))
    case = hall.apply("m_company_reg", COMPANY, reg, provided=["articles", "lease"])
    assert "notice" not in case  # id card: 免提交 via the population record
    case = hall.decide_all(case["id"])
    hall.pickup(case, "express", "SF1")
    case = hall.apply("m_food_permit", COMPANY, {"food_categories": ["热食类"]}, provided=["layout", "safety_rules"])
    assert "notice" not in case and case["tasks"][0]["rule"] == "review"
    accepted = [e for e in hall.sv.events(case["id"]) if e["type"] == "intake_accepted"][0]["payload"]
    assert accepted["materials"] == {"licence": "shared", "lease": "shared", "layout": "provided",
                                     "safety_rules": "provided"}
    licence = hall.view(case["id"] - 1)["certificates"][0]["number"]
    first = hall.view(case["id"] - 1)["number"]
    # 数据共享 names what holds the material: the certificate by number, the earlier case by its number
    assert accepted["sources"] == {"licence": f"cert:business_licence:{licence}", "lease": f"case:lease:{first}"}
    assert accepted["data"]["address"] == FIELDS["address"]  # 一次填报: filled in from the earlier application


def test_visit_share(hall):
    seal = hall.apply("m_seal", COMPANY, fit("f_seal", FIELDS), provided=["licence", "id_card"])
    hall.act(hall.task(seal, "on_spot"), {"decision": "approve", "opinion": "当场办结"}, who="front")
    case = hall.apply("m_signboard", COMPANY, fit("f_signboard", dict(FIELDS, sign_text="x")),
                      provided=["licence", "sign_design"])
    case = hall.decide_all(case["id"])
    hall.pickup(case, "window")
    from engine.readmodels import visit_stats

    assert visit_stats(hall.sv) == {"cases": 2, "at_most_one_visit": 1, "share": 0.5}


def test_a_decision_and_its_certificate_commit_together_or_not_at_all(hall, monkeypatch):
    """One user action is one transaction: if sealing the certificate fails, the approval did not happen."""
    case = hall.apply("m_social_reg", COMPANY, fit("f_social_reg", FIELDS), provided=hall.full("m_social_reg"))
    review = hall.task(case, "review")
    events_before = hall.sv.events(case["id"])

    def broken_seal(*args, **kwargs):
        raise RuntimeError("seal device offline")

    monkeypatch.setattr(hall.sv.rules.certs, "issue", broken_seal)
    with pytest.raises(RuntimeError):
        hall.act(review, {"decision": "approve", "opinion": "同意"})
    after = hall.view(case["id"])
    assert [t["id"] for t in after["tasks"]] == [review["id"]] and after["outcomes"][0]["status"] == "pending"
    assert hall.sv.events(case["id"]) == events_before
    monkeypatch.undo()
    done = hall.act(review, {"decision": "approve", "opinion": "同意"})
    assert [c["type"] for c in done["certificates"]] == ["social_reg"]


def test_no_task_is_completed_around_its_rule(hall):
    """A service layer without the rule book refuses tasks that declare a rule instead of skipping the rule."""
    from engine.errors import WorkflowFailed

    case = hall.apply("m_food_permit", COMPANY, food(), provided=["licence", "layout", "safety_rules"],
                      deferred=["lease"])
    supply = hall.task(case, "supply")
    rules, hall.sv.rules = hall.sv.rules, None
    try:
        with pytest.raises(WorkflowFailed, match="rule"):
            hall.act(supply, {"supplied": []}, who="front")
    finally:
        hall.sv.rules = rules
    assert hall.view(case["id"])["owed"] == [{"id": "lease", "name": "经营场所使用证明（租赁合同/产权证）"}]
