"""Who may read, start and act on what — decided here, once, for every front end (pages, API, CLI).

Reading a case (its view, events, diagram, documents): the user who took it in, the groups that hold or held
one of its tasks (and the users a task was offered or assigned to), the applicant whose case it is, and the
groups that oversee every case — supervisors, auditors, administrators. Anyone else is told the case does not
exist (404), so case numbers cannot be probed.

帮办代办 (engine.runtime.agents): an agent acting for an applicant reads only that applicant's cases, and only while a
valid authorisation covers the matter and the act (an expired or revoked one stops it at once).

Starting a case: only processes one applies for (a matter or a bundle; never a department's review or a
dispatcher that others call); at a window or kiosk only by the window's groups; online only by an applicant
identity (group `applicant`), never by a staff account; channel `internal` (差评整改) only by the platform itself.

Halls (engine.runtime.org): a user placed at a hall reads only the cases accepted or decided at the halls they see —
their own, and for supervisors, auditors and administrators the halls below theirs too — and works only on the tasks
in those halls' inboxes: a case's department tasks are in the inbox of the deciding authority's hall (a step marked
with a higher `hall_level`, 转报, in that level's hall above it), its front-desk and pickup tasks in the accepting
hall's. Users and cases without a hall (a single-hall database) are not limited.

Acting on a task is decided where the task is completed (Services._check_may_work: the task's group, its
candidates, or an administrator; and the applicant of an online case for its 补正 and 补齐 tasks,
`applicant_may_answer`). Auditors hold no task group: they read, they never act.
"""
from __future__ import annotations

from sqlalchemy import or_, select

from ..db import Event, WorkItem
from ..errors import Forbidden, NotFound
from ..messages import Message

OVERSEERS = frozenset({"admin", "supervisor", "auditor"})
WINDOW_GROUPS = frozenset({"front_desk", "admin"})
APPLICANTS = "applicant"
CHANNELS = ("window", "kiosk", "online", "internal")  # internal: what the platform starts itself (差评整改)


def is_system(actor) -> bool:
    return actor is None or "system" in actor.groups


def may_read_case(s, actor, case, act: str = "track") -> bool:
    """Whether `actor` may read `case` (a Case row or CaseRecord); an agent acting for an applicant (帮办代办) only
    the principal's cases that a valid authorisation covers for `act` (track, answer, delivery, rate)."""
    if is_system(actor):
        return True
    if getattr(actor, "on_behalf_of", None):
        return applicant_of(case) == actor.on_behalf_of and _agent_covers(s, actor, case, act)
    if APPLICANTS in actor.groups:
        return applicant_of(case) == actor.username
    places = [h for h in case_halls(actor, case) if h is not None]
    if places and not any(in_halls(actor, h) for h in places):
        # another hall's case — unless one of its steps was forwarded to the actor's hall (转报): a task of theirs
        # there now, or one they did
        return _forwarded_to(s, actor, case)
    if actor.groups & OVERSEERS or case.created_by == actor.username:
        return True
    groups = sorted(actor.groups)
    held = select(WorkItem.id).where(WorkItem.case_id == case.id, or_(
        WorkItem.group_name.in_(groups), WorkItem.assignee == actor.username,
        WorkItem.candidate_users.contains(f",{actor.username},"))).limit(1)
    if s.scalar(held) is not None:
        return True
    did = select(Event.id).where(Event.case_id == case.id, Event.type.in_(("task_completed", "task_claimed")),
                                 or_(Event.group_name.in_(groups), Event.actor == actor.username)).limit(1)
    return s.scalar(did) is not None


WINDOW_SIDE = frozenset({"front_desk", "pickup"})  # the accepting hall's own windows: intake, 补齐, pickup


def in_halls(actor, hall) -> bool:
    """Whether a case or task placed at `hall` is within the halls the actor sees."""
    halls = getattr(actor, "halls", None)
    return hall is None or halls is None or is_system(actor) or hall in halls


def case_halls(actor, case) -> tuple:
    """The halls through which a case concerns the actor: the accepting hall for the windows (front desk, pickup),
    and also the deciding authority's hall for its departments and for overseers."""
    accepting = getattr(case, "hall", None)
    if actor.groups <= WINDOW_SIDE:
        return (accepting,)
    return (accepting, getattr(case, "authority_hall", None))


def inbox_hall(case, group: str) -> str | None:
    """The hall whose inbox of `group` gets a task of this case: the accepting hall's windows, else the deciding
    authority's hall (None when the case has no hall)."""
    if group in WINDOW_SIDE or not getattr(case, "authority_hall", None):
        return getattr(case, "hall", None)
    return case.authority_hall


def _forwarded_to(s, actor, case) -> bool:
    if not actor.halls:
        return False
    held = select(WorkItem.id).where(WorkItem.case_id == case.id, WorkItem.hall.in_(sorted(actor.halls)), or_(
        WorkItem.group_name.in_(sorted(actor.groups)), WorkItem.assignee == actor.username,
        WorkItem.candidate_users.contains(f",{actor.username},"))).limit(1)
    if s.scalar(held) is not None:
        return True
    did = select(Event.id).where(Event.case_id == case.id, Event.type.in_(("task_completed", "task_claimed")),
                                 Event.actor == actor.username).limit(1)
    return s.scalar(did) is not None


def check_read(s, actor, case, act: str = "track") -> None:
    """NotFound for what the actor may not see; for an agent, Forbidden on a case of their principal that no valid
    authorisation covers for `act` (expired, revoked, out of scope)."""
    if case is None or not may_read_case(s, actor, case, act):
        if case is not None and getattr(actor, "on_behalf_of", None) and applicant_of(case) == actor.on_behalf_of:
            raise Forbidden(Message("代办授权不含此办件或此行为", "the authorisation does not cover this case or act"))
        raise NotFound(f"no such case: {getattr(case, 'id', '')}".strip())


def _agent_covers(s, actor, case, act: str) -> bool:
    from . import agents  # engine.runtime.agents: the authorisation records (it imports this module's callers)

    now = actor.now() if hasattr(actor, "now") else None
    return now is not None and agents.covers(s, actor, case.process_id, act, now)


def applicant_of(case) -> str | None:
    """The applicant account a case belongs to (set when an applicant applies online)."""
    return getattr(case, "applicant_user", None)


def check_start(actor, startable: bool, channel: str) -> None:
    """Raise Forbidden (or NotFound for what nobody may apply for) unless `actor` may start such a case."""
    if channel not in CHANNELS:
        raise Forbidden(f"unknown channel {channel!r}")
    if channel == "internal":  # a process the platform starts on its own account (差评整改), never a person
        if not is_system(actor):
            raise Forbidden(Message("内部流程由系统发起", "internal processes are started by the platform only"))
        return
    if not startable:
        raise NotFound("not a matter one applies for (a department's review or an internal process)")
    if is_system(actor):
        return
    if channel == "online":
        if APPLICANTS not in actor.groups and not getattr(actor, "on_behalf_of", None):  # or their agent (帮办代办)
            raise Forbidden(Message("网上申请只能由申请人本人提交", "online applications are made by the applicant, not by staff"))
        return
    if not actor.groups & WINDOW_GROUPS:
        raise Forbidden(Message("只有综合窗口可以受理申请", "only the front desk accepts applications at a window"))


APPLICANT_RULES = frozenset({"correction", "supply"})  # what the applicant of an online case answers themselves


def applicant_may_answer(actor, item, case) -> bool:
    """补正 and 补齐 online: the applicant of an ONLINE case answers its open correction and supply tasks themselves
    (the front desk still may, at the window); nothing else, and never another applicant's case. An agent acting
    for the applicant (帮办代办) likewise, where engine.runtime.online_acts has checked the authorisation covers
    `answer` (check_read with that act)."""
    if actor is None or case is None:
        return False
    principal = getattr(actor, "on_behalf_of", None)  # 帮办代办: their agent (the act's scope checked by the caller)
    if not principal and APPLICANTS not in actor.groups:
        return False
    return (getattr(item, "rule", None) in APPLICANT_RULES and getattr(case, "channel", None) == "online"
            and getattr(item, "case_id", None) == case.id and applicant_of(case) == (principal or actor.username))


def check_applicant(actor) -> None:
    """The applicant's own pages and /api/v1/me: applicant identities only (staff have their own), or an agent acting
    for one (帮办代办, engine.runtime.agents.acting)."""
    if actor is None or (APPLICANTS not in actor.groups and not getattr(actor, "on_behalf_of", None)):
        raise Forbidden(Message("仅限申请人本人使用", "applicants only"))


def check_window(actor) -> None:
    """The front desk's pages (catalogue search, intake): the window's groups."""
    if is_system(actor) or actor.groups & WINDOW_GROUPS:
        return
    raise Forbidden(Message("综合窗口专用", "front desk only"))


REVOKERS = frozenset({"admin", "supervisor", "regulator"})


def may_revoke(actor) -> bool:
    """Who may revoke a certificate by hand: administrators, supervisors (电子监察), and a registered regulator's
    signed finding (审管联动)."""
    return is_system(actor) or bool(actor.groups & REVOKERS)


def check_revoke(actor) -> None:
    if not may_revoke(actor):
        raise Forbidden(Message("只有管理员、电子监察或监管部门可以注销证照",
                                "only administrators, supervisors and regulators revoke certificates"))


def check_audit(actor) -> None:
    """The auditor's pages: auditors and administrators."""
    if is_system(actor) or actor.groups & {"auditor", "admin"}:
        return
    raise Forbidden(Message("审计页面仅供审计人员使用", "auditors only"))
