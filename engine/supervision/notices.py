"""In-app notices: 催办 (a review's reminder timer), 超时默认 (a review deemed approved), 督办 (a supervisor).

Written from the events as they are appended (an observer of the service layer), in the same transaction: a
reminder goes to the assignee of the reminded task once it is claimed, else to its group; 督办 to every group
holding an open task of the case. A 催办 is also an outbox message (engine.runtime.notify, written from the same
event in the same transaction): an in-app notice to the assignee, or to each member of the group, delivered by the
worker like every notification.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, or_, select

from ..clock import iso_utc
from ..db import WorkItem
from .tables import Notice


def observe(s, case, type_: str, payload: dict, at: datetime, actor, group, task_id, element_id) -> None:
    if type_ == "reminder_sent":
        item = s.execute(select(WorkItem.id, WorkItem.assignee, WorkItem.group_name).where(
            WorkItem.case_id == case.id, WorkItem.element_id == payload.get("task"))).first()
        name = payload.get("name") or payload.get("task")
        _add(s, at, "remind", case, item.id if item else None, item.group_name if item else payload.get("group") or "",
             item.assignee if item else None,
             f"催办：办件 {case.number}「{name}」即将到期，请抓紧办理",
             f"Reminder: case {case.number}, '{name}' is due soon", "system")
    elif type_ == "deemed_approved":
        who = "（最终决定）" if payload.get("final") else f"（第 {payload.get('level')} 级）"
        _add(s, at, "deemed", case, task_id, group or "", None,
             f"超时默认：办件 {case.number} 的 {payload.get('member')} 审查超过承诺时限未作决定，已视为同意{who}",
             f"Deemed approval: case {case.number}, {payload.get('member')} was not decided in time", "system")
    elif type_ == "case_urged":
        for g in payload.get("groups") or []:
            _add(s, at, "urge", case, None, g, None, f"督办：办件 {case.number} — {payload.get('text')}",
                 f"Pressed by supervision: case {case.number} — {payload.get('text')}", actor.username)


def _add(s, at, kind, case, task_id, group, username, text, text_en, by) -> None:
    s.execute(insert(Notice).values(at=at, kind=kind, case_id=case.id, task_id=task_id, group_name=group or "",
                                    username=username, text=text, text_en=text_en, by=by))


def notices_for(services, actor, limit: int = 50) -> list[dict]:
    """The latest notices to the actor or to one of their groups."""
    with services.read() as s:
        rows = s.scalars(select(Notice).where(or_(Notice.username == actor.username,
                                                  (Notice.username.is_(None)) & Notice.group_name.in_(
                                                      sorted(actor.groups))))
                         .order_by(Notice.at.desc(), Notice.id.desc()).limit(limit)).all()
        return [view(n) for n in rows]


def for_case(services, case_id: int) -> list[dict]:
    with services.read() as s:
        return [view(n) for n in s.scalars(select(Notice).where(Notice.case_id == case_id)
                                           .order_by(Notice.at, Notice.id)).all()]


def view(n: Notice) -> dict:
    return {"id": n.id, "at": iso_utc(n.at), "kind": n.kind, "case_id": n.case_id, "task_id": n.task_id,
            "group": n.group_name, "user": n.username, "text": n.text, "text_en": n.text_en, "by": n.by}
