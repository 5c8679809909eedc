"""Schema migrations with Alembic, driven from code so `onewindow db upgrade` needs no ini file."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from .db import ROOT, database_url

MIGRATIONS = ROOT / "migrations"

def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return cfg

def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)

def revision(message: str, url: str | None = None) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=True)
