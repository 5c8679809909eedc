"""The landing page: signed-in users go to the home of their groups; the public 负面清单; /healthz for probes; the
site's icon."""
from flask import Blueprint, current_app, g, redirect, render_template, send_from_directory

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


@bp.get("/negative-list")
def negative_list():
    """负面清单, public: the matters that need more than one visit and why (from their service guides)."""
    from engine.readmodels import negative_list as listed

    return render_template("negative_list.html", matters=listed(current_app.extensions["onewindow"]))


@bp.get("/healthz")
def healthz():
    return {"ok": True}


@bp.get("/favicon.ico")
def favicon():
    """Browsers and tools ask for /favicon.ico whatever the page links (the pages link favicon.svg)."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=7 * 86400)
