"""Sign-in: cookie sessions with a CSRF token for pages, signed bearer tokens for the API."""
from __future__ import annotations

import hmac
import secrets
from functools import wraps

from flask import (Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for)
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from engine.errors import NotFound, Unauthorized

bp = Blueprint("auth", __name__)
TOKEN_SALT = "onewindow-api-token"


def services():
    return current_app.extensions["onewindow"]


# ---------------------------------------------------------------- API tokens
def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def make_token(username: str) -> str:
    return _serializer().dumps({"u": username})


def token_user(token: str) -> str:
    """The username a token carries; Unauthorized if it is forged or older than API_TOKEN_MAX_AGE."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["API_TOKEN_MAX_AGE"])
    except SignatureExpired:
        raise Unauthorized("token expired") from None
    except BadSignature:
        raise Unauthorized("invalid token") from None
    return data["u"]


# ---------------------------------------------------------------- CSRF
def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def check_csrf() -> None:
    """Every POST of a page form must echo the session's token (the API uses bearer tokens instead)."""
    if request.method != "POST" or request.path.startswith("/api/"):
        return
    sent = request.form.get("_csrf", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, description="csrf")


# ---------------------------------------------------------------- page sessions
def load_user() -> None:
    g.actor = None
    username = session.get("user")
    if username and not request.path.startswith("/api/"):
        try:
            g.actor = services().actor(username)
        except NotFound:
            session.clear()


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("actor") is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)
    return wrapper


def home_for(actor) -> str:
    """Each user lands on the page of their groups."""
    if "front_desk" in actor.groups:
        return url_for("frontdesk.index")
    if "pickup" in actor.groups:
        return url_for("pickup.index")
    if "auditor" in actor.groups and "auditor.index" in current_app.view_functions:
        return url_for("auditor.index")
    if "supervisor" in actor.groups and "supervisor.index" in current_app.view_functions:
        return url_for("supervisor.index")
    return url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        try:
            actor = services().authenticate(request.form.get("username", ""), request.form.get("password", ""))
        except Unauthorized:
            error = "用户名或密码错误"
        else:
            session.clear()
            session["user"] = actor.username
            target = request.args.get("next") or ""
            if not target.startswith("/") or target.startswith("//"):
                target = home_for(actor)
            return redirect(target)
    return render_template("login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"))


def init_app(app) -> None:
    app.before_request(check_csrf)
    app.before_request(load_user)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["has_view"] = lambda name: name in current_app.view_functions
