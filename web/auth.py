"""Sign-in: cookie sessions with a CSRF token for pages, signed bearer tokens for the API."""
from __future__ import annotations

import hmac
import secrets
from functools import wraps

from flask import (Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for)
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from urllib.parse import urlsplit

from engine.errors import Forbidden, NotFound, TooManyAttempts, Unauthorized

bp = Blueprint("auth", __name__)
TOKEN_SALT = "onewindow-api-token"


def services():
    return current_app.extensions["onewindow"]


# ---------------------------------------------------------------- API tokens
def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def make_token(username: str, epoch: int) -> str:
    """A bearer token: the user and their sign-in epoch, signed; revoked when the epoch moves on."""
    return _serializer().dumps({"u": username, "e": epoch})


def token_actor(token: str):
    """The actor a token names; Unauthorized if it is forged, older than API_TOKEN_MAX_AGE, or revoked."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["API_TOKEN_MAX_AGE"])
    except SignatureExpired:
        raise Unauthorized("token expired") from None
    except BadSignature:
        raise Unauthorized("invalid token") from None
    if not isinstance(data, dict) or "u" not in data or "e" not in data:
        raise Unauthorized("invalid token")
    try:
        return services().signed_in(str(data["u"]), data["e"])
    except Unauthorized:
        raise Unauthorized("token revoked or its user no longer exists") from None


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
            g.actor = services().signed_in(username, session.get("e"))
        except (NotFound, Unauthorized):  # signed out elsewhere, revoked, or the user was removed
            session.clear()
    if g.actor is not None and session.get("on_behalf_of") and acts_for_principal(request.path):
        from engine.runtime import agents  # 帮办代办: the switcher on /me/agents chose whom the agent acts for

        try:
            g.actor = agents.acting(services(), g.actor, session["on_behalf_of"])
        except Forbidden:  # expired or revoked: stops at once, and the agent is back to acting as themself
            session.pop("on_behalf_of", None)
            raise


def acts_for_principal(path: str) -> bool:
    """The applicant's pages an agent uses for the principal they chose (not sign-up, nor managing authorisations)."""
    return path.startswith("/me/") and not path.startswith(("/me/agents", "/me/signup", "/me/confirm"))


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
    if "applicant" in actor.groups and "me.index" in current_app.view_functions:
        return url_for("me.index")
    if "agent" in actor.groups and "agents.index" in current_app.view_functions:  # a hall's 帮办员
        return url_for("agents.index")
    if "pickup" in actor.groups:
        return url_for("pickup.index")
    if "auditor" in actor.groups and "auditor.index" in current_app.view_functions:
        return url_for("auditor.index")
    if "designer" in actor.groups and "designer.index" in current_app.view_functions:
        return url_for("designer.index")
    if "supervisor" in actor.groups and "supervisor.index" in current_app.view_functions:
        return url_for("supervisor.index")
    return url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, status, headers = None, 200, {}
    if request.method == "POST":
        try:
            actor, epoch = services().authenticate(request.form.get("username", ""), request.form.get("password", ""),
                                                   request.remote_addr)
        except Unauthorized:
            error, status = "用户名或密码错误", 401
        except TooManyAttempts as exc:
            error, status = exc.message, 429
            headers["Retry-After"] = str(exc.details.get("retry_after", 60))
        else:
            session.clear()
            session["user"], session["e"] = actor.username, epoch
            return redirect(local_target(request.args.get("next")) or home_for(actor))
    return render_template("login.html", error=error), status, headers


def local_target(target: str | None) -> str | None:
    """`next=` only to a path on this site: no scheme, no host, no backslash or control character (browsers
    drop a tab from '/\t/evil.com' and then read '//evil.com' as another host)."""
    if not target or any(ord(c) < 32 or c in "\\\x7f" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.post("/logout")
def logout():
    """Signs out everywhere: the user's sign-in epoch moves on, so this and every other session and token of the
    user stop working."""
    if g.get("actor") is not None:
        services().revoke(g.actor.username)
    session.clear()
    return redirect(url_for("auth.login"))


def init_app(app) -> None:
    app.before_request(check_csrf)
    app.before_request(load_user)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["has_view"] = lambda name: name in current_app.view_functions
