"""The `onewindow` command: a Flask CLI group over the service layer."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup

from engine.errors import OneWindowError


def _create_app():
    """The app the commands run in. Without a configured key it gets a random one for this process only: the
    commands sign nothing that outlives them (`users token` refuses without a real key)."""
    import secrets

    from web import create_app
    from web.secret import secret_key

    return create_app({"SECRET_KEY": secret_key() or secrets.token_urlsafe(32)})


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
@click.option("--strict", is_flag=True, help="treat warnings (lint, guide) as errors")
def check_cmd(paths, strict):
    """Validate the catalogue (or the given files); one line per problem, exit 1 on any error.

    Lint findings are warnings (exit 0) unless --strict. Needs no app or database, so it runs in CI and
    pre-commit hooks as is."""
    from engine.model.catalogue import check
    from engine.model.lint import DIAGRAM_RULES, tally

    result = check(list(paths) or None, strict=strict)
    for problem in result.problems + result.warnings:
        click.echo(str(problem))
    warning = _calendar_warning(result)
    if warning:
        click.echo(f"calendar: warning: {warning} ({warning.en})")
    warnings = len(result.warnings) + (1 if warning else 0)
    counts = tally(result.problems + result.warnings)
    diagrams = "diagrams: " + ", ".join(f"{n} {DIAGRAM_RULES[rule]}" for rule, n in counts.items())
    if not result.ok:
        click.echo(f"{len(result.problems)} error(s), {warnings} warning(s) in {result.checked_files} file(s); "
                   f"{diagrams}", err=True)
        sys.exit(1)
    click.echo(f"ok: {result.checked_files} file(s), {len(result.processes)} process(es), {len(result.forms)} form(s), "
               f"{warnings} warning(s); {diagrams}")


def _calendar_warning(result):
    """Whether today plus the longest statutory limit of the checked matters runs past the working-day calendar:
    the database's calendar when one is configured (or the default one exists), else the one it is seeded from."""
    from engine.clock import local_date
    from engine.runtime.caltable import coverage_warning
    from engine.runtime.workcal import default_calendar

    longest = max((g.get("statutory_days") or 0 for g in result.guides.values() if isinstance(g, dict)), default=0)
    if not longest:
        return None
    cal = default_calendar()
    from engine.db import default_url

    url = os.environ.get("ONEWINDOW_DATABASE_URL")
    if url or os.path.exists(default_url().removeprefix("sqlite:///")):
        try:
            cal = _services().calendar.fresh()
        except Exception:  # noqa: BLE001 - no reachable database or no schema: check stays usable offline
            cal = default_calendar()
    return coverage_warning(cal, local_date(), longest)


@cli.command("deploy")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--dry-run", is_flag=True, help="print what the new versions change, and where running cases wait; "
                                                "deploy nothing")
def deploy_cmd(paths, dry_run):
    """Register new process versions by content hash (unchanged files are a no-op)."""
    from engine.bootstrap import deploy_catalogue, preview_catalogue

    if dry_run:
        try:
            previews = preview_catalogue(_services(), list(paths) or None)
        except OneWindowError as exc:
            _fail(exc)
        _print_previews(previews)
        return
    try:
        rows = deploy_catalogue(_services(), list(paths) or None)
    except OneWindowError as exc:
        _fail(exc)
    new = [r for r in rows if r[2]]
    for pid, vid, created in rows:
        click.echo(f"{pid}: version {vid}{' (new)' if created else ' (unchanged)'}")
    click.echo(f"{len(new)} new version(s), {len(rows) - len(new)} unchanged")


def _print_previews(previews) -> None:
    """One block per process: what its new version changes and where the open cases of older versions wait."""
    counts = {"new process": 0, "new version": 0, "unchanged": 0}
    for item in previews:
        p = item.preview
        counts[p.status] += 1
        if p.status == "unchanged":
            click.echo(f"{p.process_id}: unchanged (version {p.base})" + (f"; {p.note}" if p.note else ""))
            continue
        if p.status == "new process":
            click.echo(f"{p.process_id}: new process \"{p.name}\" (no version deployed yet)")
            continue
        click.echo(f"{p.process_id}: new version, compared with version {p.base}")
        for line in p.diff.lines("  ") or ["  (only layout or documentation changed)"]:
            click.echo(line)
        if not item.versions:
            click.echo("  running cases: none")
        for v in item.versions:
            suspended = f", {v.suspended} suspended" if v.suspended else ""
            click.echo(f"  running cases on version {v.version_id}: {v.running}{suspended}; "
                       f"waiting at {v.where() or '-'}")
    click.echo(f"dry run: {counts['new process']} new process(es), {counts['new version']} new version(s), "
               f"{counts['unchanged']} unchanged; nothing was deployed")


@cli.command("test", with_appcontext=False)
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("-k", "match", default=None, help="only scenarios whose file::name contains this text")
@click.option("-v", "--verbose", is_flag=True, help="a line for every scenario, passed ones too")
def test_cmd(paths, match, verbose):
    """Run the scenario files (docs/scenarios.md) of PATHS — directories, BPMN files (their *.scenarios.yaml beside
    them) or scenario files; default processes/ — each on a throw-away SQLite database with the catalogue deployed.

    One FAIL line per failed scenario with the step that diverged and expected vs actual; exit 1 on any failure."""
    from engine.model.catalogue import PROCESSES_DIR
    from engine.model.scenarios import find_files
    from engine.scenario_run import run_paths

    paths = list(paths) or [str(PROCESSES_DIR)]
    if not find_files(paths):
        click.echo(f"error: no scenario files (*.scenarios.yaml) in {', '.join(paths)}", err=True)
        sys.exit(1)

    def show(result):
        for line in result.lines(verbose):
            click.echo(line)

    report = run_paths(paths, log=show, only=match)
    for line in report.lines(verbose, results=False):
        click.echo(line)
    if not report.ok:
        sys.exit(1)


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
@click.option("--hall", default=None, help="the hall the user works at (default: the only top hall)")
def users_add(name, password, groups, display_name, hall):
    try:
        _services().add_user(name, password, [g.strip() for g in groups.split(",") if g.strip()], display_name, hall)
    except OneWindowError as exc:
        _fail(exc)
    click.echo(f"user {name} created")


@users_group.command("token")
@click.argument("name")
def users_token(name):
    """Print a bearer token for NAME (for scripts calling /api/v1)."""
    from web import create_app
    from web.auth import make_token

    from web.secret import secret_key, weak

    if weak(secret_key()):
        click.echo(f"error: {weak(secret_key())}", err=True)
        sys.exit(2)
    app = create_app()
    try:
        epoch = app.extensions["onewindow"].epoch(name)
    except OneWindowError as exc:
        _fail(exc)
    with app.app_context():
        click.echo(make_token(name, epoch))


@users_group.command("revoke")
@click.argument("name")
def users_revoke(name):
    """Revoke every API token and session of NAME (they sign in again)."""
    try:
        _services().revoke(name)
    except OneWindowError as exc:
        _fail(exc)
    click.echo(f"tokens and sessions of {name} revoked")


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
    from engine.runtime import timers

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # the web nodes' /metrics then shows this worker's timer lag
        from web.metrics import observe_lag

        timers.LISTENERS.append(observe_lag)
    from engine.runtime import channels

    services = _services()
    senders = channels.senders_from_env(os.environ)  # sms / email from the configuration; else the log sender
    click.echo("channels: " + channels.describe({**services.senders, **senders}))
    timers.run_worker(services, interval=interval, once=once, log=click.echo, senders=senders)


@cli.group("outbox")
def outbox_group():
    """Messages leaving the system (SMS, e-mail, notices), delivered by `onewindow worker`."""


@outbox_group.command("list")
@click.option("--to", "target", default=None, help="only messages to this phone, address or user")
@click.option("--status", type=click.Choice(["pending", "delivered", "failed"]), default=None)
@click.option("--limit", default=50, type=int)
@click.option("--json", "as_json", is_flag=True)
def outbox_list(target, status, limit, as_json):
    """List messages, newest first."""
    from engine.runtime.outbox import listing

    rows = listing(_services(), target=target, status=status, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"#{r['id']} {r['status']:<9} {r['kind']:<7} {r['target']:<20} "
                   f"{json.dumps(r['payload'], ensure_ascii=False)}")
    if not rows:
        click.echo("no messages")


@cli.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--workers", default=2, type=int)
@click.option("--debug", is_flag=True, help="allow a missing or short secret key (never in production)")
def serve_cmd(host, port, workers, debug):
    """Serve the web front end with gunicorn (refuses to start without a proper secret key; Prometheus counters in
    multiprocess mode, see web/metrics.py)."""
    from web.secret import secret_key, weak

    problem = weak(secret_key())
    if problem and not debug:
        click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    _metrics_dir(fresh=True)
    os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
                               "--config", "python:web.gunicorn_conf", "--access-logfile", "-", "web.wsgi:app"])


def _metrics_dir(fresh: bool = False) -> str:
    """PROMETHEUS_MULTIPROC_DIR (default var/prometheus): where every process writes its counters for /metrics."""
    import shutil

    from engine.db import ROOT

    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or str(Path(os.environ.get("ONEWINDOW_VAR", ROOT / "var"))
                                                             / "prometheus")
    if fresh and os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


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


@cli.group("secret")
def secret_group():
    """The key that signs cookies, tokens and verification codes."""


@secret_group.command("init", with_appcontext=False)
def secret_init():
    """Create var/secret_key (mode 0600) unless a key is configured or the file exists."""
    from web.secret import init_key_file

    if os.environ.get("ONEWINDOW_SECRET_KEY"):
        click.echo("ONEWINDOW_SECRET_KEY is set; no file needed")
        return
    path, created = init_key_file()
    click.echo(f"{'created' if created else 'kept'} {path}")


from web.cli_admin import admin  # noqa: E402
from web.cli_audit import audit  # noqa: E402
from web.cli_calendar import calendar  # noqa: E402
from web.cli_supervision import procedure, urge  # noqa: E402
from web.cli_regulators import regulators, webhooks  # noqa: E402
from web.cli_org import org  # noqa: E402

cli.add_command(audit)
cli.add_command(admin)
cli.add_command(calendar)
cli.add_command(procedure)
cli.add_command(urge)
cli.add_command(webhooks)
cli.add_command(regulators)
cli.add_command(org)


def main():
    cli(prog_name="onewindow")


if __name__ == "__main__":
    main()
