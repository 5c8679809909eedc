"""The applicant's own desk (/api/v1/me and the /me pages): their cases, applying online, one case's progress.

Decided here for every front end: only applicant identities; only their own cases (another's is simply not
found); an online application's applicant block is the signed-up identity, never what a request says.
"""
from __future__ import annotations

import json

from sqlalchemy import select

from ..db import Case, Rating
from ..errors import Forbidden
from ..messages import Message
from . import access, agents, ratings
from .applicants import applicant_block, mask

LIST_MAX = 100


def my_cases(services, actor, limit: int = 50) -> list[dict]:
    """The applicant's cases, newest first, ID numbers masked (an agent acting for an applicant: the principal's
    cases its valid authorisations cover for tracking, engine.runtime.agents)."""
    access.check_applicant(actor)
    with services.read() as s:
        mine = Case.applicant_user == actor.username
        if actor.on_behalf_of:
            mine = agents.principal_cases(s, actor, actor.now())
            if mine is False:
                raise Forbidden(Message("代办授权不含查询进度", "the authorisation does not cover tracking"))
        rows = s.execute(select(Case, Rating.level).outerjoin(Rating, Rating.case_id == Case.id)
                         .where(mine)
                         .order_by(Case.id.desc()).limit(max(1, min(limit, LIST_MAX)))).all()
        return [brief(c, level) for c, level in rows]


def brief(case: Case, level: int | None) -> dict:
    applicant = json.loads(case.applicant or "{}")
    return {"id": case.id, "number": case.number, "matter": case.process_id, "title": case.title,
            "status": case.status, "channel": case.channel,
            "applicant": {"type": applicant.get("type"), "name": applicant.get("name"),
                          "id_number": mask(applicant.get("id_number")), "credit_code": applicant.get("credit_code")},
            "created_at": case.created_at.isoformat(), "closed_at": case.closed_at.isoformat() if case.closed_at else None,
            "rating": None if level is None else {"level": level, "title": ratings.LEVELS[level]},
            "may_rate": case.status == "completed" and level is None}


def apply(services, actor, matter: str, data: dict, materials: dict, files: dict | None = None,
          idempotency_key: str | None = None, request_hash: str | None = None) -> dict:
    """Apply online for a matter or bundle as the signed-up identity: the same validation as at a window; the
    front desk then accepts or returns it (online 预审), except where the matter judges its intake at its start."""
    access.check_applicant(actor)
    with services.read() as s:
        if actor.on_behalf_of:  # 帮办代办: a valid authorisation covers this matter and applying; the principal's identity
            agents.check(s, actor, matter, "apply", actor.now())
        block = applicant_block(s, actor.on_behalf_of or actor.username)
    if block is None:
        raise Forbidden(Message("请先完成实名注册（手机号验证）再网上申请",
                                "confirm your identity (sign-up and mobile code) before applying online"))
    verdict = {"accepted": True, "materials": dict(materials), **({"files": files} if files else {})}
    return services.start_case(actor, matter, block, data, channel="online", intake=verdict,
                               idempotency_key=idempotency_key, request_hash=request_hash)


def my_case(services, actor, case_id: int) -> dict:
    """One case of the applicant's: status, steps, due date, what is owed, certificates, and its rating."""
    access.check_applicant(actor)
    out = services.case_view(case_id, actor)
    with services.read() as s:
        out["rating"] = ratings.rating_of(s, case_id)
        out["agent"] = agents.acted_by(s, s.get(Case, case_id))  # 代办人 X（代 Y）, when an agent made it
    out["may_rate"] = out["status"] == "completed" and out["rating"] is None
    return out
