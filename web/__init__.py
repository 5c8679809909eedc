"""Flask front end: app factory. Views stay thin; every action calls engine.runtime.services."""
from __future__ import annotations

import os

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from engine import clock
from engine.errors import OneWindowError
from engine.model.diagram import LEGEND
from engine.messages import Message
from engine.model.identifiers import SHAPES

from .i18n import localized
from .secret import secret_key, weak


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=secret_key(),
        DATABASE_URL=os.environ.get("ONEWINDOW_DATABASE_URL"),
        API_TOKEN_MAX_AGE=int(os.environ.get("ONEWINDOW_API_TOKEN_MAX_AGE", 8 * 3600)),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("ONEWINDOW_SECURE_COOKIES", "").lower() in ("1", "true", "yes"),
        MAX_CONTENT_LENGTH=int(os.environ.get("ONEWINDOW_MAX_REQUEST_BYTES", 2 * 1024 * 1024)),
    )
    if config:
        app.config.update(config)
    app.config.setdefault("VALIDATE_RESPONSES", bool(app.config.get("TESTING")))  # every answer to its model
    if not app.config["SECRET_KEY"]:
        raise RuntimeError(weak(None))  # never a built-in key: it would let anyone forge tokens and cookies
    clock.zone()  # a wrong ONEWINDOW_TIMEZONE stops the start, not the first page that shows a time
    from engine.bootstrap import services_for

    app.extensions["onewindow"] = services_for(app.config["DATABASE_URL"])

    from . import api, api_papers, auth, cases, frontdesk, home, i18n, inbox, papers, pickup
    i18n.init_app(app)
    app.jinja_env.globals["shapes"] = SHAPES  # identifier shapes for inputs written in templates (the applicant)
    app.jinja_env.globals["diagram_legend"] = LEGEND  # what a diagram's colours say (_legend.html)
    app.jinja_env.globals["hall_name"] = hall_name
    app.before_request(papers.upload_limit)  # before anything reads the form (the CSRF check does)
    auth.init_app(app)
    for module in (home, auth, frontdesk, inbox, pickup, cases, papers, api):  # api_papers adds to api.bp
        app.register_blueprint(module.bp)
    from . import auditor, designer, portal, portal_bookings, portal_notices, rating_pages
    from . import portal_acts  # noqa: F401 - the applicant's online acts, routes on the `me` blueprint (issue 14)
    app.register_blueprint(portal.bp)
    app.register_blueprint(portal_notices.bp)
    from . import portal_agents  # 帮办代办: authorisations and acting for an applicant (/me/agents)
    app.register_blueprint(portal_agents.bp)
    app.register_blueprint(portal_bookings.bp)  # 预约 (/me/bookings) and the front desk's list of them
    app.register_blueprint(rating_pages.bp)  # 好差评 from the receipt's QR (/rate/<token>) and the window pad (/pad)
    app.register_blueprint(auditor.bp)
    app.register_blueprint(designer.bp)
    from . import metrics, notices, supervisor  # time limits and 电子监察 (their API is in web/api_stats.py)
    for module in (supervisor, notices):
        app.register_blueprint(module.bp)
    metrics.init_app(app)
    _register_errors(app)
    app.after_request(_security_headers)
    return app


CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _security_headers(response):
    """No framing, no inline script, no content sniffing, no referrer leaking case numbers to other sites."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _error(status: int, code: str, message: str, fields: dict | None = None):
    """Engine messages (engine.messages.Message) are given in the reader's language, on pages and in the API."""
    message, fields = localized(message), localized(fields or {})
    if _wants_json():
        body = {"code": code, "message": message}
        if fields:
            body["fields"] = fields
        return jsonify({"error": body}), status
    return render_template("error.html", status=status, code=code, message=message, fields=fields), status


def _database_down(exc: Exception) -> bool:
    """The database cannot be reached (restart, network, a locked SQLite file): 503, not 500."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    return isinstance(exc, (OperationalError, InterfaceError)) or (isinstance(exc, DBAPIError)
                                                                    and exc.connection_invalidated)


# What a page says for an HTTP error (the API keeps werkzeug's description).
HTTP_TITLES = {400: Message("请求有误", "Bad request"), 403: Message("无权访问", "Forbidden"),
               404: Message("页面不存在", "Page not found"), 405: Message("不支持该请求方式", "Method not allowed"),
               413: Message("提交的内容过大", "Request too large"), 429: Message("请求过于频繁，请稍后再试", "Too many requests")}


def _register_errors(app: Flask) -> None:
    """JSON errors under /api/, a plain page elsewhere; never a traceback."""

    @app.errorhandler(OneWindowError)
    def _onewindow(exc: OneWindowError):
        response = _error(exc.status, exc.code, exc.message, getattr(exc, "fields", None))
        if exc.details.get("retry_after"):
            response = (response[0], response[1], {"Retry-After": str(exc.details["retry_after"])})
        return response

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code == 400 and exc.description == "csrf":
            return _error(400, "csrf", Message("表单已过期，请重试", "The form expired or was forged; reload and try again"))
        name = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description if _wants_json() else HTTP_TITLES.get(exc.code, exc.name)
        return _error(exc.code or 500, name, message or name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http(exc)
        if _database_down(exc):
            app.logger.warning("database unreachable on %s: %s", request.path, exc)
            body, status = _error(503, "unavailable", Message("系统暂时无法访问数据库，请稍后重试",
                                                       "The database cannot be reached; try again shortly"))
            return body, status, {"Retry-After": "5"}
        app.logger.exception("unhandled error on %s", request.path)
        return _error(500, "internal_error", Message("内部错误", "Internal error"))


def hall_name(code: str | None) -> str:
    """A hall by its name (people do not read hall codes), read once per request."""
    if not code:
        return ""
    from flask import current_app, g

    names = g.get("_hall_names")
    if names is None:
        from engine.runtime import org

        with current_app.extensions["onewindow"].read() as s:
            names = g._hall_names = {c: h.name for c, h in org.load(s).halls.items()}
    return names.get(code, code)
