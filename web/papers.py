"""The papers of a case on the pages: documents and certificates as PDF, material files, the public verification
page (receipts, notices, decisions and certificates: seal signature, revoked or valid), and revoking a
certificate by hand (administrators and supervisors, with a reason, audited)."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

from engine import casefile
from engine.errors import Invalid, NotFound
from engine.messages import Message
from engine.printing.sheet import certificate_sheet, render

from .access import check_read_case
from .auth import login_required, services
from .i18n import translate

bp = Blueprint("papers", __name__)


UPLOADS = ("/frontdesk/matters/", "/inbox/tasks/", "/api/v1/files", "/me/matters/")
MAX_FILES = 10  # files of one page request, each within the file limit


def upload_limit() -> None:
    """Requests that carry material files may be as large as their files allow (the app's request limit stays for
    everything else); each file is still held to the file limit when it is stored."""
    if request.method == "POST" and request.path.startswith(UPLOADS) and services().rules is not None:
        limit = services().rules.files.max_bytes
        request.max_content_length = max(request.max_content_length or 0,
                                         limit * (1 if request.path.startswith("/api/") else MAX_FILES) + 1024 * 1024)


def item_uploads(keys: list[str]) -> tuple[dict, dict]:
    """Files handed in with a 补正/补齐 answer, one upload field per item (`file_<n>` for keys[n]), stored as the
    signed-in user's: (key -> [sha256], n -> message of a refused file)."""
    files = services().rules.files if services().rules is not None else None
    refs, errors = {}, {}
    for n, key in enumerate(keys):
        for upload in request.files.getlist(f"file_{n}"):
            if not upload or not upload.filename or files is None:
                continue
            try:
                refs.setdefault(key, []).append(files.accept(g.actor.username, upload.filename, upload.stream,
                                                             field=f"file_{n}")["sha256"])
            except Invalid as exc:
                errors[n] = next(iter(exc.fields.values()), exc.message)
    return refs, errors


def verify_url(number: str) -> str:
    return url_for("papers.verify", number=number, _external=True)


def rating_url(case_id: int) -> str:
    """The case's rating link: a token signed with the app's secret key (engine.runtime.ratings)."""
    from engine.runtime.ratings import token_for

    return url_for("rating.page", token=token_for(current_app.secret_key, case_id), _external=True)


def find_paper(number: str) -> tuple[str, dict]:
    """('document', view) or ('certificate', view) for a number or verification code; NotFound otherwise."""
    rules = services().rules
    if rules is None:
        raise NotFound(f"no such document: {number}")
    try:
        return "document", rules.docs.get(number)
    except NotFound:
        return "certificate", rules.certs.get(number)


def paper_pdf(number: str, actor) -> Response:
    """The PDF of a document or certificate, for someone who may read its case."""
    kind, paper = find_paper(number)
    check_read_case(services(), actor, paper["case_id"])
    rate_url = None
    if kind == "document":
        sheet = dict(paper["content"], code=paper["verify_code"])
        if paper.get("kind") == "receipt" and "rating.page" in current_app.view_functions:
            rate_url = rating_url(paper["case_id"])  # 好差评 from the receipt's QR (no sign-in)
    else:
        sheet = certificate_sheet(paper)
    body = render(sheet, verify_url(paper["number"]), rate_url)
    name = f"{paper['number']}.pdf"
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=\"{name}\"", "Cache-Control": "private"})


def file_response(case_id: int, sha256: str, actor) -> Response:
    """A material file of a case, for someone who may read the case: its bytes, as the type sniffed at upload."""
    sv = services()
    check_read_case(sv, actor, case_id)
    entry = casefile.file_of_case(sv, case_id, sha256)
    files = sv.rules.files
    meta = files.describe_one(sha256)
    content = files.read(sha256)
    name = entry.get("name") or meta["name"]
    return Response(content, mimetype=meta["content_type"], headers={
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox", "Cache-Control": "private, max-age=3600", "ETag": f'"{sha256}"'})


@bp.get("/documents/<number>.pdf")
@login_required
def document_pdf(number):
    return paper_pdf(number, g.actor)


@bp.get("/cases/<int:case_id>/files/<sha256>")
@login_required
def case_file(case_id, sha256):
    return file_response(case_id, sha256, g.actor)


@bp.get("/verify/<number>")
def verify(number):
    """Anyone holding a paper can check it here (its QR code points here): the seal over exactly its content, and
    for a certificate whether it was revoked or has expired since."""
    rules = services().rules
    result, kind = None, None
    if rules is not None:
        try:
            result, kind = rules.docs.verify(number), "document"
        except NotFound:
            try:
                result, kind = rules.certs.verify(number), "certificate"
            except NotFound:
                pass
    if result is None:
        return render_template("cases/verify.html", number=number, result=None, kind=None), 404
    return render_template("cases/verify.html", number=number, result=result, kind=kind,
                           paper=result.get("document") or result.get("certificate"))


@bp.post("/certificates/<number>/revoke")
@login_required
def revoke(number):
    reason = (request.form.get("reason") or "").strip()
    certs = services().rules.certs
    cert = certs.get(number)
    try:
        certs.revoke(g.actor, number, reason)
    except Invalid:
        flash("注销证照须写明原因", "error")
    else:
        flash(translate(Message(f"已注销 {cert['number']}", f"Revoked {cert['number']}")), "ok")
    return redirect(url_for("cases.show", case_id=cert["case_id"]))
