"""JSON API /api/v1: a thin mapping of HTTP onto the service layer. Errors are always JSON."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request

from engine.errors import Invalid, NotFound, Unauthorized

from engine import readmodels as catalog
from .auth import make_token, services, token_user
from .api_papers import papers_json
from .openapi import spec

bp = Blueprint("api", __name__, url_prefix="/api/v1")
CHANNELS = ("window", "online", "kiosk")
MATERIAL_STATUSES = ("provided", "deferred", "commitment")
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
            "outcomes": [{k: o[k] for k in ("matter", "name", "department", "status", "opinion", "notice")}
                         for o in c.get("outcomes") or []],
            "owed": c.get("owed") or [], "notice": c.get("notice"),
            **papers_json(c),
            "tasks": [{k: t[k] for k in ("id", "name", "process_id", "element_id", "rule", "group", "assignee", "status")}
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
    """Start a case; at a window, the front desk's verdict (`intake`, default accepted) is taken in the same
    transaction under the intake rule."""
    body = _body()
    code = body.get("matter")
    if not isinstance(code, str) or not code:
        raise Invalid("matter is required", {"matter": "必填 (required)"})
    if not catalog.exists(services(), code):
        raise Invalid(f"no such matter: {code}", {"matter": "事项不存在 (no such matter)"})
    data = body.get("data") or {}
    if not isinstance(data, dict):
        raise Invalid("data must be an object", {"data": "必须是对象 (must be an object)"})
    channel = body.get("channel") or "window"
    if not isinstance(channel, str) or channel not in CHANNELS:
        raise Invalid("channel: window, online or kiosk", {"channel": "应为 window、online 或 kiosk"})
    verdict = body.get("intake") or {}
    if not isinstance(verdict, dict):
        raise Invalid("intake must be an object", {"intake": "必须是对象 (must be an object)"})
    statuses, files = _materials(body.get("materials"))
    verdict = {"accepted": verdict.get("accepted", True), "materials": statuses,
               **{k: verdict[k] for k in ("reason", "remark") if k in verdict}, **({"files": files} if files else {})}
    case = services().start_case(g.api_actor, code, body.get("applicant"), data, channel=channel, intake=verdict)
    return jsonify(_case_json(case["id"])), 201


def _materials(value) -> tuple[dict, dict]:
    """`materials`: a list of ids handed in, or {id: provided|deferred|commitment}, or {id: {"status": "provided",
    "files": [sha256, ...]}}; (statuses, files by material)."""
    if value is None:
        return {}, {}
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return {x: "provided" for x in value}, {}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        statuses, files = {}, {}
        for k, v in value.items():
            if isinstance(v, dict) and v.get("status") in MATERIAL_STATUSES and set(v) <= {"status", "files"}:
                statuses[k] = v["status"]
                if v.get("files") is not None:
                    files[k] = v["files"]
            elif v in MATERIAL_STATUSES:
                statuses[k] = v
            else:
                raise Invalid(f"materials.{k}: provided|deferred|commitment, or {{status, files}}",
                              {f"materials.{k}": "格式不正确 (wrong shape)"})
        return statuses, files
    raise Invalid("materials: a list of material ids, or {id: provided|deferred|commitment}",
                  {"materials": "格式不正确 (wrong shape)"})


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
    """Complete a task under its rule (the service layer finds it, whoever asks)."""
    body = _body()
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise Invalid("data must be an object", {"data": "必须是对象 (must be an object)"})
    case = services().complete(g.api_actor, task_id, data)
    return jsonify(_case_json(case["id"]))
