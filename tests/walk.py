"""Walking cases of the catalogue through the service layer as the people of a hall would (used by several tests).

Users are named after their group: `market1` acts for group `market`, `market_lead1` for `market_lead` (审核),
`market_head1` for `market_head` (审批).
"""
from __future__ import annotations

import json

from sqlalchemy import select

from engine.db import Group, Membership, User
from engine.model.catalogue import FORMS_DIR
from engine.runtime.users import hash_password

DEPARTMENTS = ["market", "tax", "police", "social", "medins", "fund", "health", "estate", "housing", "dev", "urban",
               "water", "power", "gas"]
COMPANY = {"type": "company", "name": "梅山味道餐饮有限公司", "credit_code": "91330206MA2H00001K", "phone": "13800000000"}
# a start form's fields (the applicant block carries the company's name, credit code and phone; `id_number` is the
# legal representative's, asked by 企业设立登记)
FIELDS = {"address": "梅山街道1号", "contact_name": "李四", "id_number": "330206199001010013"}
PERSON = {"type": "person", "name": "王五", "id_number": "330206198505050022", "phone": "13900000000"}
USER_OF = {"front_desk": "front", "pickup": "pickup1"}
HOUSE = {"property_address": "梅山花园3幢101室"}  # the buyer's ID and phone are in the applicant block


_HASH = hash_password("pw")  # one scrypt for every test user (each costs ~50 ms)


def add_hall_users(services) -> None:
    """A user for every department and level, plus the front desk, pickup window and an administrator."""
    wanted = [("front", ["front_desk"]), ("pickup1", ["pickup"]), ("admin", ["admin"]), ("super1", ["supervisor"]),
              ("nobody", ["visitors"]), ("citizen1", ["applicant"])]
    for g in DEPARTMENTS:
        wanted += [(f"{g}1", [g]), (f"{g}2", [g]), (f"{g}_lead1", [f"{g}_lead"]), (f"{g}_head1", [f"{g}_head"])]
    add_users(services, wanted)


def add_users(services, wanted: list[tuple[str, list[str]]]) -> None:
    """Users with password `pw`, written directly with one precomputed hash (skipping existing names)."""
    with services.uow() as s:
        have = set(s.scalars(select(User.username)).all())
        groups = set(s.scalars(select(Group.name)).all())
        for name, gs in wanted:
            if name in have:
                continue
            user = User(username=name, display_name=name, password_hash=_HASH)
            s.add(user)
            for g in gs:
                if g not in groups:
                    s.add(Group(name=g, title=g))
                    groups.add(g)
            s.flush()
            for g in gs:
                s.add(Membership(user_id=user.id, group_name=g))


RECIPIENT = {"name": "王五", "id_number": "330206198505050022", "phone": "13900000000"}


def pickup_data(method: str = "window", tracking_no: str | None = None) -> dict:
    """A pickup as the window records it: who took the results (and for express, where they went)."""
    data = {"method": method, "recipient": dict(RECIPIENT)}
    if method == "express":
        data.update(address="梅山街道1号", tracking_no=tracking_no or "SF1")
    elif tracking_no:
        data["tracking_no"] = tracking_no
    return data


def fit(form: str, data: dict) -> dict:
    """Only the fields a start form asks for (a test's data is a superset)."""
    props = json.loads((FORMS_DIR / f"{form}.json").read_text(encoding="utf-8"))["properties"]
    return {k: v for k, v in data.items() if k in props}


class Hall:
    """The service layer seen from the hall: apply at the window, act on tasks by rule, look at a case."""

    def __init__(self, services):
        self.sv = services

    def actor(self, name: str):
        return self.sv.actor(name)

    def apply(self, process_id: str, applicant: dict, data: dict, provided=(), deferred=(), commitments=(),
              accepted: bool = True, reason: str | None = None, channel: str = "window", who: str = "front") -> dict:
        materials = {**{m: "provided" for m in provided}, **{m: "deferred" for m in deferred},
                     **{m: "commitment" for m in commitments}}
        verdict = {"accepted": accepted, "materials": materials}
        if reason is not None:
            verdict["reason"] = reason
        return self.sv.start_case(self.actor(who), process_id, applicant, data, channel=channel, intake=verdict)

    def view(self, case_id: int) -> dict:
        return self.sv.case_view(case_id)

    @staticmethod
    def open(case: dict, rule: str | None = None, element: str | None = None) -> list[dict]:
        return [t for t in case["tasks"] if (rule is None or t["rule"] == rule)
                and (element is None or t["element_id"] == element)]

    def task(self, case: dict, rule: str | None = None, element: str | None = None) -> dict:
        found = self.open(case, rule, element)
        assert found, f"no open task rule={rule} element={element}; open: {[(t['element_id'], t['rule']) for t in case['tasks']]}"
        return found[0]

    def act(self, task: dict, data: dict, who: str | None = None) -> dict:
        """Complete a task as a user of its group (or `who`)."""
        return self.sv.complete(self.actor(who or USER_OF.get(task["group"], f"{task['group']}1")), task["id"], data)

    def decide_all(self, case_id: int, decisions: dict[str, str] | None = None) -> dict:
        """Let every open review be decided, level by level, by a user of its group; member -> 'approve'/'reject'
        (approve by default)."""
        decisions = decisions or {}
        case = self.view(case_id)
        while True:
            reviews = self.open(case, "review")
            if not reviews:
                return case
            t = reviews[0]
            member = t["process_id"][3:] if t["process_id"].startswith("rv_") else t["process_id"]
            case = self.act(t, {"decision": decisions.get(member, "approve"), "opinion": f"{member} 审查意见"})

    def pickup(self, case: dict, method: str = "window", tracking_no: str | None = None) -> dict:
        data = pickup_data(method, tracking_no)
        return self.act(self.task(case, "pickup"), data)

    def full(self, process_id: str) -> list[str]:
        """Every material of the guide, as provided by a first-time applicant."""
        with self.sv.uow() as s:
            guide = self.sv.guide(self.sv.latest_version(s, process_id))
        return [m["id"] for m in guide.get("materials") or []]
