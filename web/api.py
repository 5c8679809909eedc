"""JSON API /api/v1: a thin mapping of HTTP onto the service layer. Errors are always JSON."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request

from engine.errors import Invalid, NotFound, Unauthorized

from engine import readmodels as catalog
from .auth import make_token, services, token_user
from .openapi import spec

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC = {"api.token", "api.openapi"}


@bp.before_request
def _authenticate():
    if request.endpoint in PUBLIC:
        return
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise Unauthorized("missing bearer token (POST /api/v1/auth/token)")
    username = token_user(header[7:].strip())
    try:
        g.api_actor = services().actor(username)
    except NotFound:
        raise Unauthorized("the token's user no longer exists") from None


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("the request body must be a JSON object", {"_": "必须是 JSON 对象 (must be a JSON object)"})
    return data


def _case_json(case_id: int) -> dict:
    c = catalog.case_detail(services(), case_id)
    return {"id": c["id"], "number": c["number"], "matter": c["matter"], "title": c["title"], "status": c["status"],
            "channel": c["channel"], "applicant": c["applicant"], "visits": c["visits"],
            "created_at": c["created_at"], "updated_at": c["updated_at"], "members": c["members"],
            "tasks": [{k: t[k] for k in ("id", "name", "element_id", "group", "assignee", "status")}
                      for t in c["tasks"]]}


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())


@bp.post("/auth/token")
def token():
    body = _body()
    actor = services().authenticate(str(body.get("username", "")), str(body.get("password", "")))
    return jsonify({"token": make_token(actor.username), "token_type": "Bearer",
                    "expires_in": current_app.config["API_TOKEN_MAX_AGE"]})


@bp.get("/matters")
def matters():
    return jsonify(catalog.matters(services(), request.args.get("q", "")))


@bp.get("/matters/<code>")
def matter(code):
    m = catalog.matter(services(), code)
    m.pop("version_id", None)
    return jsonify(m)


@bp.post("/cases")
def create_case():
    body = _body()
    code = body.get("matter")
    if not isinstance(code, str) or not code:
        raise Invalid("matter is required", {"matter": "必填 (required)"})
    if not catalog.exists(services(), code):
        raise Invalid(f"no such matter: {code}", {"matter": "事项不存在 (no such matter)"})
    data = body.get("data") or {}
    materials = body.get("materials") or []
    if isinstance(materials, list) and all(isinstance(x, str) for x in materials):
        materials = {x: "provided" for x in materials}
    if not (isinstance(materials, dict) and all(isinstance(v, str) for v in materials.values())):
        raise Invalid("materials: a list of material ids, or {id: provided|deferred|commitment}",
                      {"materials": "格式不正确 (wrong shape)"})
    sv, m = services(), catalog.matter(services(), code)
    channel = body.get("channel") or "window"
    if m["rules"] and isinstance(data, dict):  # the window rules: 一次性告知, 容缺, 告知承诺, 数据共享
        pick = lambda status: [k for k, v in materials.items() if v == status]  # noqa: E731
        case = catalog.window_rules(sv).apply(g.api_actor, code, body.get("applicant"), data, provided=pick("provided"),
                                              deferred=pick("deferred"), commitments=pick("commitment"), channel=channel)
    else:
        if isinstance(data, dict):
            data = catalog.with_materials(m["form"], data, [k for k, v in materials.items() if v == "provided"])
        case = sv.start_case(g.api_actor, code, body.get("applicant"), data, channel=channel)
    return jsonify(_case_json(case["id"])), 201


@bp.get("/cases/<int:case_id>")
def get_case(case_id):
    return jsonify(_case_json(case_id))


@bp.get("/cases/<int:case_id>/events")
def case_events(case_id):
    return jsonify(services().events(case_id))


@bp.get("/cases/<int:case_id>/diagram.svg")
def case_diagram(case_id):
    sv = services()
    svg = catalog.diagram(sv, sv.get_case(case_id), sv.events(case_id))
    return Response(svg, mimetype="image/svg+xml")


@bp.get("/tasks")
def tasks():
    sv, versions, forms = services(), {}, {}
    out = []
    for t in sv.list_tasks(g.api_actor):
        vid = versions.get(t["case_id"]) or versions.setdefault(t["case_id"], sv.get_case(t["case_id"])["version_id"])
        key = (vid, t["form"])
        if key not in forms:
            forms[key] = catalog.task_form(sv, vid, t["form"])
        out.append({"id": t["id"], "case_id": t["case_id"], "case_number": t["case_number"], "name": t["name"],
                    "element_id": t["element_id"], "process_id": t["process_id"], "group": t["group"],
                    "assignee": t["assignee"], "status": t["status"], "created_at": t["created_at"], "due": t["due"],
                    "applicant": t["applicant"], "form": forms[key]})
    return jsonify(out)


@bp.post("/tasks/<task_id>/claim")
def claim(task_id):
    return jsonify(services().claim(g.api_actor, task_id))


@bp.post("/tasks/<task_id>/complete")
def complete(task_id):
    body = _body()
    data = body.get("data", {})
    sv = services()
    task = next((t for t in sv.list_tasks(g.api_actor) if t["id"] == task_id), None)
    if task is None or not isinstance(data, dict):  # not open to the caller: the service layer says why (403/404/409)
        case = sv.complete(g.api_actor, task_id, data)
    else:
        case = catalog.complete_task(sv, g.api_actor, task, data)
    return jsonify(_case_json(case["id"]))


