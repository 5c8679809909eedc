"""Flask front end: app factory. Views stay thin; every action calls engine.services."""
from __future__ import annotations

import os

from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("ONEWINDOW_SECRET_KEY", "dev-only-change-me"),
        DATABASE_URL=os.environ.get("ONEWINDOW_DATABASE_URL"),
    )
    if config:
        app.config.update(config)
    from engine.bootstrap import services_for

    app.extensions["onewindow"] = services_for(app.config["DATABASE_URL"])

    from . import home
    app.register_blueprint(home.bp)
    return app
