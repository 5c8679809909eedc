"""限时办结 · 超时默认 · 催办 · 事后核查: clocks on cases and tasks, pauses, and the review timers — on an injectable clock
(tests move it; nothing sleeps), each case verified by replay afterwards."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.audit.verify import case_ids, verify_ids
from engine.errors import Conflict, Forbidden, Invalid
from engine.runtime.timers import fire_due
from engine.supervision import notices
from engine.supervision.acts import TimeActs
from tests.test_timers import Clock
from tests.walk import COMPANY, FIELDS, HOUSE, PERSON, Hall, add_hall_users, fit

MONDAY = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 in Beijing; November 2026 has no holiday


def at(day: int, hour: int = 10) -> datetime:
    """A time in November 2026, Beijing."""
    return datetime(2026, 11, day, hour - 8, 0, tzinfo=timezone.utc)


def end_of(day: int, month: int = 11) -> str:
    return datetime(2026, month, day, 15, 59, 59, tzinfo=timezone.utc).isoformat()


@pytest.fixture
def hall(services):
    add_hall_users(services)
    services.clock = Clock(MONDAY)
    h = Hall(services)
    h.clock = services.clock
    yield h
    failed = [f.line() for f in verify_ids(services, case_ids(services)) if not f.ok]
    assert failed == [], failed  # every case with pauses, timers and deemed approvals replays


def food(categories=("热食类",)) -> dict:
    return fit("f_food_permit", dict(FIELDS, food_categories=list(categories)))


def test_a_case_is_due_the_promised_working_days_after_acceptance_with_the_statutory_date_beside(hall):
    case = hall.view(hall.apply("m_food_permit", COMPANY, food(), provided=hall.full("m_food_permit"))["id"])
    # promised 5 working days from Monday Nov 2: Monday Nov 9; statutory 20: Monday Nov 30
    assert case["due"] == end_of(9) and case["statutory_due"] == end_of(30) and case["timeliness"] == "normal"
    review = hall.task(case, "review")
    assert review["due"] == end_of(5) and review["timeliness"] == "normal"  # level 1 of 3: 5 - 2 = 3 working days
    hall.clock.at = at(9, 9)   # within the last fifth of the time
    assert hall.view(case["id"])["timeliness"] == "warning"
    hall.clock.at = at(10, 9)
    view = hall.view(case["id"])
    assert view["timeliness"] == "overdue" and hall.task(view, "review")["timeliness"] == "overdue"
    assert view["clock"]["promised_days"] == 5 and view["clock"]["statutory_days"] == 20


def test_correction_stops_the_clock_and_its_working_days_extend_the_limits(hall):
    case = hall.apply("m_signboard", COMPANY, fit("f_signboard", dict(FIELDS, sign_text="梅山味道")),
                      provided=hall.full("m_signboard"))
    assert hall.view(case["id"])["due"] == end_of(5)  # promised 3 working days
    hall.clock.at = at(3)
    case = hall.act(hall.task(case, "review"), {"decision": "correct", "opinion": "补正", "corrections": ["效果图"]})
    case = hall.view(case["id"])
    assert case["timeliness"] == "paused" and case["clock"]["pause_kind"] == "correction"
    hall.clock.at = at(6)  # Friday: Wed, Thu, Fri stood still
    case = hall.view(hall.act(hall.task(case, "correction"), {"supplied": ["sign_design"]})["id"])
    assert case["timeliness"] == "normal" and case["clock"]["paused_workdays"] == 3
    assert case["due"] == end_of(10) and case["statutory_due"] == datetime(2026, 12, 3, 15, 59, 59,
                                                                         tzinfo=timezone.utc).isoformat()
    types = [e["type"] for e in hall.sv.events(case["id"])]
    assert types.count("clock_paused") == 1 and types.count("clock_resumed") == 1


def test_a_special_procedure_holds_the_deemed_approval_and_gives_its_days_back(hall):
    case = hall.apply("m_water_transfer", PERSON, fit("f_water_transfer", HOUSE), provided=hall.full("m_water_transfer"))
    acts = TimeActs(hall.sv)
    review = hall.task(case, "review")
    assert review["due"] == end_of(3)  # one working day
    with pytest.raises(Forbidden):
        acts.start_procedure(hall.actor("market1"), case["id"], "testing", "水表检测")  # not a holder of the case
    with pytest.raises(Invalid) as err:
        acts.start_procedure(hall.actor("water1"), case["id"], "lottery", "x")
    assert set(err.value.fields) == {"kind"}
    view = acts.start_procedure(hall.actor("water1"), case["id"], "testing", "水表检测")
    assert view["timeliness"] == "paused"
    with pytest.raises(Conflict):
        acts.start_procedure(hall.actor("water1"), case["id"], "testing", "again")
    hall.clock.at = at(10)  # the deemed-approval timer would be due, but the case is in a 特别程序
    assert fire_due(hall.sv) == 0
    view = acts.end_procedure(hall.actor("water1"), case["id"], "testing", "检测合格")
    assert view["clock"]["paused_workdays"] == 6 and view["timeliness"] == "warning"  # Tue Nov 3 .. Tue Nov 10
    assert view["due"] == end_of(11) and hall.task(view, "review")["due"] == end_of(11)
    assert fire_due(hall.sv) == 0  # the timer moved with the days given back
    with pytest.raises(Conflict):
        acts.end_procedure(hall.actor("water1"), case["id"], "testing", "twice")


def test_a_review_not_decided_in_time_is_deemed_approved_and_sealed_automatically(hall):
    case = hall.apply("m_water_transfer", PERSON, fit("f_water_transfer", HOUSE), provided=hall.full("m_water_transfer"))
    hall.clock.at = at(3, 23)  # before 23:59:59 of the first working day after acceptance
    assert fire_due(hall.sv) == 0
    hall.clock.at = at(4, 9)
    assert fire_due(hall.sv) == 1
    case = hall.view(case["id"])
    [outcome] = case["outcomes"]
    assert outcome["status"] == "approved" and outcome["source"] == "deemed" and "超时默认" in outcome["opinion"]
    assert [c["type"] for c in case["certificates"]] == ["water_account"]
    events = hall.sv.events(case["id"])
    deemed = next(e for e in events if e["type"] == "deemed_approved")
    assert deemed["payload"] == {"member": "water_transfer", "level": 1, "levels": 1, "final": True,
                                 "element": "deem_review"}
    issued = next(e for e in events if e["type"] == "certificate_issued")
    assert issued["payload"]["seal"] == "auto" and issued["seq"] > deemed["seq"]
    assert [n["kind"] for n in notices.for_case(hall.sv, case["id"])] == ["deemed"]
    assert [t["rule"] for t in case["tasks"]] == ["pickup"]
    case = hall.view(hall.pickup(case, "express", "SF9")["id"])
    assert case["status"] == "completed" and case["clock"]["on_time"] is False  # the department did not act


def test_deemed_members_of_a_bundle_decide_its_gateways_and_the_case_goes_on(hall):
    utilities = {"water_transfer", "power_transfer", "gas_transfer"}
    case = hall.apply("b_house", PERSON, fit("b_house", dict(HOUSE, price=100)), provided=hall.full("b_house"))
    for _ in range(20):  # people decide everything but the utilities
        reviews = [t for t in hall.open(case, "review") if t["process_id"][3:] not in utilities]
        if not reviews:
            break
        case = hall.act(reviews[0], {"decision": "approve", "opinion": "同意"})
    assert {t["process_id"][3:] for t in hall.open(case, "review")} == utilities
    hall.clock.move(days=30)
    assert fire_due(hall.sv) == 3
    case = hall.view(case["id"])
    assert {o["matter"]: o["source"] for o in case["outcomes"] if o["matter"] in utilities} == dict.fromkeys(
        utilities, "deemed")
    assert all(o["status"] == "approved" for o in case["outcomes"])
    assert [t["rule"] for t in case["tasks"]] == ["pickup"]  # the bundle's gateway read the deemed decisions
    sealed = [e["payload"]["matter"] for e in hall.sv.events(case["id"])
              if e["type"] == "certificate_issued" and e["payload"].get("seal") == "auto"]
    assert sorted(sealed) == sorted(utilities)


def test_a_reminder_goes_to_the_group_at_warning_then_the_review_goes_on(hall):
    case = hall.apply("m_food_permit", COMPANY, food(), provided=hall.full("m_food_permit"))
    hall.clock.at = at(4, 18)
    assert fire_due(hall.sv) == 0
    hall.clock.at = at(5, 9)  # two working days after acceptance: 3 - 1 (a fifth of 3, at least one)
    assert fire_due(hall.sv) == 1
    case = hall.view(case["id"])
    assert [t["rule"] for t in case["tasks"]] == ["review"]  # non-interrupting: the review is still open
    sent = [e for e in hall.sv.events(case["id"]) if e["type"] == "reminder_sent"]
    assert sent[0]["payload"]["group"] == "market" and sent[0]["payload"]["task"] == "review"
    [note] = notices.notices_for(hall.sv, hall.actor("market1"))
    assert note["kind"] == "remind" and case["number"] in note["text"] and note["group"] == "market"
    assert notices.notices_for(hall.sv, hall.actor("tax1")) == []
    case = hall.decide_all(case["id"])
    assert case["outcomes"][0]["status"] == "approved"


def test_the_post_check_opens_the_configured_working_days_after_a_commitment(hall):
    case = hall.apply("m_food_permit", COMPANY, food(), provided=["licence", "lease"],
                      commitments=["layout", "safety_rules"])
    case = hall.pickup(case, "express", "SF1")
    hall.clock.at = at(16, 9)  # the 10th working day after Monday Nov 2 ends on Monday Nov 16
    assert fire_due(hall.sv) == 0
    hall.clock.at = at(17, 0 + 8)
    assert fire_due(hall.sv) == 1
    assert [t["rule"] for t in hall.view(case["id"])["tasks"]] == ["post_check"]


def test_urging_a_case_notifies_the_groups_holding_it(hall):
    case = hall.apply("m_food_permit", COMPANY, food(), provided=hall.full("m_food_permit"))
    acts = TimeActs(hall.sv)
    with pytest.raises(Forbidden):
        acts.urge(hall.actor("market1"), case["id"], "快点")
    with pytest.raises(Invalid) as err:
        acts.urge(hall.actor("super1"), case["id"], " ")
    assert set(err.value.fields) == {"text"}
    acts.urge(hall.actor("super1"), case["number"], "请于今日办结")
    [note] = notices.notices_for(hall.sv, hall.actor("market1"))
    assert note["kind"] == "urge" and "请于今日办结" in note["text"] and note["by"] == "super1"
    assert [e["type"] for e in hall.sv.events(case["id"])][-1] == "case_urged"
