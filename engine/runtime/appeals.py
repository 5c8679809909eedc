"""申诉: the applicant contests the outcome of a finished 差评整改 of their bad rating; a supervisor decides.

Decided here for every front end:
- the applicant (or their agent, with a record covering 评价) appeals only the rating of their own case (another's
  case is not found), only once its current 整改 has finished
  (its 回访 done), once per 整改 (409 again), with a reason;
- supervisors (engine.supervision.access) of the halls that see the 整改 case list appeals and decide them, once,
  upheld or dismissed, always with a reason;
- upheld starts a NEW 整改 case of the same department, in the same transaction as the decision, and the rating
  then points to it (so 回访 is due again and the applicant may appeal its outcome in turn). Why a new case and not
  reopening the finished one: a finished case's workflow has ended and its audit chain closed; stepping it again
  would add steps its diagram cannot reach, which replay and `audit verify` could not reproduce. The new case has
  its own chain, whose start names the appeal and the 整改 it follows.
Appeals are rows beside the cases (like ratings), not events in a case's chain.
"""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db import Case, Rating, RatingAppeal
from ..errors import Conflict, Invalid, NotFound
from ..messages import Message
from ..supervision.access import require_supervisor
from . import access, ratings

REASON_LEN = 2000
STATUSES = ("open", "upheld", "dismissed")


def _reason(text, field: str = "reason") -> str:
    text = (text or "").strip() if isinstance(text, str) else ""
    if not 0 < len(text) <= REASON_LEN:
        raise Invalid(Message("请写明理由", "give a reason"),
                      {field: Message(f"理由必填，至多 {REASON_LEN} 字", f"required, up to {REASON_LEN} characters")})
    return text


def view(a: RatingAppeal, case_number: str | None = None) -> dict:
    return {"id": a.id, "case_id": None, "rectification_case": a.remediation_case_id, "reason": a.reason,
            "status": a.status, "decided_by": a.decided_by, "decision": a.decision,
            "decided_at": a.decided_at.isoformat() if a.decided_at else None,
            "new_rectification_case": a.new_case_id, "created_at": a.created_at.isoformat(),
            "number": case_number}


def appeal(services, actor, case_id: int, reason: str) -> dict:
    """The applicant appeals the outcome of the 整改 of their rating of `case_id`."""
    access.check_applicant(actor)
    reason = _reason(reason)
    try:
        with services.uow() as s:
            case = s.get(Case, case_id)
            access.check_read(s, actor, case, act="rate")  # the applicant's own case (or an agent's covering 评价)
            rating = s.scalar(select(Rating).where(Rating.case_id == case_id).with_for_update())
            if rating is None:
                raise NotFound(Message("该办件尚未评价", "this case has not been rated"))
            if rating.remediation_case_id is None:
                raise Conflict(Message("只有差评整改的结果可以申诉", "only the outcome of a 差评整改 can be appealed"))
            fix = s.get(Case, rating.remediation_case_id)
            if fix is None or fix.status != "completed":
                raise Conflict(Message("整改完成（回访）后才能申诉", "appeal once the 整改 has finished (回访 done)"))
            if s.scalar(select(RatingAppeal.id).where(RatingAppeal.remediation_case_id == fix.id)) is not None:
                raise Conflict(Message("该整改结果已申诉过", "this 整改 outcome has been appealed already"))
            row = RatingAppeal(rating_id=rating.id, remediation_case_id=fix.id, applicant_user=actor.username,
                               reason=reason, status="open", created_at=services.clock())
            s.add(row)
            s.flush()
            return dict(view(row, case.number), case_id=case.id)
    except IntegrityError:
        raise Conflict(Message("该整改结果已申诉过", "this 整改 outcome has been appealed already")) from None


def mine(services, actor, case_id: int) -> list[dict]:
    """The applicant's appeals about one case of theirs."""
    access.check_applicant(actor)
    with services.read() as s:
        case = s.get(Case, case_id)
        access.check_read(s, actor, case)
        rows = s.scalars(select(RatingAppeal).join(Rating, Rating.id == RatingAppeal.rating_id)
                         .where(Rating.case_id == case_id)
                         .order_by(RatingAppeal.id)).all()
        return [dict(view(a, case.number), case_id=case.id) for a in rows]


def listing(services, actor, status: str | None = None, limit: int = 100) -> list[dict]:
    """Appeals for supervisors, open ones first then newest; only those whose 整改 case the supervisor sees."""
    require_supervisor(actor)
    if status is not None and status not in STATUSES:
        raise Invalid(Message("状态应为 open、upheld 或 dismissed", "status: open, upheld or dismissed"),
                      {"status": Message("open、upheld 或 dismissed", "open, upheld or dismissed")})
    with services.read() as s:
        q = (select(RatingAppeal, Rating, Case).join(Rating, Rating.id == RatingAppeal.rating_id)
             .join(Case, Case.id == Rating.case_id).order_by(RatingAppeal.status != "open", RatingAppeal.id.desc()))
        if status:
            q = q.where(RatingAppeal.status == status)
        out = []
        for a, r, c in s.execute(q.limit(max(1, min(limit, 500)))).all():
            fix = s.get(Case, a.remediation_case_id)
            if fix is None or not access.may_read_case(s, actor, fix):
                continue
            out.append(dict(view(a, c.number), case_id=c.id, title=c.title, level=r.level,
                            level_title=ratings.LEVELS[r.level], comment=r.comment, department=r.department,
                            channel=r.channel))
        return out


def decide(services, actor, appeal_id: int, upheld: bool, reason: str) -> dict:
    """A supervisor upholds (a new 整改 starts, in this transaction) or dismisses an open appeal, with a reason."""
    require_supervisor(actor)
    if not isinstance(upheld, bool):
        raise Invalid(Message("请选择维持或驳回", "upheld: true or false"),
                      {"upheld": Message("应为 true 或 false", "true or false")})
    reason = _reason(reason)
    with services.read() as s:
        a = s.get(RatingAppeal, appeal_id)
        fix = s.get(Case, a.remediation_case_id) if a is not None else None
        if a is None or fix is None or not access.may_read_case(s, actor, fix):
            raise NotFound(Message("没有这个申诉", "no such appeal"))
        rating = s.get(Rating, a.rating_id)
        rated_case = s.get(Case, rating.case_id)
        rated = {"number": rated_case.number, "title": rated_case.title,
                 "applicant": json.loads(rated_case.applicant or "{}"),
                 "hall": rated_case.authority_hall or rated_case.hall}
        data = {"rated_case": rated_case.number, "rating": rating.level, "rating_title": ratings.LEVELS[rating.level],
                "comment": rating.comment, "tags": json.loads(rating.tags), "matter": rated_case.process_id,
                "matter_title": rated_case.title, "rating_channel": rating.channel, "appeal": a.reason,
                "appeal_decision": reason, "previous_rectification": fix.number}
        group = rating.department or ratings.FALLBACK

    def settle(s, new_case_id=None):
        row = s.get(RatingAppeal, appeal_id, with_for_update=True)
        if row.status != "open":
            raise Conflict(Message("该申诉已处理", "this appeal has been decided already"))
        row.status = "upheld" if upheld else "dismissed"
        row.decided_by, row.decision, row.decided_at = actor.username, reason, services.clock()
        if new_case_id is not None:
            row.new_case_id = new_case_id
            s.get(Rating, row.rating_id).remediation_case_id = new_case_id
        s.flush()
        return dict(view(row, rated["number"]), case_id=rating.case_id)

    if not upheld:
        with services.uow() as s:
            return settle(s)
    with ratings._rectification(services, group, rated, data, title="申诉整改") as tx:
        return settle(tx.s, tx.case.id)
