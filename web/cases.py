"""The case page: status, the case file (application, materials, opinions, documents, certificates), members,
open tasks, timeline, diagram."""
from __future__ import annotations

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup

from engine import casefile
from engine import readmodels as catalog
from engine.errors import Conflict, Invalid
from engine.runtime import access
from engine.runtime.transfers import Transfers
from .auth import login_required, services
from .i18n import translate

bp = Blueprint("cases", __name__)


@bp.get("/cases/<int:case_id>")
@login_required
def show(case_id):
    sv = services()
    case = catalog.case_detail(sv, case_id, g.actor)
    papers = casefile.case_file(sv, case_id, case["events"])
    try:
        svg = Markup(catalog.diagram(sv, case, case["events"]))  # built as an lxml tree: text is escaped
    except ImportError:
        svg = None
    return render_template("cases/show.html", case=case, svg=svg, file=papers,
                           names=catalog.actor_names(sv, [e["actor"] for e in case["events"]]),
                           may_revoke=access.may_revoke(g.actor),
                           handover=Transfers(sv).options(g.actor, case))


@bp.post("/cases/<int:case_id>/transfer")
@login_required
def transfer(case_id):
    """转办 from the case page (the service layer decides who may, and where to)."""
    form = request.form
    try:
        Transfers(services()).transfer(g.actor, case_id, form.get("to") or "", form.get("reason") or "")
    except (Invalid, Conflict) as exc:
        flash(translate(exc.message), "error")
    else:
        flash(translate("已转办，待对方签收"), "ok")
    return redirect(url_for("cases.show", case_id=case_id), code=303)


@bp.post("/cases/<int:case_id>/transfer/acknowledge")
@login_required
def acknowledge(case_id):
    try:
        Transfers(services()).acknowledge(g.actor, case_id)
    except Conflict as exc:
        flash(translate(exc.message), "error")
    else:
        flash(translate("已签收转办"), "ok")
    return redirect(url_for("cases.show", case_id=case_id), code=303)


@bp.get("/cases/<int:case_id>/diagram.svg")
@login_required
def diagram(case_id):
    sv = services()
    return Response(catalog.diagram(sv, sv.get_case(case_id, g.actor), sv.events(case_id, g.actor)),
                    mimetype="image/svg+xml")
