"""Flask front end: app factory. Views stay thin; every action calls engine.runtime.services."""
from __future__ import annotations

import os

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from engine import clock
from engine.errors import OneWindowError
from engine.model.identifiers import SHAPES

from .i18n import localized


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("ONEWINDOW_SECRET_KEY", "dev-only-change-me"),
        DATABASE_URL=os.environ.get("ONEWINDOW_DATABASE_URL"),
        API_TOKEN_MAX_AGE=int(os.environ.get("ONEWINDOW_API_TOKEN_MAX_AGE", 8 * 3600)),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # a page's request may carry several material files; each one is held to the file limit on its own
        MAX_CONTENT_LENGTH=int(os.environ.get("ONEWINDOW_MAX_REQUEST_MB") or 100) * 1024 * 1024,
    )
    if config:
        app.config.update(config)
    clock.zone()  # a wrong ONEWINDOW_TIMEZONE stops the start, not the first page that shows a time
    from engine.bootstrap import services_for

    app.extensions["onewindow"] = services_for(app.config["DATABASE_URL"])

    from . import api, api_papers, auth, cases, frontdesk, home, i18n, inbox, papers, pickup
    i18n.init_app(app)
    app.jinja_env.globals["shapes"] = SHAPES  # identifier shapes for inputs written in templates (the applicant)
    auth.init_app(app)
    for module in (home, auth, frontdesk, inbox, pickup, cases, papers, api, api_papers):
        app.register_blueprint(module.bp)
    from . import auditor
    app.register_blueprint(auditor.bp)
    _register_errors(app)
    return app


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


def _register_errors(app: Flask) -> None:
    """JSON errors under /api/, a plain page elsewhere; never a traceback."""

    @app.errorhandler(OneWindowError)
    def _onewindow(exc: OneWindowError):
        return _error(exc.status, exc.code, exc.message, getattr(exc, "fields", None))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code == 400 and exc.description == "csrf":
            return _error(400, "csrf", "表单已过期，请重试 (the form expired or was forged; reload and try again)")
        name = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description if _wants_json() else exc.name
        return _error(exc.code or 500, name, message or name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http(exc)
        app.logger.exception("unhandled error on %s", request.path)
        return _error(500, "internal_error", "内部错误 (internal error)")
