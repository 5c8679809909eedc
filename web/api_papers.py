"""/api/v1 for the reviewer's desk and the papers: upload a material file, read a case's file, one open task with
everything a reviewer needs, a document or certificate as PDF. Declared with web.api's `operation`, so each is
validated, authenticated and documented in OpenAPI like the rest of the API."""
from __future__ import annotations

from flask import g, request
from werkzeug.exceptions import RequestEntityTooLarge

from engine import casefile
from engine.errors import Invalid, TooLarge
from engine.messages import Message

from . import apimodels as M
from .api import _send, operation
from .auth import services
from .papers import file_response, paper_pdf

UPLOAD = {"type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}


@operation("POST", "/files", "Upload a material file: PDF, JPEG or PNG judged by its content (413 over "
           "ONEWINDOW_MAX_FILE_MB, default 20); name it in POST /cases `materials` by its sha256", M.StoredFile,
           status=201, errors=(401, 413, 422), form=UPLOAD)
def upload_file():
    files = services().rules.files
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        mb = files.max_bytes / (1024 * 1024)
        raise TooLarge(Message(f"文件超过 {mb:g} MB", f"the file is larger than {mb:g} MB"),
                       {"file": Message(f"文件超过 {mb:g} MB 上限", f"larger than the {mb:g} MB limit")}) from None
    if upload is None:
        raise Invalid(Message("请以 multipart/form-data 的 file 字段上传文件", "send the file as multipart field `file`"),
                      {"file": Message("缺少文件", "no file")})
    return _send(M.StoredFile, files.accept(g.api_actor.username, upload.filename, upload.stream), 201)


@operation("GET", "/cases/{case_id}/files/{sha256}", "A material file of the case (to those who may read the case), "
           "as the type sniffed at upload", None, errors=(401, 404), media_type="application/pdf, image/jpeg, image/png")
def case_file(case_id: int, sha256: str):
    return file_response(case_id, sha256, g.api_actor)


@operation("GET", "/documents/{number}.pdf", "A document (受理通知书, 一次性告知书, 不予受理决定书, 补正告知书, "
           "准予/不予许可决定书) or an e-certificate as printed: seal, QR code to its verification page, CJK font "
           "embedded", None, errors=(401, 404), media_type="application/pdf")
def document_pdf(number: str):
    return paper_pdf(number, g.api_actor)


@operation("GET", "/tasks/{task_id}", "One open task with the application (by its form's labels), the materials "
           "(status, source, files), every opinion so far and what its holder decides", M.TaskDesk,
           errors=(401, 403, 404))
def task_desk(task_id: str):
    return _send(M.TaskDesk, desk_json(casefile.task_desk(services(), g.api_actor, task_id)))


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
