"""/api/v1 for time limits and supervision: the 电子监察 figures, 督办, 特别程序 and the caller's notices.

Declared with web/api.py's `operation` (same blueprint, same token check, models in web/apimodels.py, so they are in
the generated OpenAPI document); who may do what is decided in the engine (engine.supervision.access and acts)."""
from __future__ import annotations

from flask import g

from engine.clock import local_date
from engine.supervision import notices, stats
from engine.supervision.acts import TimeActs

from . import apimodels as M
from .api import _send, operation
from .auth import services

CASE_ERRORS = (401, 403, 404, 409, 422)


@operation("GET", "/stats", "电子监察 figures: on-time rate, working days used vs promised vs statutory per matter and "
           "department, 即办件 share, 最多跑一次 rate and visits, volumes by matter/department/channel/day, where cases "
           "wait, 容缺/告知承诺 counts, overdue/warning/paused lists (supervisors); `from`, `to` are the hall's dates "
           "(default the last 30 days)", M.Stats, query=M.StatsQuery, errors=(401, 403, 422))
def get_stats(query: M.StatsQuery):
    sv = services()
    filters = stats.parse_filters(query.model_dump(by_alias=True, exclude_none=True), local_date(sv.clock()),
                                  set(stats.departments(sv)))
    return _send(M.Stats, stats.figures(sv, g.api_actor, filters))


@operation("POST", "/cases/{case_id}/urge", "督办: press the groups holding a case (supervisors); an audited event "
           "and a notice to them", M.CaseBrief, body=M.UrgeBody, errors=CASE_ERRORS)
def urge(case_id: int, body: M.UrgeBody):
    case = TimeActs(services()).urge(g.api_actor, case_id, body.text)
    return _send(M.CaseBrief, {"id": case["id"], "number": case["number"], "status": case["status"]})


@operation("POST", "/cases/{case_id}/procedures", "Start a 特别程序 (hearing, testing, expert, appraisal, quarantine, "
           "publicity, survey): the case's clock stops and its timers wait", M.CaseClock, body=M.ProcedureStart,
           status=201, errors=CASE_ERRORS)
def start_procedure(case_id: int, body: M.ProcedureStart):
    case = TimeActs(services()).start_procedure(g.api_actor, case_id, body.kind, body.reason)
    return _send(M.CaseClock, _clock(case), 201)


@operation("POST", "/cases/{case_id}/procedures/{kind}/end", "End the open 特别程序 of that kind: the working days "
           "it took extend the due dates and the waiting timers", M.CaseClock, body=M.ProcedureEnd,
           errors=CASE_ERRORS)
def end_procedure(case_id: int, kind: str, body: M.ProcedureEnd):
    case = TimeActs(services()).end_procedure(g.api_actor, case_id, kind, body.result)
    return _send(M.CaseClock, _clock(case))


@operation("GET", "/notices", "The caller's latest in-app notices (催办, 督办, 超时默认)", list[M.NoticeOut])
def my_notices():
    return _send(list[M.NoticeOut], notices.notices_for(services(), g.api_actor))


def _clock(case: dict) -> dict:
    return {"id": case["id"], "number": case["number"], "status": case["status"], "due": case.get("due"),
            "statutory_due": case.get("statutory_due"), "timeliness": case.get("timeliness"),
            "clock": case.get("clock")}
