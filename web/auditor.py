"""Auditor pages (group 'auditor', read-only): search cases, step through a case's replayed history with
the diagram as it stood after each step, and verify its hash chain and replay."""
from __future__ import annotations

import json
from functools import wraps

from flask import Blueprint, Response, abort, g, render_template, request
from markupsafe import Markup
from sqlalchemy import or_, select

from engine import readmodels as catalog
from engine.db import Case, ProcessVersion
from engine.audit.archive import build_archive
from engine.audit.replay import ReplayError, case_history, load_events, main_bpmn
from engine.audit.verify import verify_case
from engine.runtime.access import check_audit

from .auth import login_required, services

bp = Blueprint("auditor", __name__, url_prefix="/audit")


def auditor_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        check_audit(g.actor)  # decided in the engine (engine.runtime.access)
        return view(*args, **kwargs)
    return wrapper


@bp.get("/")
@auditor_required
def index():
    q = request.args.get("q", "").strip()
    with services().uow() as s:
        query = select(Case).order_by(Case.id.desc()).limit(50)
        if q:
            like = f"%{q}%"
            query = query.where(or_(Case.number.like(like), Case.process_id.like(like), Case.title.like(like),
                                    Case.applicant.like(like)))
        cases = list(s.scalars(query).all())
    return render_template("auditor/index.html", cases=cases, q=q)


def _diagram(xml: bytes | None, process_id: str, step) -> Markup | None:
    if xml is None or step is None:
        return None
    try:
        from engine.model.diagram import render_svg  # written by another engineer; optional
    except ImportError:
        return None
    try:
        return Markup(render_svg(xml, process_id, completed=set(step.completed_ids), active=set(step.active_ids)))
    except Exception:  # noqa: BLE001 - a drawing problem must not hide the history
        return None


def _page(case_id: int, finding=None):
    sv = services()
    with sv.uow() as s:
        case = s.get(Case, case_id)
        if case is None:
            abort(404)
        version = s.get(ProcessVersion, case.version_id)
        events = load_events(s, case_id)
        error = None
        try:
            steps = case_history(sv, s, case, events)
        except ReplayError as exc:
            steps, error = [], str(exc)
        xml = main_bpmn(s, version)
    n = request.args.get("step", type=int) or (len(steps) or 1)
    n = max(1, min(n, len(steps) or 1))
    step = steps[n - 1] if steps else None
    names = {e.seq: (json.loads(e.payload or "{}") or {}).get("name") for e in events}  # the step's task name
    people = catalog.actor_names(sv, [e.actor for e in events])
    known = catalog.data_labels(sv, version)
    changes = {key: catalog.data_label(sv, version, key, known) for key in (step.changes if step else {})}
    return render_template("auditor/case.html", case=case, events=events, names=names, people=people, steps=steps,
                           step=step, n=n, changes=changes,
                           error=error, finding=finding, svg=_diagram(xml, case.process_id, step))


@bp.get("/cases/<int:case_id>")
@auditor_required
def case(case_id):
    return _page(case_id)


@bp.get("/cases/<int:case_id>/archive.zip")
@auditor_required
def archive(case_id):
    """The e-archive of a finished case (engine.audit.archive): a zip with a manifest of every hash."""
    data, manifest = build_archive(services(), case_id, request.host_url)
    name = f"{manifest['case']['number']}-archive.zip"
    return Response(data, mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private"})


@bp.post("/cases/<int:case_id>/verify")
@auditor_required
def verify(case_id):
    """Changes nothing; POST (with the CSRF token every page form carries) so that it is never prefetched."""
    sv = services()
    with sv.uow() as s:
        c = s.get(Case, case_id)
        if c is None:
            abort(404)
        finding = verify_case(sv, s, c)
    return _page(case_id, finding)
