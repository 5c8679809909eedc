"""The designer's page (groups `designer`, `admin`): processes and versions, diagrams, what a version changes, where
running cases wait, and uploading BPMN files with their forms to check and deploy. Who may do what is decided by
engine.runtime.designer; these views only carry requests and render."""
from __future__ import annotations

import base64
import binascii

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup

from engine.errors import Invalid, NotFound
from engine.model.versions import show
from engine.runtime.designer import MAX_BYTES, MAX_FILES, Designer, require_designer

from .auth import login_required, services

bp = Blueprint("designer", __name__, url_prefix="/designer")
bp.add_app_template_filter(show, "show")


def desk() -> Designer:
    return Designer(services())


@bp.get("/")
@login_required
def index():
    return render_template("designer/index.html", processes=desk().processes(g.actor))


@bp.get("/processes/<process_id>")
@login_required
def process(process_id):
    d = desk()
    versions = d.versions(g.actor, process_id)
    chosen = request.args.get("v", type=int) or versions[0].id
    row = next((v for v in versions if v.id == chosen), None)
    if row is None:
        raise NotFound(f"no version {chosen} of {process_id}")
    base, diff = d.diff(g.actor, row.id, request.args.get("base", type=int))
    waiting = {p.split("/")[0].split("#")[0] for p in row.census.positions}
    try:
        svg = Markup(d.diagram(g.actor, row.id, waiting))  # built as an lxml tree: names are escaped
    except ValueError:
        svg = None
    return render_template("designer/process.html", process_id=process_id, versions=versions, row=row, base=base,
                           diff=diff, svg=svg)


@bp.get("/upload")
@login_required
def upload_form():
    require_designer(g.actor)
    return render_template("designer/upload.html", upload=None, encoded=[])


def _too_big() -> None:
    if request.content_length and request.content_length > MAX_FILES * MAX_BYTES:
        raise Invalid("上传内容过大 (the upload is too large)", {"files": f"≤ {MAX_FILES} × {MAX_BYTES // 1_000_000} MB"})


@bp.post("/upload")
@login_required
def upload():
    """Check the uploaded files (nothing is deployed); when they pass, offer to deploy exactly these bytes."""
    require_designer(g.actor)
    _too_big()
    files = {}
    for storage in request.files.getlist("files"):
        if storage and storage.filename:
            files[storage.filename] = storage.read(MAX_BYTES + 1)
    result = desk().check_upload(g.actor, files)
    encoded = [(name, base64.b64encode(files[name]).decode("ascii")) for name in result.names] if result.ok else []
    return render_template("designer/upload.html", upload=result, encoded=encoded), (200 if result.ok else 422)


@bp.post("/deploy")
@login_required
def deploy():
    """Deploy the files the check page carried (checked again by the engine before anything is written)."""
    require_designer(g.actor)
    _too_big()
    names, blobs = request.form.getlist("name"), request.form.getlist("data")
    if len(names) != len(blobs):
        raise Invalid("表单不完整 (the form is incomplete)", {"files": "请重新上传 (upload again)"})
    try:
        files = {n: base64.b64decode(b, validate=True) for n, b in zip(names, blobs)}
    except (binascii.Error, ValueError):
        raise Invalid("文件内容已损坏 (the file contents are damaged)", {"files": "请重新上传 (upload again)"}) from None
    rows = desk().deploy_upload(g.actor, files)
    created = [(pid, vid) for pid, vid, new in rows if new]
    flash("已部署新版本" if created else "没有变化，未产生新版本", "ok")
    if created:
        flash(", ".join(f"{pid} v{vid}" for pid, vid in created), "ok")
    return redirect(url_for("designer.process", process_id=rows[0][0]) if rows else url_for("designer.index"))
