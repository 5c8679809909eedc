"""The case page: status, the case file (application, materials, opinions, documents, certificates), members,
open tasks, timeline, diagram."""
from __future__ import annotations

from flask import Blueprint, Response, g, render_template
from markupsafe import Markup

from engine import casefile
from engine import readmodels as catalog
from .auth import login_required, services
from .papers import REVOKERS

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
                           may_revoke=bool(set(g.actor.groups) & REVOKERS))


@bp.get("/cases/<int:case_id>/diagram.svg")
@login_required
def diagram(case_id):
    sv = services()
    return Response(catalog.diagram(sv, sv.get_case(case_id, g.actor), sv.events(case_id, g.actor)),
                    mimetype="image/svg+xml")
