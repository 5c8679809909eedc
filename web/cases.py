"""The case page (status, members, open tasks, timeline, diagram) and public document verification."""
from __future__ import annotations

from flask import Blueprint, Response, render_template
from markupsafe import Markup

from engine import readmodels as catalog
from .auth import login_required, services

bp = Blueprint("cases", __name__)


@bp.get("/cases/<int:case_id>")
@login_required
def show(case_id):
    sv = services()
    case = catalog.case_detail(sv, case_id)
    try:
        svg = Markup(catalog.diagram(sv, case, case["events"]))  # built as an lxml tree: text is escaped
    except ImportError:
        svg = None
    return render_template("cases/show.html", case=case, svg=svg)


@bp.get("/cases/<int:case_id>/diagram.svg")
@login_required
def diagram(case_id):
    sv = services()
    return Response(catalog.diagram(sv, sv.get_case(case_id), sv.events(case_id)), mimetype="image/svg+xml")
