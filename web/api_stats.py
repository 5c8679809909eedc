"""/api/v1 for time limits and supervision: the 电子监察 figures, 督办, 特别程序 and the caller's notices.

A blueprint of its own beside web/api.py, authenticated the same way (a bearer token, engine.runtime.users);
permissions are decided in the engine (engine.supervision.access, engine.supervision.acts)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from engine.clock import local_date
from engine.errors import Invalid, NotFound, Unauthorized
from engine.messages import Message
from engine.supervision import notices, stats
from engine.supervision.acts import TimeActs

from .auth import services, token_user

bp = Blueprint("api_stats", __name__, url_prefix="/api/v1")


@bp.before_request
def _authenticate():
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise Unauthorized("missing bearer token (POST /api/v1/auth/token)")
    try:
        g.api_actor = services().actor(token_user(header[7:].strip()))
    except NotFound:
        raise Unauthorized("the token's user no longer exists") from None


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid(Message("请求体应为 JSON 对象", "the request body must be a JSON object"),
                      {"_": Message("必须是 JSON 对象", "must be a JSON object")})
    return data


def _text(body: dict, name: str):
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise Invalid(Message(f"{name} 应为文字", f"{name} must be text"), {name: Message("应为文字", "must be text")})
    return value


@bp.get("/stats")
def get_stats():
    """The supervision figures for `from`, `to` (YYYY-MM-DD, hall's dates; default the last 30 days) and
    `department` (a group code)."""
    sv = services()
    filters = stats.parse_filters(request.args, local_date(sv.clock()), set(stats.departments(sv)))
    return jsonify(stats.figures(sv, g.api_actor, filters))


@bp.post("/cases/<int:case_id>/urge")
def urge(case_id):
    """督办 (supervisors): `{text}`; the groups holding the case get a notice."""
    body = _body()
    case = TimeActs(services()).urge(g.api_actor, case_id, _text(body, "text"))
    return jsonify({"id": case["id"], "number": case["number"], "status": case["status"]})


@bp.post("/cases/<int:case_id>/procedures")
def start_procedure(case_id):
    """Start a 特别程序 `{kind, reason}`: the case's clock stops and its timers wait."""
    body = _body()
    case = TimeActs(services()).start_procedure(g.api_actor, case_id, _text(body, "kind"), _text(body, "reason"))
    return jsonify(_clock(case)), 201


@bp.post("/cases/<int:case_id>/procedures/<kind>/end")
def end_procedure(case_id, kind):
    """End the open 特别程序 of that kind `{result}`: the working days it took extend the limits."""
    body = _body()
    case = TimeActs(services()).end_procedure(g.api_actor, case_id, kind, _text(body, "result"))
    return jsonify(_clock(case))


@bp.get("/notices")
def my_notices():
    """The latest notices to the caller or their groups (催办, 督办, 超时默认)."""
    return jsonify(notices.notices_for(services(), g.api_actor))


def _clock(case: dict) -> dict:
    return {"id": case["id"], "number": case["number"], "status": case["status"], "due": case.get("due"),
            "statutory_due": case.get("statutory_due"), "timeliness": case.get("timeliness"),
            "clock": case.get("clock")}


def openapi_paths(ref, json_, errors) -> dict:
    """This blueprint's part of the OpenAPI document (web/openapi.py adds it)."""
    case_id = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    text_body = lambda *names: {"required": True, "content": {"application/json": {"schema": {  # noqa: E731
        "type": "object", "required": list(names), "properties": {n: {"type": "string"} for n in names}}}}}
    clock = json_({"type": "object", "properties": {
        "due": {"type": ["string", "null"]}, "statutory_due": {"type": ["string", "null"]},
        "timeliness": {"enum": ["normal", "warning", "overdue", "paused", "done"]}, "clock": {"type": ["object", "null"]}}})
    date_param = lambda name: {"name": name, "in": "query", "schema": {"type": "string", "format": "date"}}  # noqa: E731
    return {
        "/api/v1/stats": {"get": {
            "summary": "电子监察 figures: on-time rate, working days used vs promised vs statutory per matter and "
                       "department, 即办件 share, 最多跑一次 rate and visits, volumes by matter/department/channel/day, "
                       "where cases wait, 容缺/告知承诺 counts, overdue/warning/paused lists (supervisors)",
            "parameters": [date_param("from"), date_param("to"),
                           {"name": "department", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": json_(ref("Stats")), **{k: errors[k] for k in ("401", "403", "422")}}}},
        "/api/v1/cases/{case_id}/urge": {"post": {
            "summary": "督办: press the groups holding a case (supervisors); an audited event and a notice",
            "parameters": [case_id], "requestBody": text_body("text"),
            "responses": {"200": json_({"type": "object"}), **{k: errors[k] for k in ("401", "403", "404", "409", "422")}}}},
        "/api/v1/cases/{case_id}/procedures": {"post": {
            "summary": "Start a 特别程序 (hearing, testing, expert, appraisal, quarantine, publicity, survey): the "
                       "clock stops", "parameters": [case_id], "requestBody": text_body("kind", "reason"),
            "responses": {"201": clock, **{k: errors[k] for k in ("401", "403", "404", "409", "422")}}}},
        "/api/v1/cases/{case_id}/procedures/{kind}/end": {"post": {
            "summary": "End a 特别程序: its working days extend the due dates and the waiting timers",
            "parameters": [case_id, {"name": "kind", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": text_body("result"),
            "responses": {"200": clock, **{k: errors[k] for k in ("401", "403", "404", "409", "422")}}}},
        "/api/v1/notices": {"get": {
            "summary": "The caller's in-app notices (催办, 督办, 超时默认)",
            "responses": {"200": json_({"type": "array", "items": {"type": "object"}}), "401": errors["401"]}}},
    }


def openapi_schemas() -> dict:
    share = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
    return {"Stats": {"type": "object", "properties": {
        "filters": {"type": "object"}, "now": {"type": "string"},
        "summary": {"type": "object", "properties": {
            "cases": {"type": "integer"}, "on_time_rate": share, "immediate_share": share, "one_visit_rate": share,
            "visits_per_case": {"type": ["number", "null"]}, "overdue": {"type": "integer"},
            "warning": {"type": "integer"}, "paused": {"type": "integer"}, "deferred": {"type": "integer"},
            "commitment": {"type": "integer"}, "deemed": {"type": "integer"},
            "avg_used_workdays": {"type": ["number", "null"]}, "avg_promised_days": {"type": ["number", "null"]},
            "avg_statutory_days": {"type": ["number", "null"]}}},
        "by_matter": {"type": "array", "items": {"type": "object"}},
        "by_department": {"type": "array", "items": {"type": "object"}},
        "task_departments": {"type": "array", "items": {"type": "object"}},
        "by_channel": {"type": "array", "items": {"type": "object"}},
        "by_day": {"type": "array", "items": {"type": "object"}},
        "waits": {"type": "array", "items": {"type": "object"}},
        "lists": {"type": "object", "properties": {k: {"type": "array", "items": {"type": "object"}}
                                                   for k in ("overdue", "warning", "paused")}},
        "calendar": {"type": "object"}}}}
