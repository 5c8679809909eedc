"""The `onewindow` command: a Flask CLI group over the service layer."""
from __future__ import annotations

import os
import sys

import click
from flask.cli import FlaskGroup

from engine.errors import OneWindowError


def _create_app():
    from web import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def cli():
    """onewindow: one-window government services on BPMN (一窗受理 · 最多跑一次)."""


def _services():
    from engine.bootstrap import services_for

    return services_for(os.environ.get("ONEWINDOW_DATABASE_URL"))


def _fail(exc: OneWindowError):
    click.echo(f"error: {exc.message}", err=True)
    for name, msg in (getattr(exc, "fields", None) or {}).items():
        click.echo(f"  {name}: {msg}", err=True)
    sys.exit(1)


@cli.command("check", with_appcontext=False)
@click.argument("paths", nargs=-1, type=click.Path())
def check_cmd(paths):
    """Validate the catalogue (or the given files); one line per problem, exit 1 on any error.

    Needs no app or database, so it runs in CI and pre-commit hooks as is."""
    from engine.model.catalogue import check

    result = check(list(paths) or None)
    for problem in result.problems + result.warnings:
        click.echo(str(problem))
    if not result.ok:
        click.echo(f"{len(result.problems)} error(s), {len(result.warnings)} warning(s) in {result.checked_files} file(s)", err=True)
        sys.exit(1)
    click.echo(f"ok: {result.checked_files} file(s), {len(result.processes)} process(es), {len(result.forms)} form(s), "
               f"{len(result.warnings)} warning(s)")


@cli.command("deploy")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def deploy_cmd(paths):
    """Register new process versions by content hash (unchanged files are a no-op)."""
    from engine.bootstrap import deploy_catalogue

    try:
        rows = deploy_catalogue(_services(), list(paths) or None)
    except OneWindowError as exc:
        _fail(exc)
    new = [r for r in rows if r[2]]
    for pid, vid, created in rows:
        click.echo(f"{pid}: version {vid}{' (new)' if created else ' (unchanged)'}")
    click.echo(f"{len(new)} new version(s), {len(rows) - len(new)} unchanged")


@cli.group("db")
def db_group():
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade():
    """Migrate the database to the latest schema."""
    from engine.db import database_url
    from engine.migrate import upgrade

    upgrade(database_url())
    click.echo("database is at the latest schema")


@cli.group("users")
def users_group():
    """User accounts."""


@users_group.command("add")
@click.argument("name")
@click.option("--password", required=True)
@click.option("--groups", default="", help="comma-separated group names")
@click.option("--display-name", default="")
def users_add(name, password, groups, display_name):
    try:
        _services().add_user(name, password, [g.strip() for g in groups.split(",") if g.strip()], display_name)
    except OneWindowError as exc:
        _fail(exc)
    click.echo(f"user {name} created")


@users_group.command("token")
@click.argument("name")
def users_token(name):
    """Print a bearer token for NAME (for scripts calling /api/v1)."""
    from web import create_app
    from web.auth import make_token

    app = create_app()
    try:
        app.extensions["onewindow"].actor(name)
    except OneWindowError as exc:
        _fail(exc)
    with app.app_context():
        click.echo(make_token(name))


@cli.command("seed")
@click.option("--demo", is_flag=True, help="deploy the catalogue and create the demo users")
def seed_cmd(demo):
    """Seed demo data (documented in the README)."""
    from engine.bootstrap import DEMO_PASSWORD, seed_demo

    if not demo:
        click.echo("nothing to do: pass --demo")
        return
    try:
        created = seed_demo(_services())
    except OneWindowError as exc:
        _fail(exc)
    click.echo(f"demo users created: {', '.join(created) or 'none (already there)'}; password: {DEMO_PASSWORD}")


@cli.command("worker")
@click.option("--interval", default=5.0, type=float, help="seconds between polls")
@click.option("--once", is_flag=True, help="fire what is due now and exit")
def worker_cmd(interval, once):
    """Fire due timers; run one or more next to the web nodes (they share the database)."""
    from engine.runtime.timers import run_worker

    run_worker(_services(), interval=interval, once=once, log=click.echo)


@cli.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--workers", default=2, type=int)
def serve_cmd(host, port, workers):
    """Serve the web front end with gunicorn."""
    os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
                               "--access-logfile", "-", "web.wsgi:app"])


@cli.command("archive", with_appcontext=False)
@click.argument("case")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="the zip file to write")
@click.option("--base-url", default=None, help="where /verify pages are served (QR codes on the PDFs); "
                                                "default ONEWINDOW_BASE_URL or http://127.0.0.1:8000")
def archive_cmd(case, out, base_url):
    """Export a finished case (id or number) as an e-archive: a zip of every event, document, certificate and
    material file, with a manifest of their SHA-256 hashes."""
    from engine.audit.archive import build_archive

    base = base_url or os.environ.get("ONEWINDOW_BASE_URL") or "http://127.0.0.1:8000"
    try:
        data, manifest = build_archive(_services(), case, base)
    except OneWindowError as exc:
        _fail(exc)
    with open(out, "wb") as fh:
        fh.write(data)
    verdict = "verified ok" if manifest["verified"]["ok"] else f"VERIFY FAILED: {manifest['verified']['detail']}"
    click.echo(f"{manifest['case']['number']}: {len(manifest['entries'])} entries, {len(manifest['events'])} events, "
               f"{verdict} -> {out}")
    if not manifest["verified"]["ok"]:
        sys.exit(1)


from web.cli_admin import admin  # noqa: E402
from web.cli_audit import audit  # noqa: E402

cli.add_command(audit)
cli.add_command(admin)


def main():
    cli(prog_name="onewindow")


if __name__ == "__main__":
    main()
