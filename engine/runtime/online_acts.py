"""What the applicant of an online case does on it after applying (网上办): answer a 补正 request and bring the
容缺 materials (补齐) with uploaded files, choose how the result reaches them (窗口领取 or 快递送达), and apply again
after the front desk returned the application at 预审 with a 一次性告知.

Decided here for every front end (/api/v1/me and the /me pages):
- only applicant identities, only their own cases (another's, or a window case, is simply not found: 404);
- 补正/补齐: the answer completes the case's open `rule=correction` / `rule=supply` task through the service layer
  (Services.complete), under the very rule the front desk's answer follows (engine.window.review.CorrectionRule,
  engine.window.handover.SupplyRule); the event names the applicant as its actor, so `audit verify` replays it like
  any other completion. Who may complete such a task is decided in Services._check_may_work
  (engine.runtime.access.applicant_may_answer). The items of a 补正 answer must be among those the reviewer asked
  for. Nothing open to answer, or a task already answered, is 409.
- delivery: a row beside the case (engine.db.Delivery), changeable while the case runs and until the pickup is
  done; the pickup task's rule records it as its lookup (engine.window.handover.PickupRule), so the event holds
  what the applicant chose and a replay reads it from there.
- resubmit: a returned application (预审 一次性告知) is answered once by a NEW online case — the workflow of the
  returned one has ended, and a new case gets its own number, clocks and intake — prefilled with the earlier
  application's data, linked to it by a row (engine.db.Resubmission) written in the new case's own transaction.
"""
from __future__ import annotations

import json
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..clock import iso_utc
from ..db import Case, Delivery, Event, Resubmission
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..messages import Message
from ..model.bpmn import task_meta
from ..model.identifiers import phone_problem
from ..window import ledger as L
from ..window.outcomes import applied_for, member_infos
from . import access, store
from .applicants import applicant_block
from .hotsql import hot

RULES = {"correction": Message("补正", "correction"), "supply": Message("补齐容缺材料", "supply deferred materials")}
METHODS = ("window", "express")


def _names(guide: dict) -> dict[str, str]:
    return {m.get("id"): m.get("name") or m.get("id") for m in guide.get("materials") or [] if isinstance(m, dict)}


def _member_of(tx, item) -> str | None:
    """The member a correction task concerns: its `member` property, else the case's first member."""
    task = tx.wf.get_task_from_id(UUID(item.id))
    if task is None:
        return None
    mid = task_meta(task.task_spec).properties.get("member")
    if mid:
        return mid
    members = applied_for(tx.guide, tx.case.process_id, L.read(tx.wf))
    return members[0] if members else tx.case.process_id


def _open_acts(tx) -> list[dict]:
    """The case's open correction and supply tasks, each with what is asked (`asked`: [{key, name}])."""
    ledger, names = L.read(tx.wf), _names(tx.guide)
    infos = member_infos(tx.guide, tx.case.process_id)
    out = []
    for item in hot(tx.s).query("select_case_items", {"k_case": tx.case.id}):
        if item.rule not in RULES:
            continue
        entry = {"id": item.id, "rule": item.rule, "name": item.name, "title": str(RULES[item.rule]),
                 "due": iso_utc(item.due_at), "member": None, "member_name": None, "asked": [], "opinion": ""}
        if item.rule == "supply":
            entry["asked"] = [{"key": m, "name": names.get(m, m)} for m in L.owed(ledger)]
        else:
            mid = _member_of(tx, item)
            rec = L.member(ledger, mid) if mid else {}
            asks = rec.get("corrections") or []
            ask = asks[-1] if asks and "answered" not in asks[-1] else {}
            level1 = (rec.get("levels") or {}).get("1") or {}
            entry.update(member=mid, member_name=(infos.get(mid) or {}).get("name") or mid,
                         asked=[{"key": x, "name": x} for x in ask.get("requested") or []],
                         opinion=level1.get("opinion") or "")
        out.append(entry)
    return out


def _delivery_view(row: Delivery | None) -> dict | None:
    if row is None:
        return None
    return {"method": row.method, "name": row.name or None, "phone": row.phone or None,
            "address": row.address or None, "chosen_at": iso_utc(row.chosen_at)}


def delivery_of(s, case_id: int) -> dict | None:
    """The delivery the applicant chose for a case (None: not chosen)."""
    return _delivery_view(s.get(Delivery, case_id))


def chosen_delivery(services, case_id: int) -> dict | None:
    """The delivery the applicant chose, for the pickup window's page (which has read the case already)."""
    with services.read() as s:
        return delivery_of(s, case_id)


def _case_ref(s, case_id: int | None) -> dict | None:
    if case_id is None:
        return None
    number = s.scalar(select(Case.number).where(Case.id == case_id))
    return {"id": case_id, "number": number}


def view(services, actor, case_id: int) -> dict:
    """The applicant's part of their case page: the tasks they may answer online, the delivery chosen and whether
    it may still change, and — for an application returned at 预审 — whether and with what to apply again."""
    access.check_applicant(actor)
    with services.case_view_tx(case_id, actor) as tx:
        online = tx.case.channel == "online"
        ledger = L.read(tx.wf)
        intake = ledger.get("intake") or {}
        s = tx.s
        returned = intake.get("accepted") is False and intake.get("kind") == "一次性告知"
        again = s.scalar(select(Resubmission.case_id).where(Resubmission.of_case_id == case_id))
        of = s.scalar(select(Resubmission.of_case_id).where(Resubmission.case_id == case_id))
        out = {"tasks": _open_acts(tx) if online else [],
               "delivery": delivery_of(s, case_id),
               "may_choose_delivery": online and _may_choose(tx.case, ledger),
               "returned": returned,
               "may_resubmit": online and returned and again is None,
               "resubmitted_as": _case_ref(s, again), "resubmission_of": _case_ref(s, of),
               "prefill": None}
        if out["may_resubmit"]:
            out["prefill"] = {"data": _application_data(s, case_id),
                              "materials": {k: v for k, v in (intake.get("materials") or {}).items()
                                            if v in ("provided", "deferred", "commitment")},
                              "missing": intake.get("missing") or []}
        return out


def _may_choose(case, ledger: dict) -> bool:
    """The delivery may change while the case runs, until the result is handed out (and not after a refusal)."""
    return case.status == "running" and not ledger.get("pickup") and (ledger.get("intake") or {}).get("accepted") \
        is not False


def _application_data(s, case_id: int) -> dict:
    payload = s.scalar(select(Event.payload).where(Event.case_id == case_id, Event.type == "case_started"))
    return dict(json.loads(payload).get("data") or {}) if payload else {}


def _own_online_case(s, actor, case_id: int, act: str) -> Case:
    """The applicant's own case (404 otherwise) applied for online (403 for a case taken at a window); for an agent
    (帮办代办), one of the principal's that a valid authorisation covers for `act` (403 otherwise)."""
    case = s.get(Case, case_id)
    access.check_read(s, actor, case, act)
    if case.channel != "online":
        raise Forbidden(Message("窗口受理的办件请到窗口办理", "a case taken at a window is handled at the window"))
    return case


# ---------------------------------------------------------------- 补正 / 补齐 online
def answer(services, actor, case_id: int, rule: str, supplied: list, files: dict | None = None, remark: str = "",
           task_id: str | None = None) -> dict:
    """Answer the case's open 补正 (`rule=correction`) or 补齐 (`rule=supply`) task as its applicant; returns the
    case view after the answer. `task_id` names the task when several are open (else the only one); a task no
    longer open is 409."""
    access.check_applicant(actor)
    if rule not in RULES:
        raise NotFound(f"nothing to answer: {rule}")
    with services.read() as s:
        _own_online_case(s, actor, case_id, "answer")
    with services.case_view_tx(case_id, actor) as tx:
        acts = [a for a in _open_acts(tx) if a["rule"] == rule]
    if task_id is not None:
        chosen = next((a for a in acts if a["id"] == task_id), None)
        if chosen is None:
            raise Conflict(Message("该事项已办理或不再等待您的答复", "this request was already answered or is no longer open"))
    elif not acts:
        raise Conflict(Message(f"没有等待您{RULES[rule]}的事项", f"nothing is waiting for your {RULES[rule].en}"))
    elif len(acts) > 1:
        raise Invalid(Message("有多项待办，请指明 task", "several requests are open: name one by `task`"),
                      {"task": Message("请选择要答复的事项", "choose the request to answer")})
    else:
        chosen = acts[0]
    items = [str(x) for x in supplied or []]
    if rule == "correction":
        asked = {a["key"] for a in chosen["asked"]}
        for i, x in enumerate(items):
            if x not in asked:
                raise Invalid(Message("补正内容应为审查人员要求补正的事项", "answer the items the reviewer asked for"),
                              {f"supplied[{i}]": Message("不是要求补正的事项", "not an item asked for")})
    data = {"supplied": items, "remark": str(remark or "")}
    if files:
        data["files"] = files
    return services.complete(actor, chosen["id"], data)


# ---------------------------------------------------------------- delivery
def choose_delivery(services, actor, case_id: int, method: str, name: str = "", phone: str = "",
                    address: str = "") -> dict:
    """Window pickup, or express to a named person, phone and address; allowed until the pickup is done."""
    access.check_applicant(actor)
    name, phone, address = (str(v or "").strip() for v in (name, phone, address))
    fields = {}
    if method not in METHODS:
        fields["method"] = Message("送达方式应为窗口领取或快递送达", "window or express")
    elif method == "express":
        if not name:
            fields["name"] = Message("请填写收件人", "the recipient is required")
        elif len(name) > 50:
            fields["name"] = Message("最多 50 个字", "at most 50 characters")
        problem = phone_problem(phone) if phone else Message("请填写联系电话", "a phone number is required")
        if problem:
            fields["phone"] = problem
        if not address:
            fields["address"] = Message("请填写收件地址", "the address is required")
        elif len(address) > 200:
            fields["address"] = Message("最多 200 个字", "at most 200 characters")
    if fields:
        raise Invalid(Message("送达信息有误", "the delivery is not valid"), fields)
    if method == "window":
        name = phone = address = ""
    with services.uow() as s:
        case = services._lock_case(s, case_id)  # serialised with the pickup itself
        access.check_read(s, actor, case, "delivery")
        if case.channel != "online":
            raise Forbidden(Message("窗口受理的办件请到窗口办理", "a case taken at a window is handled at the window"))
        wf, _ = services._load(s, case, services.version(s, case.version_id))
        try:
            ledger = L.read(wf)
        finally:
            store.dispose(wf)
        if not _may_choose(case, ledger):
            raise Conflict(Message("已出件或办件已结束，不能再更改送达方式",
                                   "the result was already handed out (or the case has ended): the delivery cannot change"))
        row = s.get(Delivery, case_id)
        if row is None:
            row = Delivery(case_id=case_id)
            s.add(row)
        row.method, row.name, row.phone, row.address = method, name, phone, address
        row.chosen_by, row.chosen_at = actor.username, services.clock()
        s.flush()
        return _delivery_view(row)


# ---------------------------------------------------------------- apply again after 预审 returned it
def resubmit(services, actor, case_id: int, data: dict | None, materials: dict, files: dict | None = None) -> dict:
    """A new online case for the same matter, answering the returned one (once): the earlier application's data
    with the corrections given over it; the materials and files as handed in now. One transaction."""
    access.check_applicant(actor)
    with services.read() as s:
        case = _own_online_case(s, actor, case_id, "apply")
        block = applicant_block(s, getattr(actor, "on_behalf_of", None) or actor.username)
        process_id = case.process_id
        earlier = _application_data(s, case_id)
        if s.scalar(select(Resubmission.case_id).where(Resubmission.of_case_id == case_id)) is not None:
            raise Conflict(Message("该申请已重新提交过", "this application was already submitted again"))
    with services.case_view_tx(case_id, actor) as tx:
        intake = L.read(tx.wf).get("intake") or {}
    if not (intake.get("accepted") is False and intake.get("kind") == "一次性告知"):
        raise Conflict(Message("只有预审退回（一次性告知）的申请可以重新提交",
                               "only an application returned at 预审 (一次性告知) is submitted again"))
    if block is None:
        raise Forbidden(Message("请先完成实名注册（手机号验证）再网上申请",
                                "confirm your identity (sign-up and mobile code) before applying online"))
    verdict = {"accepted": True, "materials": dict(materials), **({"files": files} if files else {})}
    merged = dict(earlier, **(data or {}))
    try:
        with services.new_case(actor, process_id, block, merged, "online", None, verdict) as tx:
            if tx.s.scalar(select(Resubmission.case_id).where(Resubmission.of_case_id == case_id)) is not None:
                raise Conflict(Message("该申请已重新提交过", "this application was already submitted again"))
            tx.s.add(Resubmission(case_id=tx.case.id, of_case_id=case_id, created_at=tx.now))
            tx.s.flush()
    except IntegrityError:
        raise Conflict(Message("该申请已重新提交过", "this application was already submitted again")) from None
    return tx.result
