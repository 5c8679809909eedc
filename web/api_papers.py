"""/api/v1 for the reviewer's desk and the papers: upload a material file, read a case's file, one open task with
everything a reviewer needs, a document or certificate as PDF. Errors are JSON like the rest of the API."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from engine import casefile
from engine.errors import Invalid, NotFound, TooLarge, Unauthorized
from werkzeug.exceptions import RequestEntityTooLarge
from engine.messages import Message

from .auth import services, token_user
from .papers import file_response, paper_pdf, verify_url

bp = Blueprint("api_papers", __name__, url_prefix="/api/v1")


@bp.before_request
def _authenticate():
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise Unauthorized("missing bearer token (POST /api/v1/auth/token)")
    username = token_user(header[7:].strip())
    try:
        g.api_actor = services().actor(username)
    except NotFound:
        raise Unauthorized("the token's user no longer exists") from None


@bp.post("/files")
def upload():
    """A material file (multipart field `file`): PDF, JPEG or PNG by content, at most the size limit."""
    files = services().rules.files
    request.max_content_length = files.max_bytes + 1024 * 1024  # the file and the multipart envelope around it
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        mb = files.max_bytes / (1024 * 1024)
        raise TooLarge(Message(f"文件超过 {mb:g} MB", f"the file is larger than {mb:g} MB"),
                       {"file": Message(f"文件超过 {mb:g} MB 上限", f"larger than the {mb:g} MB limit")}) from None
    if upload is None:
        raise Invalid(Message("请以 multipart/form-data 的 file 字段上传文件", "send the file as multipart field `file`"),
                      {"file": Message("缺少文件", "no file")})
    return jsonify(files.accept(g.api_actor.username, upload.filename, upload.stream)), 201


@bp.get("/cases/<int:case_id>/files/<sha256>")
def case_file(case_id, sha256):
    return file_response(case_id, sha256, g.api_actor)


@bp.get("/documents/<number>.pdf")
def document_pdf(number):
    return paper_pdf(number, g.api_actor)


@bp.get("/tasks/<task_id>")
def task(task_id):
    """One open task with the application, materials, opinions and what its holder decides."""
    desk = casefile.task_desk(services(), g.api_actor, task_id)
    return jsonify(desk_json(desk))


def desk_json(desk: dict) -> dict:
    t, case, f = desk["task"], desk["case"], desk["file"]
    return {"task": {k: t[k] for k in ("id", "case_id", "case_number", "name", "element_id", "process_id", "group",
                                       "assignee", "status", "rule", "created_at", "due")},
            "case": {"id": case["id"], "number": case["number"], "matter": case["process_id"], "title": case["title"],
                     "status": case["status"], "applicant": case["applicant"]},
            "application": [{k: r[k] for k in ("key", "label", "value", "display", "members")} for r in f["application"]],
            "materials": [dict(m, files=[dict(x, url=f"/api/v1/cases/{case['id']}/files/{x['sha256']}")
                                         for x in m["files"]]) for m in f["materials"]],
            "opinions": f["opinions"], "outcomes": [{k: o[k] for k in ("matter", "name", "department", "status",
                                                                        "opinion")} for o in f["outcomes"]],
            "corrections": f["corrections"], "owed": f["owed"], "handover": f["handover"],
            "decides": desk["decides"], "form": desk["form"]}


def papers_json(case: dict) -> dict:
    """The certificates and documents of a case as GET /api/v1/cases/{id} lists them."""
    return {"certificates": [{"number": c["number"], "type": c["type"], "name": c["name"], "matter": c["matter"],
                              "status": c["status"], "verify_code": c["verify_code"],
                              "verify_url": verify_url(c["number"]),
                              "pdf_url": f"/api/v1/documents/{c['number']}.pdf"} for c in case.get("certificates") or []],
            "documents": [{"number": d["number"], "kind": d["kind"], "title": d["title"], "issued_at": d["issued_at"],
                           "verify_url": verify_url(d["number"]), "pdf_url": f"/api/v1/documents/{d['number']}.pdf"}
                          for d in case.get("documents") or []]}


def openapi_fragment() -> tuple[dict, dict]:
    """(paths, schemas) these routes add to /api/v1/openapi.json (web.openapi merges them)."""
    def err(*codes):
        names = {"401": "Unauthorized", "403": "Forbidden", "404": "NotFound", "409": "Conflict", "413": "TooLarge",
                 "422": "Invalid"}
        return {c: {"$ref": f"#/components/responses/{names[c]}"} for c in codes}

    def ref(name):
        return {"$ref": f"#/components/schemas/{name}"}

    pdf = {"description": "PDF", "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
    case_id = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    paths = {
        "/api/v1/files": {"post": {
            "summary": "Upload a material file (PDF, JPEG or PNG, judged by its content; size limit "
                       "ONEWINDOW_MAX_FILE_MB, default 20). Name it in POST /cases `materials` by its sha256",
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}}}}}},
            "responses": {"201": {"description": "Stored (the same content again answers the same hash)",
                                  "content": {"application/json": {"schema": ref("StoredFile")}}},
                          **err("401", "413", "422")}}},
        "/api/v1/cases/{case_id}/files/{sha256}": {"get": {
            "summary": "A material file of the case, to those who may read the case",
            "parameters": [case_id, {"name": "sha256", "in": "path", "required": True,
                                     "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}],
            "responses": {"200": {"description": "The file's bytes, as the type sniffed at upload",
                                  "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                              for t in ("application/pdf", "image/jpeg", "image/png")}},
                          **err("401", "403", "404")}}},
        "/api/v1/documents/{number}.pdf": {"get": {
            "summary": "A document (受理通知书, 一次性告知书, 不予受理决定书, 补正告知书, 准予/不予许可决定书) or an "
                       "e-certificate as PDF, with the hall's seal and a QR code to its public verification page",
            "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": pdf, **err("401", "403", "404")}}},
        "/api/v1/tasks/{task_id}": {"get": {
            "summary": "One open task with the application (by form labels), materials (status, source, files), the "
                       "opinions so far and what its holder decides",
            "parameters": [{"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref("TaskDesk")}}},
                          **err("401", "403", "404")}}},
    }
    text = {"type": "string"}
    schemas = {
        "StoredFile": {"type": "object", "required": ["sha256", "size", "content_type", "name"], "properties": {
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "size": {"type": "integer"},
            "content_type": {"enum": ["application/pdf", "image/jpeg", "image/png"]}, "name": text}},
        "Paper": {"type": "object", "properties": {
            "number": text, "kind": text, "title": text, "type": text, "name": text, "status": text,
            "issued_at": text, "verify_url": text, "pdf_url": text}},
        "TaskDesk": {"type": "object", "properties": {
            "task": {"type": "object"}, "case": {"type": "object"},
            "application": {"type": "array", "items": {"type": "object", "properties": {
                "key": text, "label": text, "value": {}, "display": text,
                "members": {"type": "array", "items": text}}}},
            "materials": {"type": "array", "items": {"type": "object", "properties": {
                "id": text, "name": text, "status": {"enum": ["provided", "deferred", "commitment", "shared", "missing"]},
                "status_text": text, "source": {"type": ["string", "null"]}, "source_text": text,
                "files": {"type": "array", "items": ref("StoredFile")}}}},
            "opinions": {"type": "array", "items": {"type": "object"}},
            "decides": {"type": "object", "properties": {
                "rule": text, "member": {"type": ["string", "null"]}, "level": {"type": ["integer", "null"]},
                "levels": {"type": ["integer", "null"]},
                "options": {"type": "array", "items": {"type": "object"}}}},
            "handover": {"type": "array", "items": {"type": "object"}},
            "form": {"type": ["object", "null"]}}},
    }
    return paths, schemas
