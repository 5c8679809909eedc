"""JSON API /api/v1: a thin mapping of HTTP onto the service layer. Errors are always JSON.

Every operation is declared once with `operation(...)`: its request body, query and response models
(web/apimodels.py). The declaration validates the request before any work, builds the response to its model,
and is what web/openapi.py turns into the OpenAPI document — so the document cannot drift from what is served.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import wraps

from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError

from engine import readmodels as catalog
from engine.errors import Invalid, NotFound, Unauthorized
from engine.messages import Message

from . import apimodels as M
from .auth import make_token, services, token_actor

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_ID = 2 ** 31 - 1


@dataclass
class Operation:
    """One documented operation of the API."""

    method: str
    path: str                       # OpenAPI form, e.g. /cases/{case_id}
    summary: str
    response: type | None           # a model, list[model], or None for a non-JSON body
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    errors: tuple = (401,)
    public: bool = False
    headers: dict = field(default_factory=dict)   # documented request headers: name -> description
    form: dict | None = None                      # a multipart/form-data body (its JSON Schema), e.g. an upload
    media_type: str = "application/json"
    also: dict = field(default_factory=dict)      # other success statuses: status -> description
    name: str = ""                                # the view's name (its Flask endpoint)
    auth: object = None                           # a public operation's own check of the caller, run first


OPERATIONS: list[Operation] = []


def operation(method: str, path: str, summary: str, response, **kw):
    """Declare, validate and register an operation: the view gets `body=` and `query=` as models."""
    op = Operation(method, path, summary, response, **kw)
    OPERATIONS.append(op)
    rule = re.sub(r"\{(\w+)\}", lambda m: f"<int:{m[1]}>" if m[1] == "case_id" else f"<{m[1]}>", path)

    def decorate(view):
        @wraps(view)
        def handler(**params):
            _check_path(params)
            extra = {}
            if op.body is not None:
                extra["body"] = _validated(op.body, _json_body(), "")
            if op.query is not None:
                extra["query"] = _validated(op.query, request.args.to_dict(), "")
            return view(**params, **extra)

        op.name = view.__name__
        bp.add_url_rule(rule, view.__name__, handler, methods=[method])
        return handler

    return decorate


def _check_path(params: dict) -> None:
    """Ids outside what the database stores are simply not found (never an overflow inside the database)."""
    case_id = params.get("case_id")
    if case_id is not None and not 1 <= case_id <= MAX_ID:
        raise NotFound(f"no such case: {case_id}")
    for name, value in params.items():
        if isinstance(value, str) and (len(value) > 64 or not value.isprintable()):
            raise NotFound(f"no such {name.removesuffix('_id')}")


def _json_body():
    if not request.is_json:
        raise Invalid("the request body must be JSON (Content-Type: application/json)",
                      {"_": Message("请求体应为 JSON", "the body must be JSON")})
    try:
        return json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, RecursionError):
        raise Invalid("the request body is not valid JSON", {"_": Message("请求体不是有效的 JSON", "not valid JSON")}) from None


def _validated(model: type[BaseModel], value, prefix: str):
    if not isinstance(value, dict):
        raise Invalid("the request body must be a JSON object", {"_": Message("必须是 JSON 对象", "must be a JSON object")})
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        fields = {}
        for err in exc.errors(include_url=False):
            # union members appear in a location by their type ("list[...]"): the field's path leaves them out
            path = ".".join(str(p) for p in err["loc"] if not (isinstance(p, str) and ("[" in p or "-" in p)))
            fields.setdefault((prefix + path) or "_", _message(err))
        raise Invalid(f"{len(fields)} field(s) invalid: {', '.join(fields)}", fields) from None


MESSAGES = {"missing": Message("必填", "required"), "extra_forbidden": Message("未定义的字段", "unknown field"),
            "string_type": Message("应为文本", "must be text"),
            "bool_type": Message("应为 true 或 false", "must be a boolean"),
            "dict_type": Message("应为对象", "must be an object"), "list_type": Message("应为列表", "must be a list"),
            "int_parsing": Message("应为整数", "must be a whole number"),
            "int_type": Message("应为整数", "must be a whole number"),
            "literal_error": Message("不在可选值中", "not one of the allowed values"),
            "string_too_long": Message("过长", "too long"), "string_too_short": Message("不能为空", "must not be empty"),
            "greater_than_equal": Message("过小", "too small"), "less_than_equal": Message("过大", "too large")}


def _message(err: dict) -> str:
    return MESSAGES.get(err["type"], Message("格式不正确", "invalid"))


def _send(op_response, value, status: int = 200):
    """The response, checked against its model where the app asks for it (tests): nothing undocumented."""
    if current_app.config.get("VALIDATE_RESPONSES") and op_response is not None:
        from pydantic import TypeAdapter

        TypeAdapter(op_response).validate_python(value)
    return jsonify(value), status


@bp.before_request
def _authenticate():
    op = _operation_of(request.endpoint)
    if op is not None and op.public:
        if op.auth is not None:
            op.auth()
        return
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise Unauthorized("missing bearer token (POST /api/v1/auth/token)")
    g.api_actor = token_actor(header[7:].strip())


def _operation_of(endpoint: str | None) -> Operation | None:
    name = (endpoint or "").split(".")[-1]
    return next((op for op in OPERATIONS if op.name == name), None)


def _case_json(c: dict) -> dict:
    """A case as the API returns it, from a case view — the one an action's own transaction returned, so a
    committed action is never reported as failed by a later read."""
    return {"id": c["id"], "number": c["number"], "matter": c["process_id"], "title": c["title"], "status": c["status"],
            "channel": c["channel"], "applicant": c["applicant"], "visits": c["visits"],
            "hall": c.get("hall"), "authority": c.get("authority"), "transfer": c.get("transfer"),
            "created_at": c["created_at"], "updated_at": c["updated_at"],
            "members": [{k: o.get(k) for k in MEMBER_FIELDS} for o in c.get("outcomes") or []],
            "owed": c.get("owed") or [], "notice": c.get("notice"),
            "due": c.get("due"), "statutory_due": c.get("statutory_due"), "timeliness": c.get("timeliness"),
            **papers_json(c),
            "tasks": [{k: t.get(k) for k in CASE_TASK_FIELDS} for t in c["tasks"]]}


def papers_json(case: dict) -> dict:
    """The certificates and documents of a case, each with its public verification page and its PDF."""
    from flask import url_for

    def urls(number):
        return {"verify_url": url_for("papers.verify", number=number, _external=True),
                "pdf_url": f"/api/v1/documents/{number}.pdf"}

    return {"certificates": [dict({k: x[k] for k in ("number", "type", "name", "matter", "status", "verify_code")},
                                  **urls(x["number"])) for x in case.get("certificates") or []],
            "documents": [dict({k: d[k] for k in ("number", "kind", "title", "issued_at")}, **urls(d["number"]))
                          for d in case.get("documents") or []]}


MEMBER_FIELDS = ("matter", "name", "department", "status", "opinion", "notice")
CASE_TASK_FIELDS = ("id", "name", "process_id", "element_id", "rule", "group", "assignee", "status", "due",
                    "timeliness")
TASK_FIELDS = ("id", "case_id", "case_number", "case_title", "name", "process_id", "element_id", "rule", "group",
               "assignee", "status", "created_at", "due", "applicant")
CLAIM_FIELDS = ("id", "case_id", "name", "element_id", "process_id", "rule", "group", "assignee", "status", "form",
                "created_at", "due")


# ---------------------------------------------------------------- operations
@operation("GET", "/openapi.json", "This document", None, public=True, errors=())
def openapi():
    from .openapi import spec

    return jsonify(spec())


@operation("POST", "/auth/token", "Exchange username and password for a bearer token", M.Token,
           body=M.TokenRequest, public=True, errors=(401, 422, 429))
def token(body: M.TokenRequest):
    actor, epoch = services().authenticate(body.username, body.password, request.remote_addr)
    return _send(M.Token, {"token": make_token(actor.username, epoch), "token_type": "Bearer",
                           "expires_in": current_app.config["API_TOKEN_MAX_AGE"]})


@operation("GET", "/matters", "The catalogue: the matters and bundles one applies for", list[M.Matter],
           query=M.MatterQuery, errors=(401, 422))
def matters(query: M.MatterQuery):
    return _send(list[M.Matter], catalog.matters(services(), query.q or ""))


@operation("GET", "/matters/{code}", "A matter's guide with materials, start form and groups", M.MatterGuide,
           errors=(401, 404))
def matter(code: str):
    m = catalog.matter(services(), code)
    if not m.pop("startable", True):
        raise NotFound(f"no such matter: {code}")
    m.pop("version_id", None)
    return _send(M.MatterGuide, m)


@operation("POST", "/cases", "Start a case; at a window the front desk's verdict (intake, default accepted) is taken "
           "in the same request under the window rules", M.Case, body=M.NewCase, status=201,
           errors=(401, 403, 404, 409, 422), also={200: "the case an earlier request with this Idempotency-Key started"},
           headers={"Idempotency-Key": "the same key and body again return the same case (200); another body: 409"})
def create_case(body: M.NewCase):
    if not catalog.exists(services(), body.matter):
        raise Invalid(f"no such matter: {body.matter}", {"matter": "事项不存在 (no such matter)"})
    materials, files = materials_of(body.materials)
    intake = body.intake or M.Intake()
    verdict = {"accepted": intake.accepted, "materials": dict(materials),
               **{k: v for k, v in (("reason", intake.reason), ("remark", intake.remark)) if v is not None},
               **({"files": files} if files else {})}
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= 200 and key.isprintable()):
        raise Invalid("Idempotency-Key: 1 to 200 printable characters", {"Idempotency-Key": "应为 1 到 200 个可见字符"})
    applicant = body.applicant.model_dump(exclude_none=True)
    case = services().start_case(g.api_actor, body.matter, applicant, body.data, channel=body.channel, intake=verdict,
                                 idempotency_key=key, request_hash=_request_hash() if key else None,
                                 authority=body.authority)
    return _send(M.Case, _case_json(case), 200 if case.get("replayed") else 201)


def materials_of(given) -> tuple[dict, dict]:
    """Materials as the rules read them ({id: status}) and the files handed in with them ({id: [sha256]})."""
    materials = given if isinstance(given, dict) else {m: "provided" for m in given}
    files = {k: list(v.files) for k, v in materials.items() if isinstance(v, M.MaterialFiles) and v.files}
    return {k: v.status if isinstance(v, M.MaterialFiles) else v for k, v in materials.items()}, files


def _request_hash() -> str:
    return hashlib.sha256(request.get_data(cache=True)).hexdigest()


@operation("GET", "/cases/{case_id}", "A case: its matters and what each came to, what is owed, certificates, open "
           "tasks", M.Case, errors=(401, 404))
def get_case(case_id: int):
    return _send(M.Case, _case_json(services().case_view(case_id, g.api_actor)))


@operation("GET", "/cases/{case_id}/events", "The case's audit trail", list[M.Event], errors=(401, 404))
def case_events(case_id: int):
    return _send(list[M.Event], services().events(case_id, g.api_actor))


@operation("GET", "/cases/{case_id}/diagram.svg", "The process diagram with completed and active elements", None,
           errors=(401, 404), media_type="image/svg+xml")
def case_diagram(case_id: int):
    sv = services()
    svg = catalog.diagram(sv, sv.get_case(case_id, g.api_actor), sv.events(case_id, g.api_actor))
    return Response(svg, mimetype="image/svg+xml")


@operation("GET", "/tasks", "One page of the caller's open tasks (filters, sort, cursor), each with its form",
           M.TaskPage, query=M.TaskQuery, errors=(401, 422))
def tasks(query: M.TaskQuery):
    sv = services()
    page = sv.inbox(g.api_actor, group=query.group, q=query.q, sort=query.sort, desc=query.dir == "desc",
                    limit=query.limit, cursor=query.cursor)
    items = [dict({k: t[k] for k in TASK_FIELDS}, form=catalog.task_form(sv, t["version_id"], t["form"]))
             for t in page.items]
    return _send(M.TaskPage, {"items": items, "next": page.next})


@operation("POST", "/tasks/{task_id}/claim", "Claim a task", M.ClaimedTask, errors=(401, 403, 404, 409))
def claim(task_id: str):
    item = services().claim(g.api_actor, task_id)
    return _send(M.ClaimedTask, {k: item.get(k) for k in CLAIM_FIELDS})


@operation("POST", "/tasks/{task_id}/complete", "Complete a task under its rule", M.Case, body=M.Completion,
           errors=(401, 403, 404, 409, 422))
def complete(task_id: str, body: M.Completion):
    return _send(M.Case, _case_json(services().complete(g.api_actor, task_id, body.data)))


from . import api_papers  # noqa: E402,F401 - the papers' operations (issue 11), declared on this blueprint
from . import api_stats  # noqa: E402,F401 - time limits and supervision (its operations join this blueprint)
from . import api_regulators  # noqa: E402,F401 - 审管联动: findings in, webhook deliveries out (issue 16)
from . import api_halls  # noqa: E402,F401 - 首接负责 and 转办 (issue 16)
from . import api_applicants  # noqa: E402,F401 - applicants: sign-up and their portal (issue 14)
from . import api_bookings  # noqa: E402,F401 - 预约, the receipt's rating link and 申诉 (issue 14)
from . import api_notify  # noqa: E402,F401 - notifications: resend a code, my in-app notices (issue 14)
