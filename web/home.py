"""Placeholder home page until the clerk front end lands."""
from flask import Blueprint, current_app

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    from sqlalchemy import func, select
    from engine.db import ProcessVersion

    services = current_app.extensions["onewindow"]
    with services.uow() as s:
        count = s.scalar(select(func.count()).select_from(ProcessVersion))
    return (f"<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>一窗受理 onewindow</title>"
            f"<h1>一窗受理 · 最多跑一次</h1><p>已部署流程版本 {count} 个 ({count} process versions deployed).</p></html>")


@bp.get("/healthz")
def healthz():
    return {"ok": True}
