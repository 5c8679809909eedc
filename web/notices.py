"""The in-app notices of the signed-in user and their groups (催办, 督办, 超时默认)."""
from __future__ import annotations

from flask import Blueprint, g, render_template

from engine.supervision import notices as store

from .auth import login_required, services

bp = Blueprint("notices", __name__, url_prefix="/notices")


@bp.get("/")
@login_required
def index():
    return render_template("notices/index.html", notices=store.notices_for(services(), g.actor, limit=200))
