"""A clerk's inbox: the open tasks of their groups (and those offered or assigned to them), filtered, sorted and
paged with a cursor — one query, whatever the size of the backlog, and the newest tasks reachable.

Keyset paging: the cursor is the sort key and id of the last row shown; the next page asks for rows after it,
so a page costs the same on page 1 and page 200 and rows inserted meanwhile are neither skipped nor repeated.
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, tuple_, union

from ..db import Case, WorkItem
from ..errors import Invalid
from ..messages import Message

SORTS = {"received": WorkItem.created_at, "due": WorkItem.due_at, "number": Case.number}
MAX_LIMIT = 200


@dataclass
class Page:
    items: list[dict]
    next: str | None  # cursor of the next page, None on the last


def _encode(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, ensure_ascii=False).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if isinstance(values, list) and len(values) == 2:
            return values
    except (ValueError, UnicodeDecodeError):
        pass
    raise Invalid("the cursor is not one this server gave out", {"cursor": Message("无效的翻页标记", "invalid cursor")})


def query(actor, group: str | None = None, q: str | None = None, sort: str = "received", desc: bool = False,
          limit: int = 50, cursor: str | None = None):
    """The SELECT for one page (limit + 1 rows: the extra one tells whether there is a next page).

    "My tasks" is three conditions (my groups', assigned to me, offered to me by name); one OR of them makes
    PostgreSQL scan every open task. Instead each is its own index-backed query for the page's rows, and the
    page is the first rows of their union."""
    if sort not in SORTS:
        raise Invalid(f"sort: one of {', '.join(SORTS)}", {"sort": "排序字段应为 " + "、".join(SORTS)})
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit: 1 to {MAX_LIMIT}", {"limit": f"每页条数应在 1 到 {MAX_LIMIT} 之间"})
    key = SORTS[sort]
    filters = []
    if group:
        filters.append(WorkItem.group_name == group)
    if q:
        filters.append(_search(q.strip()))
    if cursor:
        filters.append(_after(key, sort, desc, cursor))
    if getattr(actor, "halls", None) is not None:  # the inboxes of the halls the user sees (engine.runtime.access)
        filters.append(or_(WorkItem.hall.is_(None), WorkItem.hall.in_(sorted(actor.halls))))
    if sort == "due":
        order = [key.desc().nulls_first() if desc else key.asc().nulls_last(),
                 WorkItem.id.desc() if desc else WorkItem.id.asc()]
    else:
        order = [key.desc() if desc else key.asc(), WorkItem.id.desc() if desc else WorkItem.id.asc()]
    mine = [WorkItem.group_name.in_(sorted(actor.groups)), WorkItem.assignee == actor.username,
            and_(WorkItem.candidate_users != "", WorkItem.candidate_users.contains(f",{actor.username},"))]
    branches = [select(WorkItem.id).join(Case, Case.id == WorkItem.case_id).where(cond, *filters)
                .order_by(*order).limit(limit + 1).subquery() for cond in mine]  # (SQLite: LIMIT only in a subquery)
    ids = union(*[select(b.c.id) for b in branches]).subquery()
    return (select(WorkItem, Case.number, Case.title, Case.applicant, Case.version_id)
            .join(Case, Case.id == WorkItem.case_id).where(WorkItem.id.in_(select(ids.c.id)))
            .order_by(*order).limit(limit + 1))


def _search(q: str):
    """A case number (or its start) is looked up on the number's index; other text in names and applicants."""
    if re.fullmatch(r"OW\d{4,}", q):
        return and_(Case.number >= q, Case.number < q + "\uffff")
    like = f"%{q}%"
    return or_(Case.number.like(like), Case.title.like(like), WorkItem.name.like(like), Case.applicant.like(like))


def _after(key, sort: str, desc: bool, cursor: str):
    """Rows after the cursor's (sort key, id), in the page's order."""
    last_key, last_id = _decode(cursor)
    if sort != "number" and last_key is not None:
        try:
            last_key = datetime.fromisoformat(last_key)
        except (TypeError, ValueError):
            raise Invalid("the cursor is not one this server gave out",
                          {"cursor": Message("无效的翻页标记", "invalid cursor")}) from None
    if sort == "due":  # tasks without a due date sort last; keep the comparison total
        return _after_nullable(key, last_key, last_id, desc)
    return tuple_(key, WorkItem.id) < tuple_(last_key, last_id) if desc else \
        tuple_(key, WorkItem.id) > tuple_(last_key, last_id)


def _after_nullable(key, last_key, last_id, desc: bool):
    """Tasks without a due date come last (ascending) or first (descending: the exact reverse, so an index on the
    due date serves both directions)."""
    if not desc:
        if last_key is None:  # already among the tasks without a due date
            return and_(key.is_(None), WorkItem.id > last_id)
        return or_(key.is_(None), tuple_(key, WorkItem.id) > tuple_(last_key, last_id))
    if last_key is None:
        return or_(key.is_not(None), and_(key.is_(None), WorkItem.id < last_id))
    return and_(key.is_not(None), tuple_(key, WorkItem.id) < tuple_(last_key, last_id))


BRIEF = ("type", "name", "credit_code", "id_number", "phone")


def applicant_brief(text: str) -> dict:
    """What a list shows of an applicant (never an arbitrary blob a client stored with it)."""
    try:
        applicant = json.loads(text or "{}")
    except ValueError:
        return {}
    return {k: applicant[k] for k in BRIEF if isinstance(applicant, dict) and k in applicant}


def cursor_of(row, sort: str) -> str:
    item, number = row[0], row[1]
    value = {"received": item.created_at, "due": item.due_at, "number": number}[sort]
    return _encode([value.isoformat() if hasattr(value, "isoformat") else value, item.id])
