"""好差评 (GB/T 39734/39735): the applicant rates a finished case of theirs once (一次一评) on five levels; a rating
of 不满意 or 非常不满意 starts a 差评整改 case (核实 → 整改 → 回访) of the department concerned, in the same
transaction as the rating, so there is never a bad rating without its 整改 nor a 整改 without its rating.

Ratings are rows beside the case, not events in its chain: a case is rated after it ended, and its audit trail
(hash chain and replay) stays exactly what it was when it closed; the 整改 case has its own chain from its start,
whose `case_started` names the rated case.

Channels (recorded with each rating): `portal` (the applicant signed in), `qr` (the link printed as a QR code on
the 受理通知书: a token made with an HMAC of the case id under the app's secret key, so it needs no sign-in and
cannot be made for another case), `pad` (the window pad: a tablet paired to the hall by a pickup clerk and then signed out; the clerk opens
it for a finished case from their desk, the applicant taps the level; the pad's one-time key is shown only on a
paired, signed-out pad, no clerk call carries a level, and a signed-in session never rates on the pad).
Every channel goes through `_record`: one rating per case, and a bad one starts its 整改 in the same transaction.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import timedelta

from sqlalchemy import case as when, func, select
from sqlalchemy.exc import IntegrityError

from ..clock import as_utc
from ..db import Case, ProcessVersion, Rating
from ..errors import Conflict, Forbidden, Invalid, NotFound
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


def rating_of_case(services, case_id: int) -> dict | None:
    with services.read() as s:
        return rating_of(s, case_id)


def view(row: Rating) -> dict:
    return {"level": row.level, "title": LEVELS[row.level], "channel": row.channel or "portal",
            "comment": row.comment, "tags": json.loads(row.tags),
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
    """Rate a finished case of the applicant's own on the portal: NotFound for another's case, Conflict when it is
    not finished or already rated; a bad rating starts the 差评整改 case in the same transaction."""
    access.check_applicant(actor)
    with services.read() as s:
        case = s.get(Case, case_id)
        access.check_read(s, actor, case, act="rate")  # an agent: a record covering 评价
    return _record(services, case_id, actor.username, level, comment, tags, "portal")


def _record(services, case_id: int, rater: str, level, comment, tags, channel: str, opened_by: str | None = None,
            pad: int | None = None) -> dict:
    """The one path of every channel: checks, 一次一评, and the 差评整改 a bad rating starts, in one transaction
    (with the pad request it uses up, when rated on the pad)."""
    tags = [] if tags is None else tags
    comment = "" if comment is None else comment
    _check(level, comment, tags)
    tags = list(dict.fromkeys(t.strip() for t in tags))
    with services.read() as s:
        case = s.get(Case, case_id)
        if case is None:
            raise NotFound(Message("办件不存在", "no such case"))
        if case.status != "completed":
            raise Conflict(Message("办结后才能评价", "a case is rated once it is finished"))
        if s.scalar(select(Rating.id).where(Rating.case_id == case_id)) is not None:
            raise Conflict(ALREADY)
        group = _concerned(services, s, case)
        rated = {"case_id": case.id, "number": case.number, "matter": case.process_id, "title": case.title,
                 "applicant": json.loads(case.applicant or "{}"), "hall": case.authority_hall or case.hall}
    row = Rating(case_id=case_id, applicant_user=rater, level=level, comment=comment,
                 tags=json.dumps(tags, ensure_ascii=False), department=group if level <= BAD else None,
                 created_at=services.clock(), channel=channel, opened_by=opened_by)
    try:
        if level > BAD:
            with services.uow() as s:
                _use_pad(s, pad, services.clock())
                s.add(row)
                s.flush()
                return view(row)
        data = {"rated_case": rated["number"], "rating": level, "rating_title": LEVELS[level], "comment": comment,
                "tags": tags, "matter": rated["matter"], "matter_title": rated["title"], "rating_channel": channel}
        with _rectification(services, group, rated, data) as tx:
            _use_pad(tx.s, pad, services.clock())
            row.remediation_case_id = tx.case.id
            tx.s.add(row)
            tx.s.flush()
            return view(row)
    except IntegrityError:  # rated meanwhile by another request
        raise Conflict(ALREADY) from None


ALREADY = Message("该办件已评价（一次一评）", "this case has been rated already (one rating per case)")


def _rectification(services, group: str, rated: dict, data: dict, title: str = "差评整改"):
    """The transaction that starts a 差评整改 case of `group`, started by the platform at the rated case's hall."""
    platform = Actor("system", frozenset({"system"}), hall=rated["hall"])
    return services.new_case(platform, f"zg_{group}", rated["applicant"], data, channel="internal",
                             title=f"{title}：{rated['title']}（{rated['number']}）")


def _use_pad(s, pad: int | None, now) -> None:
    if pad is None:
        return
    from ..db import PadRequest

    req = s.get(PadRequest, pad, with_for_update=True)
    if req is None or req.used_at is not None:
        raise Conflict(Message("评价器已使用，请重新开启", "the pad was used already: open it again"))
    req.used_at = now


# ---------------------------------------------------------------- a rating link per case (QR on the receipt)
def _link_key(key: str | bytes) -> bytes:
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, b"onewindow rating link v1", hashlib.sha256).digest()  # a key of its own for this use


def token_for(key: str | bytes, case_id: int) -> str:
    """The rating link's token of a case: its id and an HMAC of it under the app's secret key; it needs no
    sign-in, so whoever holds the receipt (the applicant) rates once."""
    sig = hmac.new(_link_key(key), f"rate:{case_id}".encode(), hashlib.sha256).digest()[:18]
    return f"{case_id}-{base64.urlsafe_b64encode(sig).decode().rstrip('=')}"


def case_of_token(key: str | bytes, token: str) -> int:
    """The case a token rates; NotFound for anything not made with the key (forged, altered, malformed)."""
    head, _, _ = str(token).partition("-")
    if not head.isdigit() or len(head) > 12 or not hmac.compare_digest(token_for(key, int(head)), str(token)):
        raise NotFound(Message("评价链接无效", "this rating link is not valid"))
    return int(head)


def by_token(services, key, token: str) -> dict:
    """What the public rating page shows: the case (number, title, finished or not) and its rating, if any."""
    case_id = case_of_token(key, token)
    with services.read() as s:
        case = s.get(Case, case_id)
        if case is None:
            raise NotFound(Message("评价链接无效", "this rating link is not valid"))
        return {"case_id": case.id, "number": case.number, "title": case.title, "finished": case.status == "completed",
                "rating": rating_of(s, case_id)}


def rate_by_token(services, key, token: str, level, comment: str = "", tags: list | None = None) -> dict:
    """Rate through the receipt's QR link (channel qr): no sign-in; the rating is the case's applicant's."""
    case_id = case_of_token(key, token)
    with services.read() as s:
        case = s.get(Case, case_id)
        rater = (case.applicant_user if case is not None else None) or ""
    return _record(services, case_id, rater, level, comment, tags, "qr")


# ---------------------------------------------------------------- the window pad (评价器)
PAD_MINUTES = 5
PAD_GROUPS = frozenset({"pickup", "admin"})


def pad_hall(actor) -> str:
    """The hall whose pad a pickup clerk opens or pairs ('' without an organisation); others are refused."""
    if actor is None or not (set(actor.groups) & PAD_GROUPS):
        raise Forbidden(Message("评价器由出件窗口开启", "the pad is opened by the pickup window"))
    return actor.hall or ""


def open_pad(services, actor, case_ref) -> dict:
    """The pickup clerk opens the hall's pad for a finished case they may read: the pad then shows that case and
    waits for the applicant's tap. Nothing here takes a level, and what comes back carries no key."""
    hall = pad_hall(actor)
    from ..db import PadRequest

    now = services.clock()
    with services.uow() as s:
        ref = str(case_ref or "").strip()
        case = s.get(Case, int(ref)) if ref.isdigit() and len(ref) <= 12 else \
            s.scalar(select(Case).where(Case.number == ref))
        if case is None or not access.may_read_case(s, actor, case):
            raise NotFound(Message("没有这个办件", "no such case"))
        if case.status != "completed":
            raise Conflict(Message("办结后才能评价", "a case is rated once it is finished"))
        if s.scalar(select(Rating.id).where(Rating.case_id == case.id)) is not None:
            raise Conflict(ALREADY)
        for old in s.scalars(select(PadRequest).where(PadRequest.hall == hall, PadRequest.used_at.is_(None))).all():
            old.used_at = now  # one case on the pad at a time
        req = PadRequest(hall=hall, case_id=case.id, nonce=secrets.token_urlsafe(24), opened_by=actor.username,
                         opened_at=now, expires_at=now + timedelta(minutes=PAD_MINUTES))
        s.add(req)
        s.flush()
        return {"case_id": case.id, "number": case.number, "title": case.title,
                "expires_at": req.expires_at.isoformat()}


def _the_pad(actor) -> None:
    """The pad is the applicant's: a signed-in user (a clerk) never sees its key nor taps on it."""
    if actor is not None:
        raise Forbidden(Message("评价器供申请人本人使用：请先在此设备上退出登录（由出件窗口配对）",
                                "the pad is the applicant's: this device must be paired and signed out"))


def pad_waiting(services, hall: str, actor=None) -> dict | None:
    """What a paired pad of `hall` shows now: the case it was opened for and its one-time key, or None."""
    _the_pad(actor)
    from ..db import PadRequest

    now = services.clock()
    with services.read() as s:
        req = s.scalar(select(PadRequest).where(PadRequest.hall == hall, PadRequest.used_at.is_(None))
                       .order_by(PadRequest.id.desc()).limit(1))
        if req is None or as_utc(req.expires_at) <= as_utc(now):
            return None
        case = s.get(Case, req.case_id)
        return {"nonce": req.nonce, "case_id": case.id, "number": case.number, "title": case.title}


def rate_on_pad(services, hall: str, nonce: str, level, tags: list | None = None, actor=None) -> dict:
    """The applicant's tap on a paired pad of `hall` (channel pad): only with the pad's one-time key, before it
    expires, and never from a signed-in session; the pad request is used up in the same transaction as the rating,
    which names the clerk who opened the pad."""
    _the_pad(actor)
    from ..db import PadRequest

    now = services.clock()
    with services.read() as s:
        req = s.scalar(select(PadRequest).where(PadRequest.nonce == str(nonce or "")))
        if req is None or req.hall != hall:
            raise NotFound(Message("评价器未开启", "the pad is not open"))
        if req.used_at is not None or as_utc(req.expires_at) <= as_utc(now):
            raise Conflict(Message("评价器已关闭，请重新开启", "the pad has closed: open it again"))
        case = s.get(Case, req.case_id)
        rater = case.applicant_user or ""
        pad, case_id, opened_by = req.id, req.case_id, req.opened_by
    return _record(services, case_id, rater, level, "", tags, "pad", opened_by=opened_by, pad=pad)


def _concerned(services, s, case) -> str:
    """The department a rating concerns: the case's deciding department, else its guide's group; the front desk
    when no 差评整改 process exists for that group."""
    guide = services.guide(services.version(s, case.version_id))
    group = case.authority_group or guide.get("group") or FALLBACK
    deployed = s.scalar(select(func.count()).select_from(ProcessVersion).where(ProcessVersion.process_id == f"zg_{group}"))
    return group if deployed else FALLBACK


CHANNELS = ("portal", "qr", "pad")


def counts(services, since=None, until=None) -> dict:
    """Ratings given in the period per level and per channel, the bad ones with their 回访 done (the 整改 they
    started has finished: 回访 is its last step) against due (回访率), the 整改 cases still open, and appeals
    (open now; decided in the period). A few grouped queries over small tables (for the supervision figures)."""
    from ..db import RatingAppeal

    def period(stmt, column):
        if since is not None:
            stmt = stmt.where(column >= since)
        if until is not None:
            stmt = stmt.where(column < until)
        return stmt

    with services.read() as s:
        done = func.sum(when((Case.status == "completed", 1), else_=0))
        rows = s.execute(period(select(Rating.level, Rating.channel, func.count(), done)
                                .outerjoin(Case, Case.id == Rating.remediation_case_id)
                                .group_by(Rating.level, Rating.channel), Rating.created_at)).all()
        open_q = select(func.count()).select_from(Rating).join(Case, Case.id == Rating.remediation_case_id).where(
            Case.status != "completed")
        rectifying = s.scalar(open_q) or 0
        appeals_open = s.scalar(select(func.count()).select_from(RatingAppeal)
                                .where(RatingAppeal.status == "open")) or 0
        decided = dict(s.execute(period(select(RatingAppeal.status, func.count())
                                        .where(RatingAppeal.status != "open").group_by(RatingAppeal.status),
                                        RatingAppeal.decided_at)).all())
    by_level: dict[int, int] = {}
    by_channel = dict.fromkeys(CHANNELS, 0)
    revisit_done = 0
    for level, channel, n, finished in rows:
        by_level[level] = by_level.get(level, 0) + n
        by_channel[channel or "portal"] = by_channel.get(channel or "portal", 0) + n
        if level <= BAD:
            revisit_done += int(finished or 0)
    total = sum(by_level.values())
    bad = sum(by_level.get(n, 0) for n in LEVELS if n <= BAD)
    return {"total": total, "by_level": [{"level": n, "title": LEVELS[n], "count": by_level.get(n, 0)} for n in LEVELS],
            "bad": bad,
            "satisfied_rate": round(sum(by_level.get(n, 0) for n in LEVELS if n >= 3) / total, 4) if total else None,
            "rectifying": rectifying,
            "by_channel": [{"channel": k, "count": n} for k, n in by_channel.items()],
            "revisit": {"due": bad, "done": revisit_done, "rate": round(revisit_done / bad, 4) if bad else None},
            "appeals": {"open": appeals_open, "upheld": decided.get("upheld", 0),
                        "dismissed": decided.get("dismissed", 0)}}
