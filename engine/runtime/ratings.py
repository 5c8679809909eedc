"""好差评 (GB/T 39734/39735): the applicant rates a finished case of theirs once (一次一评) on five levels; a rating
of 不满意 or 非常不满意 starts a 差评整改 case (核实 → 整改 → 回访) of the department concerned, in the same
transaction as the rating, so there is never a bad rating without its 整改 nor a 整改 without its rating.

Ratings are rows beside the case, not events in its chain: a case is rated after it ended, and its audit trail
(hash chain and replay) stays exactly what it was when it closed; the 整改 case has its own chain from its start,
whose `case_started` names the rated case.
"""
from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..db import Case, ProcessVersion, Rating
from ..errors import Conflict, Invalid
from ..messages import Message
from . import access
from .services import Actor

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD = 2          # this level and below start a 差评整改
TAGS_MAX, TAG_LEN, COMMENT_LEN = 10, 40, 2000
FALLBACK = "front_desk"  # the window answers for what no department does


def rating_of(s, case_id: int) -> dict | None:
    row = s.scalar(select(Rating).where(Rating.case_id == case_id))
    return None if row is None else view(row)


def view(row: Rating) -> dict:
    return {"level": row.level, "title": LEVELS[row.level], "comment": row.comment, "tags": json.loads(row.tags),
            "department": row.department, "rectification_case": row.remediation_case_id,
            "created_at": row.created_at.isoformat()}


def _check(level, comment, tags) -> None:
    fields = {}
    if not isinstance(level, int) or isinstance(level, bool) or level not in LEVELS:
        fields["level"] = Message("评价等级应为 1（非常不满意）到 5（非常满意）", "level must be 1 (非常不满意) to 5 (非常满意)")
    if not isinstance(comment, str) or len(comment) > COMMENT_LEN:
        fields["comment"] = Message(f"评价内容至多 {COMMENT_LEN} 字", f"up to {COMMENT_LEN} characters")
    if (not isinstance(tags, list) or len(tags) > TAGS_MAX
            or not all(isinstance(t, str) and 0 < len(t.strip()) <= TAG_LEN for t in tags)):
        fields["tags"] = Message(f"标签至多 {TAGS_MAX} 个，每个 1–{TAG_LEN} 字", f"up to {TAGS_MAX} tags of 1-{TAG_LEN} characters")
    if fields:
        raise Invalid(Message("评价有误", "the rating is not valid"), fields)


def rate(services, actor, case_id: int, level: int, comment: str = "", tags: list | None = None) -> dict:
    """Rate a finished case of the applicant's own: NotFound for another's case, Conflict when it is not finished
    or already rated; a bad rating starts the 差评整改 case in the same transaction."""
    access.check_applicant(actor)
    tags = [] if tags is None else tags
    _check(level, comment, tags)
    tags = list(dict.fromkeys(t.strip() for t in tags))
    with services.read() as s:
        case = s.get(Case, case_id)
        access.check_read(s, actor, case, act="rate")  # an agent: a record covering 评价
        if case.status != "completed":
            raise Conflict(Message("办结后才能评价", "a case is rated once it is finished"))
        if s.scalar(select(Rating.id).where(Rating.case_id == case_id)) is not None:
            raise Conflict(Message("该办件已评价（一次一评）", "this case has been rated already (one rating per case)"))
        group = _concerned(services, s, case)
        rated = {"case_id": case.id, "number": case.number, "matter": case.process_id, "title": case.title,
                 "applicant": json.loads(case.applicant or "{}"), "hall": case.authority_hall or case.hall}
    row = Rating(case_id=case_id, applicant_user=actor.username, level=level, comment=comment,
                 tags=json.dumps(tags, ensure_ascii=False), department=group if level <= BAD else None,
                 created_at=services.clock())
    try:
        if level > BAD:
            with services.uow() as s:
                s.add(row)
                s.flush()
                return view(row)
        platform = Actor("system", frozenset({"system"}), hall=rated["hall"])
        data = {"rated_case": rated["number"], "rating": level, "rating_title": LEVELS[level], "comment": comment,
                "tags": tags, "matter": rated["matter"], "matter_title": rated["title"]}
        with services.new_case(platform, f"zg_{group}", rated["applicant"], data, channel="internal",
                               title=f"差评整改：{rated['title']}（{rated['number']}）") as tx:
            row.remediation_case_id = tx.case.id
            tx.s.add(row)
            tx.s.flush()
            return view(row)
    except IntegrityError:  # rated meanwhile by another request
        raise Conflict(Message("该办件已评价（一次一评）", "this case has been rated already (one rating per case)")) from None


def _concerned(services, s, case) -> str:
    """The department a rating concerns: the case's deciding department, else its guide's group; the front desk
    when no 差评整改 process exists for that group."""
    guide = services.guide(services.version(s, case.version_id))
    group = case.authority_group or guide.get("group") or FALLBACK
    deployed = s.scalar(select(func.count()).select_from(ProcessVersion).where(ProcessVersion.process_id == f"zg_{group}"))
    return group if deployed else FALLBACK


def counts(services, since=None, until=None) -> dict:
    """Ratings per level and the 整改 cases they started (for the supervision figures)."""
    with services.read() as s:
        stmt = select(Rating.level, func.count()).group_by(Rating.level)
        if since is not None:
            stmt = stmt.where(Rating.created_at >= since)
        if until is not None:
            stmt = stmt.where(Rating.created_at < until)
        by_level = dict(s.execute(stmt).all())
        open_q = select(func.count()).select_from(Rating).join(Case, Case.id == Rating.remediation_case_id).where(
            Case.status != "completed")
        rectifying = s.scalar(open_q) or 0
    total = sum(by_level.values())
    return {"total": total, "by_level": [{"level": n, "title": LEVELS[n], "count": by_level.get(n, 0)} for n in LEVELS],
            "bad": sum(by_level.get(n, 0) for n in LEVELS if n <= BAD),
            "satisfied_rate": round(sum(by_level.get(n, 0) for n in LEVELS if n >= 3) / total, 4) if total else None,
            "rectifying": rectifying}
