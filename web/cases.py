"""The case page (status, members, open tasks, timeline, diagram) and public document verification."""
from __future__ import annotations

import hmac

from flask import Blueprint, Response, g, current_app, render_template, request
from markupsafe import Markup

from engine.window import documents

from engine import readmodels as catalog
from .auth import login_required, services

bp = Blueprint("cases", __name__)


@bp.get("/cases/<int:case_id>")
@login_required
def show(case_id):
    sv = services()
    case = catalog.case_detail(sv, case_id, g.actor)
    try:
        svg = Markup(catalog.diagram(sv, case, case["events"]))  # built as an lxml tree: text is escaped
    except ImportError:
        svg = None
    return render_template("cases/show.html", case=case, svg=svg)


@bp.get("/cases/<int:case_id>/diagram.svg")
@login_required
def diagram(case_id):
    sv = services()
    return Response(catalog.diagram(sv, sv.get_case(case_id, g.actor), sv.events(case_id, g.actor)),
                    mimetype="image/svg+xml")


@bp.get("/verify/<number>")
def verify(number):
    """Anyone holding a receipt or notice can check it was issued here (the QR code points here)."""
    code = request.args.get("code", "")
    secret = current_app.config["SECRET_KEY"]
    kind = next((k for k in ("receipt", "notice")
                 if hmac.compare_digest(documents.verification_code(secret, number, k), code.upper())), None)
    return render_template("cases/verify.html", number=number, kind=kind), (200 if kind else 404)
