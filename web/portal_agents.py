"""帮办代办 pages under /me/agents (Chinese first): the authorisations an applicant granted (grant, revoke), those naming
the user as agent, and the switcher choosing whom the agent acts for on the /me pages (kept in the session; web.auth
turns the signed-in user into one acting for that applicant on every /me page, through engine.runtime.agents, which
decides everything: who may grant, whether a record is valid, and each act's scope)."""
from __future__ import annotations

import re

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for

from engine.errors import Forbidden, Invalid
from engine.messages import Message
from engine.runtime import agents, portal
from engine.db import Case

from .auth import login_required, services
from .i18n import translate

bp = Blueprint("agents", __name__, url_prefix="/me/agents")
STATUS = {"valid": "有效", "pending": "未生效", "expired": "已过期", "revoked": "已撤销"}


def _page(errors=None, message=None, status=200):
    sv = services()
    return render_template("me/agents.html", records=agents.mine(sv, g.actor), principals=agents.may_act_for(sv, g.actor),
                           acting=session.get("on_behalf_of"), acts=agents.ACTS, statuses=STATUS,
                           errors=errors or {}, message=message), status


@bp.get("/")
@login_required
def index():
    return _page()


@bp.post("/")
@login_required
def grant():
    form = request.form
    matters = [m for m in re.split(r"[\s,，、]+", form.get("matters", "")) if m]
    body = {"agent": form.get("agent", "").strip(), "matters": matters or None,
            "acts": form.getlist("acts") or None, "valid_until": form.get("valid_until", "").strip() or None,
            "note": form.get("note", "").strip()}
    if form.get("valid_from", "").strip():
        body["valid_from"] = form["valid_from"].strip()
    try:
        agents.grant(services(), g.actor, body)
    except Invalid as exc:
        return _page(exc.fields, exc.message, 422)
    flash(translate(Message("已授权", "Authorised")), "ok")
    return redirect(url_for("agents.index"))


@bp.post("/<int:record_id>/revoke")
@login_required
def revoke(record_id: int):
    agents.revoke(services(), g.actor, record_id)
    flash(translate(Message("授权已撤销", "Authorisation revoked")), "ok")
    return redirect(url_for("agents.index"))


@bp.post("/act")
@login_required
def act():
    """The switcher: act for an applicant who authorised me (checked now and on every later page), or as myself."""
    principal = request.form.get("principal", "").strip()
    if not principal:
        session.pop("on_behalf_of", None)
        flash(translate(Message("现以本人身份办理", "Acting as yourself")), "ok")
        return redirect(url_for("agents.index"))
    agents.acting(services(), g.actor, principal)  # Forbidden (403) without a valid authorisation
    session["on_behalf_of"] = principal
    return redirect(url_for("me.index"))


@bp.get("/cases/<int:case_id>")
@login_required
def case(case_id: int):
    """A case made by an agent for its applicant: who acted for whom, act by act (代办人 X（代 Y）)."""
    actor = g.actor
    if session.get("on_behalf_of"):
        try:
            actor = agents.acting(services(), g.actor, session["on_behalf_of"])
        except Forbidden:
            session.pop("on_behalf_of", None)
            raise
    view = portal.my_case(services(), actor, case_id)  # who may see it is decided there
    with services().read() as s:
        acts = agents.timeline(s, case_id) if s.get(Case, case_id) is not None else None
    if acts is None:
        abort(404)
    return render_template("me/agents_case.html", c=view, acts=acts)
