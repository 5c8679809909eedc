"""The landing page: signed-in users go to the home of their groups; /healthz for probes."""
from flask import Blueprint, current_app, g, redirect, render_template

from .auth import home_for

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    if g.get("actor") is not None:
        return redirect(home_for(g.actor))
    from sqlalchemy import func, select
    from engine.db import ProcessVersion

    services = current_app.extensions["onewindow"]
    with services.uow() as s:
        count = s.scalar(select(func.count()).select_from(ProcessVersion))
    return render_template("landing.html", count=count)


@bp.get("/healthz")
def healthz():
    return {"ok": True}
