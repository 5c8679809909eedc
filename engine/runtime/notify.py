"""Notifications to applicants (and 催办 to staff): one outbox message per channel, written in the transaction of
the event that causes it — so a rolled-back action sends nothing and a committed one never loses its message —
with a deterministic key (`{event}:{case id}:{event seq}:{channel}`) so the same event never queues two.

Events and where they are seen (an observer of the service layer's appended events, and a hook when an action
finishes, for what only the rules' view of the case says):

- 受理 `accepted`: `intake_accepted` (at a window, or the front desk's online 预审);
- 一次性告知 `returned`: `intake_refused` — the complete list of what is missing, or the 不予受理 reason;
- 补正 `correction`: a review completed with decision `correct` — what is asked;
- 办结 `decided`: when every matter applied for has its outcome (the case waits only at pickup, or ended) — the
  outcome per matter; once per case;
- 出件 `handed_out`: the `pickup` task completed — at the window, or by express with the courier and tracking no.;
- 催办 `remind`: `reminder_sent` — to the assignee of the reminded task, else the staff of its group (in-app);
- 差评回访 `revisit`: the 回访 step of a 差评整改 (`zg_*`) case — the finding and measures, to the rated applicant.

Recipients: the mobile of the case's applicant block (`sms`), its `email` if it has one (`email`), and the account
that applied online (`inapp`, the case's `applicant_user`). Channels are delivered by the worker
(engine.runtime.channels); `inapp` delivery writes a UserNotice row, so delivered means visible.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select, update

from ..clock import for_people, iso_utc
from ..db import Case, Event, Membership, User, UserNotice
from ..errors import NotFound
from ..messages import Message
from . import outbox

SIGN = "【一网通办】"
# event -> (title zh, title en, text zh, text en); placeholders are filled from the case (see _context)
TEMPLATES: dict[str, tuple[str, str, str, str]] = {
    "accepted": (
        "受理", "Accepted",
        "{name}您好：您申请的“{title}”已受理，办件编号 {number}。{due_zh}{owed_zh}",
        "Dear {name}, your application '{title}' has been accepted, case number {number}.{due_en}{owed_en}"),
    "returned": (
        "一次性告知", "What is missing",
        "{name}您好：您申请的“{title}”（{number}）未予受理。{missing_zh}",
        "Dear {name}, your application '{title}' ({number}) was not accepted. {missing_en}"),
    "correction": (
        "补正", "Correction requested",
        "{name}您好：您的办件 {number}“{title}”需要补正：{asked}。请补正后提交，补正期间不计入办理时限。",
        "Dear {name}, case {number} '{title}' needs a correction: {asked}. The time limit is paused until you "
        "answer."),
    "decided": (
        "办结", "Decided",
        "{name}您好：您的办件 {number}“{title}”已办结。{outcome_zh}",
        "Dear {name}, case {number} '{title}' has been decided. {outcome_en}"),
    "handed_out": (
        "出件", "Handed out",
        "{name}您好：您的办件 {number}“{title}”的结果{how_zh}",
        "Dear {name}, the results of case {number} '{title}' {how_en}"),
    "remind": (
        "催办", "Reminder",
        "催办：办件 {number}“{title}”的「{task}」{when_zh}，请抓紧办理。",
        "Reminder: case {number} '{title}', task '{task}' {when_en}; please act on it."),
    "revisit": (
        "差评回访", "Follow-up of your rating",
        "{name}您好：您对办件 {rated} 的评价已回访。核实情况：{finding}；整改措施：{measures}。感谢您的监督。",
        "Dear {name}, your rating of case {rated} has been followed up. Finding: {finding}; measures: {measures}. "
        "Thank you."),
}
EVENTS = tuple(TEMPLATES)


class _Blank(dict):
    def __missing__(self, key):
        return ""


def render(event: str, ctx: dict) -> dict:
    """The message of an event: title and text in Chinese (with the sign-off) and English."""
    title, title_en, zh, en = TEMPLATES[event]
    values = _Blank(ctx)
    return {"event": event, "title": title, "title_en": title_en, "text": SIGN + zh.format_map(values),
            "text_en": en.format_map(values)}


def recipients(s, case, applicant: dict | None = None, user: str | None = None) -> list[tuple[str, str]]:
    """(channel, target) for a case's applicant: sms to the mobile, email if given, inapp to the online account."""
    block = applicant if applicant is not None else json.loads(case.applicant or "{}")
    out = []
    phone = str(block.get("phone") or "").strip()
    if phone:
        out.append(("sms", phone))
    email = str(block.get("email") or "").strip()
    if email and "@" in email:
        out.append(("email", email))
    user = user if user is not None else getattr(case, "applicant_user", None)
    if user:
        out.append(("inapp", user))
    return out


def queue(s, case, event: str, ctx: dict, key: str, at: datetime, to: list[tuple[str, str]] | None = None) -> int:
    """Write one outbox message per recipient channel in the caller's transaction; returns how many."""
    message = render(event, ctx)
    n = 0
    for channel, target in (to if to is not None else recipients(s, case)):
        payload = dict(message, case=case.number, case_id=case.id)
        outbox.enqueue(s, channel, target, payload, key=f"{key}:{channel}", case_id=case.id, now=at)
        n += 1
    return n


def _base(case) -> dict:
    block = json.loads(case.applicant or "{}")
    return {"name": block.get("name") or "", "number": case.number, "title": case.title}


def _due(s, case_id: int) -> tuple[str, str]:
    from ..supervision.tables import CaseClock  # the supervision package sits beside, installed with the limits

    due = s.execute(select(CaseClock.due_at).where(CaseClock.case_id == case_id)).scalar()
    if due is None:
        return "", ""
    day = for_people(due)[:10]
    return f"承诺办结日期：{day}。", f" Promised by {day}."


class Notifier:
    """The observer and the finish hook, with the service layer at hand (guides, for material names)."""

    def __init__(self, services):
        self.sv = services

    def _material_names(self, s, case) -> dict:
        guide = self.sv.guide(self.sv.version(s, case.version_id))
        return {m.get("id"): m.get("name") for m in guide.get("materials") or [] if isinstance(m, dict)}

    # ------------------------------------------------------------------ events as they are appended
    def observe(self, s, case, type_, payload, at, actor, group, task_id, element_id) -> None:
        if type_ not in WATCHED:
            return
        seq = case.event_count
        if type_ == "intake_accepted":
            ctx = _base(case)
            ctx["due_zh"], ctx["due_en"] = _due(s, case.id)
            owed = payload.get("owed") or []
            if owed:
                names = self._material_names(s, case)
                listed = "、".join(names.get(m) or m for m in owed)
                ctx["owed_zh"] = f"容缺受理，请在出件前补齐：{listed}。"
                ctx["owed_en"] = f" Accepted with materials owed, to be supplied before pickup: {listed}."
            queue(s, case, "accepted", ctx, f"accepted:{case.id}:{seq}", at)
        elif type_ == "intake_refused":
            ctx = _base(case)
            missing = payload.get("missing") or []
            if missing:
                lines = "；".join(f"{i}. {m}" for i, m in enumerate(missing, 1))
                ctx["missing_zh"] = f"一次性告知：尚缺以下材料，请一次备齐后再申请：{lines}。"
                ctx["missing_en"] = f"Everything missing, told at once: {lines}."
            else:
                ctx["missing_zh"] = f"不予受理理由：{payload.get('reason') or ''}"
                ctx["missing_en"] = f"Reason: {payload.get('reason') or ''}"
            queue(s, case, "returned", ctx, f"returned:{case.id}:{seq}", at)
        elif type_ == "task_completed":
            data = payload.get("data") or {}
            if payload.get("rule") == "review" and data.get("decision") == "correct":
                asked = "、".join(str(x) for x in data.get("corrections") or []) or str(data.get("opinion") or "")
                queue(s, case, "correction", dict(_base(case), asked=asked), f"correction:{case.id}:{seq}", at)
            elif payload.get("rule") == "pickup":
                self._handed_out(s, case, data, seq, at)
            elif element_id == "revisit" and str(payload.get("process_id") or "").startswith("zg_"):
                self._revisit(s, case, data, seq, at)
        elif type_ == "reminder_sent":
            self._remind(s, case, payload, seq, at)

    def _handed_out(self, s, case, data: dict, seq: int, at) -> None:
        ctx = _base(case)
        if data.get("method") == "express":
            courier = str(data.get("courier") or "").strip()
            tracking = str(data.get("tracking_no") or "").strip()
            ctx["how_zh"] = (f"已通过快递寄出（{courier + '，' if courier else ''}运单号 {tracking}），"
                             f"寄往：{data.get('address') or ''}。")
            ctx["how_en"] = (f"were sent by express ({courier + ', ' if courier else ''}tracking number "
                             f"{tracking}) to {data.get('address') or ''}.")
        else:
            who = (data.get("recipient") or {}).get("name") or ""
            ctx["how_zh"] = f"已在出件窗口领取{('（领取人：' + who + '）') if who else ''}。"
            ctx["how_en"] = f"were handed out at the pickup window{(' to ' + who) if who else ''}."
        queue(s, case, "handed_out", ctx, f"handed_out:{case.id}:{seq}", at)

    def _revisit(self, s, case, data: dict, seq: int, at) -> None:
        """The 回访 of a 差评整改: the finding (核实) and measures (整改) of the same case, to the rated applicant."""
        steps = {}
        started = {}
        for type_, element, text in s.execute(select(Event.type, Event.element_id, Event.payload)
                                              .where(Event.case_id == case.id).order_by(Event.seq)).all():
            body = json.loads(text)
            if type_ == "case_started":
                started = body.get("data") or {}
            elif type_ == "task_completed":
                steps[element] = body.get("data") or {}
        rated = started.get("rated_case") or ""
        ctx = dict(_base(case), rated=rated, finding=(steps.get("verify") or {}).get("finding") or "",
                   measures=(steps.get("fix") or {}).get("measures") or "", result=data.get("result") or "")
        user = s.execute(select(Case.applicant_user).where(Case.number == rated)).scalar() if rated else None
        queue(s, case, "revisit", ctx, f"revisit:{case.id}:{seq}", at, to=recipients(s, case, user=user or ""))

    def _remind(self, s, case, payload: dict, seq: int, at) -> None:
        """催办 to the staff: the assignee of the reminded task once claimed, else its group (in-app)."""
        from ..db import WorkItem

        item = s.execute(select(WorkItem.assignee, WorkItem.group_name, WorkItem.due_at).where(
            WorkItem.case_id == case.id, WorkItem.element_id == payload.get("task"))).first()
        group = (item.group_name if item else None) or payload.get("group") or ""
        target = item.assignee if item and item.assignee else f"group:{group}"
        due = item.due_at if item else None
        ctx = dict(_base(case), task=payload.get("name") or payload.get("task") or "",
                   when_zh=f"将于 {for_people(due)[:16]} 到期" if due else "即将到期或已超期",
                   when_en=f"is due {for_people(due)[:16]}" if due else "is due soon or overdue")
        queue(s, case, "remind", ctx, f"remind:{case.id}:{seq}", at, to=[("inapp", target)])

    # ------------------------------------------------------------------ when an action finishes
    def finished(self, tx) -> None:
        """办结: once every matter applied for has its outcome (the rules' view says so), once per case."""
        result = tx.result or {}
        found = result.get("outcomes") or []
        if not found or any(o.get("status") in ("pending", "refused_at_intake") for o in found):
            return
        key = f"decided:{tx.case.id}"
        keys = [f"{key}:{channel}" for channel in CHANNELS]  # exact keys: the unique index answers, no LIKE scan
        if tx.s.scalar(select(outbox.OutboxMessage.id).where(outbox.OutboxMessage.key.in_(keys)).limit(1)):
            return
        zh = "；".join(str(o["notice"]) for o in found)
        en = "; ".join(o["notice"].en if isinstance(o["notice"], Message) else str(o["notice"]) for o in found)
        pickup = tx.open_item(rule="pickup") is not None
        ctx = dict(_base(tx.case), outcome_zh=zh + ("。请按选择的方式领取结果。" if pickup else "。"),
                   outcome_en=en + (". Your results are ready for pickup or delivery." if pickup else "."))
        queue(tx.s, tx.case, "decided", ctx, key, tx.now)


CHANNELS = ("sms", "email", "inapp")  # what recipients() addresses
WATCHED = frozenset({"intake_accepted", "intake_refused", "task_completed", "reminder_sent"})


def install(services) -> Notifier:
    """Queue notifications with their actions, and deliver in-app ones from the worker (engine.runtime.channels
    adds sms and email from the configuration)."""
    from . import channels

    for hook in services.observers:
        if isinstance(getattr(hook, "__self__", None), Notifier):
            return hook.__self__
    notifier = Notifier(services)
    services.observers.append(notifier.observe)
    services.finishers.append(notifier.finished)
    services.senders.setdefault("inapp", channels.deliver_inapp)
    return notifier


# ---------------------------------------------------------------------- the in-app inbox
def fan_out(s, target: str, case_id: int | None) -> list[str]:
    """The users an in-app target names: a user name, or `group:NAME` — the active members of that group (at the
    case's deciding or accepting hall, when the case has one)."""
    if not target.startswith("group:"):
        return [target]
    group = target[len("group:"):]
    stmt = (select(User.username, User.hall).join(Membership, Membership.user_id == User.id)
            .where(Membership.group_name == group, User.active.is_(True)).order_by(User.username))
    rows = s.execute(stmt).all()
    hall = None
    if case_id is not None:
        hall = s.execute(select(Case.authority_hall, Case.hall).where(Case.id == case_id)).first()
        hall = (hall[0] or hall[1]) if hall else None
    return [u for u, h in rows if hall is None or h is None or h == hall]


def my_notices(services, actor, limit: int = 50, unread: bool = False) -> list[dict]:
    """The signed-in user's in-app notices, newest first (only their own)."""
    with services.read() as s:
        stmt = select(UserNotice).where(UserNotice.username == actor.username)
        if unread:
            stmt = stmt.where(UserNotice.read_at.is_(None))
        rows = s.scalars(stmt.order_by(UserNotice.id.desc()).limit(max(1, min(limit, 200)))).all()
        numbers = dict(s.execute(select(Case.id, Case.number).where(
            Case.id.in_({r.case_id for r in rows if r.case_id}))).all()) if rows else {}
        return [view(r, numbers.get(r.case_id)) for r in rows]


def mark_read(services, actor, notice_id: int) -> dict:
    """Mark one of my notices read (another user's is not found)."""
    with services.uow() as s:
        row = s.get(UserNotice, notice_id) if 0 < notice_id < 2 ** 31 else None
        if row is None or row.username != actor.username:
            raise NotFound(f"no such notice: {notice_id}")
        if row.read_at is None:
            row.read_at = services.clock()
        number = s.execute(select(Case.number).where(Case.id == row.case_id)).scalar() if row.case_id else None
        return view(row, number)


def mark_all_read(services, actor) -> int:
    with services.uow() as s:
        return s.execute(update(UserNotice).where(UserNotice.username == actor.username,
                                                  UserNotice.read_at.is_(None))
                         .values(read_at=services.clock())).rowcount


def view(r: UserNotice, number: str | None = None) -> dict:
    return {"id": r.id, "event": r.event, "title": r.title,
            "title_en": TEMPLATES[r.event][1] if r.event in TEMPLATES else r.title, "text": r.text, "text_en": r.text_en,
            "case_id": r.case_id, "case_number": number, "created_at": iso_utc(r.created_at),
            "read": r.read_at is not None, "read_at": iso_utc(r.read_at)}
