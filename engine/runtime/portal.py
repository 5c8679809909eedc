"""The applicant's own desk (/api/v1/me and the /me pages): the catalogue and guides, applying online, their
cases, one case's progress, and the papers issued to them (documents and e-certificates).

Decided here for every front end: only applicant identities; only their own cases and papers (another's is simply
not found); an online application's applicant block is the signed-up identity, never what a request says; only
matters whose guide offers it (全程网办, 网上预审) are applied for online; what is already on file for the applicant
(免提交: e-certificates, earlier cases, shared registers) is looked up here for the signed-in identity.
"""
from __future__ import annotations

import json

from sqlalchemy import select

from ..db import Case, Rating
from ..errors import Forbidden, Invalid, NotFound
from ..messages import Message
from . import access, agents, online_acts, ratings
from .applicants import applicant_block, mask

LIST_MAX = 100
ONLINE_WAYS = frozenset({"全程网办", "网上预审"})  # guide `online`: what may be applied for online (not 窗口办理)


def catalogue(services, actor, q: str = "") -> list[dict]:
    """The public catalogue the front desk searches (engine.readmodels.matters), each row with how it is applied
    for (`online`) and whether this applicant may apply for it online (`may_apply`)."""
    from .. import readmodels

    access.check_applicant(actor)
    modes = readmodels.online_modes(services)
    return [dict(m, online=modes.get(m["code"]), may_apply=modes.get(m["code"]) in ONLINE_WAYS)
            for m in readmodels.matters(services, q)]


def guide(services, actor, code: str, data: dict | None = None) -> dict:
    """A matter's or bundle's guide as the window reads it (engine.readmodels.matter: summary, materials, the merged
    start form), with `may_apply`, the applicant block of the signed-in identity (None before it is confirmed) and
    `on_file`: material id -> {source, source_text} for what is already held for this applicant (免提交)."""
    from .. import readmodels

    access.check_applicant(actor)
    m = readmodels.matter(services, code)
    if not m["startable"]:
        raise NotFound(f"not a matter one applies for: {code}")
    m["online"] = (m["guide"] or {}).get("online") or "窗口办理"
    m["may_apply"] = m["online"] in ONLINE_WAYS
    with services.read() as s:
        block = applicant_block(s, actor.username)
    m["applicant"], m["on_file"], m["prefill"] = block, {}, {}
    if block is not None and m["may_apply"]:
        preview = readmodels.intake_preview(services, code, block, data)
        m["on_file"] = {x["id"]: {"source": x["source"], "source_text": x["source_text"]}
                        for x in preview["materials"] if x["status"] == "shared"}
        m["prefill"] = preview["prefill"]
    return m


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
        way = services.guide(services.latest_version(s, matter)).get("online") or "窗口办理"
    if block is None:
        raise Forbidden(Message("请先完成实名注册（手机号验证）再网上申请",
                                "confirm your identity (sign-up and mobile code) before applying online"))
    if way not in ONLINE_WAYS:
        raise Invalid(f"{matter} is applied for at a window ({way})",
                      {"matter": Message(f"本事项须到窗口办理（{way}）", f"this matter is applied for at a window ({way})")})
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
    out["steps"] = [{"name": e["payload"].get("name") or e["element_id"], "group": e["group"], "at": e["at"]}
                    for e in services.events(case_id, actor) if e["type"] == "task_completed"]
    out["papers"] = papers_of(out)
    out["acts"] = online_acts.view(services, actor, case_id)  # 补正/补齐, delivery, apply again (预审 returned)
    return out


def papers_of(view: dict) -> list[dict]:
    """The documents (受理通知书, 一次性告知书, decisions ...) and e-certificates of a case view, one list."""
    docs = [{"number": d["number"], "category": "document", "kind": d["kind"], "title": d["title"],
             "issued_at": d.get("issued_at"), "status": "valid"} for d in view.get("documents") or []]
    certs = [{"number": c["number"], "category": "certificate", "kind": c["type"], "title": c["name"],
              "issued_at": c.get("issued_at"), "status": c["status"]} for c in view.get("certificates") or []]
    return docs + certs


def papers(services, actor, case_id: int) -> list[dict]:
    """The papers issued in one of my cases (another applicant's case is not found)."""
    access.check_applicant(actor)
    return papers_of(services.case_view(case_id, actor))


def paper(services, actor, case_id: int, number: str) -> dict:
    """One paper of one of my cases by its number: NotFound for another case's paper or another applicant's case."""
    found = next((p for p in papers(services, actor, case_id) if p["number"] == number), None)
    if found is None:
        raise NotFound(f"no such document in case {case_id}: {number}")
    return found
