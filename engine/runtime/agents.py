"""帮办代办: an agent acts for an applicant (the principal) under an authorisation record.

A record names the principal (an applicant account), the agent (another applicant account — a company's staff
member, a relative — or a hall's 帮办员, a staff user of group `agent`), its scope (the matters and bundles it covers,
or all, and the acts: apply, track, answer 补正/补齐, choose delivery, rate), when it is valid (from, until) and
whether it was revoked. A principal grants and revokes their own records; the front desk may record one for a
hall's 帮办员 at the window on the principal's signed paper (`created_by` names the clerk, `channel` window).

Acting: `acting` turns the agent's actor into one acting for the principal (Actor.on_behalf_of) when at least one
valid record of that principal names the agent — else Forbidden, so an expired or revoked record stops everything at
once, reading included. Each act is then checked where it is done (engine.runtime.access for reading and rating,
engine.runtime.portal for applying): a valid record whose scope covers the matter and the act. The case stays the
principal's (applicant_user, applicant block from the principal's identity); its events name the agent as actor and
the principal as `on_behalf_of`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import clock
from ..db import Applicant, Authorisation, Case, Event, Membership, ProcessVersion, User
from ..errors import Forbidden, Invalid, NotFound
from ..messages import Message
from .services import Actor

AGENTS = "agent"  # a hall's 帮办代办 staff
ACTS = {"apply": "网上申请", "track": "查询进度", "answer": "补正补齐", "delivery": "选择送达方式", "rate": "评价"}
MAX_SPAN = timedelta(days=3 * 366)   # a record is valid at most about three years
NOTE_LEN, MATTERS_MAX = 500, 50
APPLICANTS = "applicant"  # engine.runtime.access.APPLICANTS (not imported: access imports this module)


@dataclass(frozen=True)
class Proxy(Actor):
    """An actor acting for `on_behalf_of`, with the clock its authorisations are judged by (the services')."""

    clock: object = None

    def now(self) -> datetime:
        return _aware(self.clock())


def _aware(at: datetime | None) -> datetime | None:
    """In UTC (as stored: SQLite keeps no offset, so every stored and compared time is UTC)."""
    return None if at is None else clock.as_utc(at)


def _parse_time(value, field: str, problems: dict) -> datetime | None:
    """An ISO 8601 time (without an offset: the local zone), or a date meaning the end of that local day."""
    if value is None or isinstance(value, datetime):
        return _aware(value)
    text = str(value).strip()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        problems[field] = Message("应为日期或日期时间（ISO 8601）", "must be a date or date-time (ISO 8601)")
        return None
    if len(text) == 10:  # a date: until the end of that day
        at = at.replace(hour=23, minute=59, second=59)
    return _aware(at if at.tzinfo else at.replace(tzinfo=clock.zone()))


def _user(s, username: str):
    return s.scalar(select(User).where(User.username == username, User.active.is_(True)))


def _groups(s, user_id: int) -> set:
    return set(s.scalars(select(Membership.group_name).where(Membership.user_id == user_id)).all())


def _identity(s, username: str):
    """The confirmed applicant identity behind an account, or None."""
    row = s.scalar(select(Applicant).join(User, User.id == Applicant.user_id).where(User.username == username))
    return row if row is not None and row.verified_at is not None else None


def _check_grant(s, principal: str, body: dict, now: datetime) -> tuple[dict, dict]:
    """The record's values, and field -> message for everything wrong with it (all at once)."""
    problems: dict = {}
    agent = (body.get("agent") or "").strip() if isinstance(body.get("agent"), str) else ""
    user = _user(s, agent) if agent else None
    if not agent:
        problems["agent"] = Message("请填写代办人（手机号或帮办员账号）", "the agent (a mobile number or a 帮办员 account) is required")
    elif agent == principal:
        problems["agent"] = Message("不能授权给自己", "you cannot authorise yourself")
    elif user is None:
        problems["agent"] = Message("代办人账号不存在", "no such agent account")
    else:
        groups = _groups(s, user.id)
        if AGENTS not in groups and not (APPLICANTS in groups and _identity(s, agent) is not None):
            problems["agent"] = Message("代办人应为实名注册的申请人或大厅帮办员",
                                        "the agent must be a confirmed applicant or a hall's 帮办员")
    matters = body.get("matters")
    if matters is not None:
        if (not isinstance(matters, list) or not matters or len(matters) > MATTERS_MAX
                or not all(isinstance(m, str) and m for m in matters)):
            problems["matters"] = Message(f"事项应为 1 到 {MATTERS_MAX} 个事项编码，或不填（全部事项）",
                                          f"1 to {MATTERS_MAX} matter codes, or none for all matters")
        else:
            matters = sorted(set(matters))
            known = set(s.scalars(select(ProcessVersion.process_id).where(ProcessVersion.process_id.in_(matters))))
            unknown = [m for m in matters if m not in known or m.startswith("zg_")]
            if unknown:
                problems["matters"] = Message(f"没有这些事项：{', '.join(unknown)}", f"no such matter: {', '.join(unknown)}")
    acts = body.get("acts")
    if acts is None:
        acts = list(ACTS)
    elif not isinstance(acts, list) or not acts or not all(a in ACTS for a in acts):
        problems["acts"] = Message(f"可授权的事项行为：{', '.join(ACTS)}", f"acts are some of: {', '.join(ACTS)}")
    else:
        acts = [a for a in ACTS if a in acts]
    valid_from = _parse_time(body.get("valid_from"), "valid_from", problems) or now
    valid_until = _parse_time(body.get("valid_until"), "valid_until", problems)
    if valid_until is None and "valid_until" not in problems:
        problems["valid_until"] = Message("请填写授权截止时间", "the expiry is required")
    elif valid_until is not None:
        if valid_until <= now:
            problems["valid_until"] = Message("截止时间已过", "the expiry is in the past")
        elif valid_until <= valid_from:
            problems["valid_until"] = Message("截止时间应晚于起始时间", "the expiry must come after the start")
        elif valid_until - max(valid_from, now) > MAX_SPAN:
            problems["valid_until"] = Message("授权期限至多三年", "an authorisation lasts at most three years")
    note = body.get("note") or ""
    if not isinstance(note, str) or len(note) > NOTE_LEN:
        problems["note"] = Message(f"备注至多 {NOTE_LEN} 字", f"up to {NOTE_LEN} characters")
    return {"agent_user": agent, "matters": matters, "acts": acts, "valid_from": valid_from,
            "valid_until": valid_until, "note": note.strip() if isinstance(note, str) else ""}, problems


def _add(s, principal: str, values: dict, created_by: str, channel: str, now: datetime) -> Authorisation:
    row = Authorisation(principal_user=principal, agent_user=values["agent_user"],
                        matters=None if values["matters"] is None else json.dumps(values["matters"]),
                        acts=json.dumps(values["acts"]), valid_from=values["valid_from"],
                        valid_until=values["valid_until"], channel=channel, created_by=created_by,
                        note=values["note"], created_at=now)
    s.add(row)
    s.flush()
    return row


def _principal_of(actor) -> str:
    """The applicant account managing its own records: never while acting for someone else."""
    if actor is None or APPLICANTS not in actor.groups or actor.on_behalf_of:
        raise Forbidden(Message("授权只能由申请人本人办理", "only the applicant themself manages authorisations"))
    return actor.username


def grant(services, actor, body: dict) -> dict:
    """The applicant (confirmed identity) authorises an agent: Invalid naming each field that is wrong."""
    principal = _principal_of(actor)
    now = _aware(services.clock())
    with services.uow() as s:
        if _identity(s, principal) is None:
            raise Forbidden(Message("请先完成实名注册（手机号验证）", "confirm your identity first"))
        values, problems = _check_grant(s, principal, body, now)
        if problems:
            raise Invalid(Message("授权信息有误", "the authorisation is not valid"), problems)
        return view(s, _add(s, principal, values, principal, "online", now), now)


def grant_at_window(services, clerk, principal_phone: str, body: dict) -> dict:
    """The front desk records, on the principal's signed paper, an authorisation of a hall's 帮办员."""
    if clerk is None or not (clerk.groups & {"front_desk", "admin"}):
        raise Forbidden(Message("只有综合窗口可以登记代办授权", "only the front desk records an authorisation"))
    now = _aware(services.clock())
    with services.uow() as s:
        principal = principal_phone if _identity(s, principal_phone or "") is not None else None
        values, problems = _check_grant(s, principal or "", body, now)
        if principal is None:
            problems["principal"] = Message("没有此实名申请人", "no confirmed applicant with this mobile number")
        elif "agent" not in problems and AGENTS not in _groups(s, _user(s, values["agent_user"]).id):
            problems["agent"] = Message("窗口只登记大厅帮办员的授权", "the window records authorisations of a hall's 帮办员 only")
        if problems:
            raise Invalid(Message("授权信息有误", "the authorisation is not valid"), problems)
        return view(s, _add(s, principal, values, clerk.username, "window", now), now)


def revoke(services, actor, record_id: int) -> dict:
    """The principal revokes a record of theirs (at once); another's record is not found."""
    principal = _principal_of(actor)
    now = _aware(services.clock())
    with services.uow() as s:
        row = s.get(Authorisation, record_id)
        if row is None or row.principal_user != principal:
            raise NotFound(f"no such authorisation: {record_id}")
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by = now, actor.username
        return view(s, row, now)


def mine(services, actor) -> dict:
    """The records the user granted (as principal) and those naming them as agent (whom they may act for)."""
    now = _aware(services.clock())
    me = actor.username
    with services.read() as s:
        granted = s.scalars(select(Authorisation).where(Authorisation.principal_user == me)
                            .order_by(Authorisation.id.desc())).all()
        received = s.scalars(select(Authorisation).where(Authorisation.agent_user == me)
                             .order_by(Authorisation.id.desc())).all()
        return {"granted": [view(s, r, now) for r in granted], "received": [view(s, r, now) for r in received]}


def status_of(row: Authorisation, now: datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if now >= _aware(row.valid_until):
        return "expired"
    if now < _aware(row.valid_from):
        return "pending"
    return "valid"


def _name(s, username: str) -> str:
    ident = _identity(s, username)
    if ident is not None:
        return ident.name
    user = s.scalar(select(User).where(User.username == username))
    return user.display_name if user is not None else username


def view(s, row: Authorisation, now: datetime) -> dict:
    return {"id": row.id, "principal": row.principal_user, "principal_name": _name(s, row.principal_user),
            "agent": row.agent_user, "agent_name": _name(s, row.agent_user),
            "matters": None if row.matters is None else json.loads(row.matters), "acts": json.loads(row.acts),
            "valid_from": _aware(row.valid_from).isoformat(), "valid_until": _aware(row.valid_until).isoformat(),
            "revoked_at": _aware(row.revoked_at).isoformat() if row.revoked_at else None,
            "status": status_of(row, now), "channel": row.channel, "created_by": row.created_by, "note": row.note}


# ---------------------------------------------------------------- acting for a principal
def _valid(s, agent: str, principal: str, now: datetime) -> list[Authorisation]:
    now = _aware(now)
    return list(s.scalars(select(Authorisation).where(
        Authorisation.agent_user == agent, Authorisation.principal_user == principal,
        Authorisation.revoked_at.is_(None), Authorisation.valid_from <= now, Authorisation.valid_until > now)))


def acting(services, actor, principal: str):
    """The actor acting for `principal` (a mobile number): Forbidden unless a valid, unexpired, unrevoked record
    of that principal names the actor. Each act is still checked against the records' scope (`check`)."""
    if actor is None or not (actor.groups & {APPLICANTS, AGENTS}) or actor.on_behalf_of:
        raise Forbidden(Message("只有申请人或帮办员可以代办", "only applicants and 帮办员 act for others"))
    now = _aware(services.clock())
    with services.read() as s:
        if not principal or principal == actor.username or not _valid(s, actor.username, principal, now):
            raise Forbidden(Message("没有有效的代办授权（未授权、已过期或已撤销）",
                                    "no valid authorisation to act for this applicant (none, expired or revoked)"))
    base = {f.name: getattr(actor, f.name) for f in fields(Actor)}
    return Proxy(**dict(base, on_behalf_of=principal), clock=services.clock)


def covers(s, actor, matter: str | None, act: str, now: datetime) -> bool:
    """Whether a valid record of the actor's principal covers this matter (None: any) and act."""
    found = scope(s, actor, act, now)
    return found is not False and (matter is None or found is None or matter in found)


def scope(s, actor, act: str, now: datetime):
    """The matters the actor may do `act` on for their principal now: None for all, a set, or False for none."""
    found: set = set()
    for row in _valid(s, actor.username, actor.on_behalf_of, now):
        if act not in json.loads(row.acts):
            continue
        if row.matters is None:
            return None
        found.update(json.loads(row.matters))
    return found or False


def check(s, actor, matter: str, act: str, now: datetime) -> None:
    """Forbidden unless a valid record covers this matter and act (for an actor acting for someone)."""
    if not covers(s, actor, matter, act, now):
        raise Forbidden(Message(f"代办授权不含此事项或此行为（{ACTS.get(act, act)}）",
                                f"the authorisation does not cover this matter or act ({act})"))


def may_act_for(services, actor) -> list[dict]:
    """The principals the user may act for now (the switcher on /me)."""
    now = _aware(services.clock())
    with services.read() as s:
        rows = s.scalars(select(Authorisation).where(
            Authorisation.agent_user == actor.username, Authorisation.revoked_at.is_(None),
            Authorisation.valid_from <= now, Authorisation.valid_until > now)).all()
        seen: dict = {}
        for r in rows:
            seen.setdefault(r.principal_user, {"principal": r.principal_user, "name": _name(s, r.principal_user)})
        return list(seen.values())


def acted_by(s, case) -> dict | None:
    """Who made a case for its applicant (代办人 X（代 Y）), when an agent did; else None."""
    if not case.applicant_user or case.created_by in ("", case.applicant_user):
        return None
    started = s.scalar(select(Event.payload).where(Event.case_id == case.id, Event.type == "case_started"))
    if started is None or json.loads(started).get("on_behalf_of") != case.applicant_user:
        return None
    agent, principal = _name(s, case.created_by), _name(s, case.applicant_user)
    return {"agent": case.created_by, "agent_name": agent, "principal": case.applicant_user,
            "principal_name": principal, "label": f"代办人 {agent}（代 {principal}）"}


def timeline(s, case_id: int) -> list[dict]:
    """The acts on a case that agents did for its applicant: each names both."""
    rows = s.execute(select(Event.seq, Event.at, Event.type, Event.actor, Event.payload).where(
        Event.case_id == case_id, Event.payload.like('%"on_behalf_of"%')).order_by(Event.seq)).all()
    out = []
    for seq, at, type_, agent, payload in rows:
        principal = json.loads(payload).get("on_behalf_of")
        if principal:
            out.append({"seq": seq, "at": _aware(at).isoformat(), "type": type_, "agent": agent,
                        "principal": principal,
                        "label": f"代办人 {_name(s, agent)}（代 {_name(s, principal)}）"})
    return out


def principal_cases(s, actor, now: datetime):
    """A filter on Case for the principal's cases the acting agent may track (or False for none)."""
    found = scope(s, actor, "track", now)
    if found is False:
        return False
    cond = Case.applicant_user == actor.on_behalf_of
    return cond if found is None else (cond & Case.process_id.in_(sorted(found)))
