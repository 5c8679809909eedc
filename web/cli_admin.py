"""`onewindow admin`: administrative acts on cases (reassign, suspend, resume, correct, migrate), each audited."""
from __future__ import annotations

import json
import os
import sys

import click

from engine.errors import OneWindowError


def _services():
    from engine.bootstrap import services_for

    return services_for(os.environ.get("ONEWINDOW_DATABASE_URL"))


def _run(act):
    """Run act(admin, actor, case_ref) with the --as user; print the case's status or the error (exit 1)."""
    from engine.runtime.admin import Admin, case_ref

    ctx = click.get_current_context()
    services = _services()
    try:
        actor = services.actor(ctx.params["as_user"])
        view = act(Admin(services), actor, lambda ref: case_ref(services, ref))
    except OneWindowError as exc:
        click.echo(f"error: {exc.message}", err=True)
        for name, msg in (getattr(exc, "fields", None) or {}).items():
            click.echo(f"  {name}: {msg}", err=True)
        sys.exit(1)
    click.echo(f"{view['number']}: {view['status']}, version {view['version_id']}, "
               f"open: {', '.join(t['element_id'] for t in view['tasks']) or '-'}")


def _common(fn):
    fn = click.option("--as", "as_user", required=True, help="the admin or supervisor acting")(fn)
    return click.option("--reason", required=True, help="why (recorded in the audit trail)")(fn)


@click.group("admin")
def admin():
    """Administrative acts (groups admin, supervisor); each needs --reason and is audited."""


@admin.command("reassign")
@click.argument("task_id")
@click.option("--to-user", default=None, help="the user who takes the task")
@click.option("--to-group", default=None, help="the group that takes the task")
@_common
def reassign_cmd(task_id, to_user, to_group, reason, as_user):
    """Give an open task to another user and/or group."""
    _run(lambda a, actor, _ref: a.reassign(actor, task_id, to_user=to_user, to_group=to_group, reason=reason))


@admin.command("suspend")
@click.argument("case")
@_common
def suspend_cmd(case, reason, as_user):
    """Suspend a case (id or number): its tasks cannot be claimed or completed until resumed."""
    _run(lambda a, actor, ref: a.suspend(actor, ref(case), reason=reason))


@admin.command("resume")
@click.argument("case")
@_common
def resume_cmd(case, reason, as_user):
    """Resume a suspended case."""
    _run(lambda a, actor, ref: a.resume(actor, ref(case), reason=reason))


def _value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


@admin.command("correct")
@click.argument("case")
@click.option("--set", "sets", multiple=True, required=True, metavar="KEY=VALUE",
              help="a data key (dotted, e.g. applicant.name) and its corrected value (JSON or text); repeatable")
@_common
def correct_cmd(case, sets, reason, as_user):
    """Correct case data on every open task."""
    changes = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--set")
        changes[key.strip()] = _value(value)
    _run(lambda a, actor, ref: a.correct_data(actor, ref(case), changes, reason=reason))


def _fail(exc: OneWindowError):
    click.echo(f"error: {exc.message}", err=True)
    for name, msg in (getattr(exc, "fields", None) or {}).items():
        click.echo(f"  {name}: {msg}", err=True)
    sys.exit(1)


def _verdict_line(v) -> str:
    head = f"  {v.number or v.case_id}  version {v.from_version} -> {v.to_version}"
    if v.state == "moved":
        return f"{head}  moved"
    if v.safe:
        return f"{head}  safe    waits at: {', '.join(v.waits_at) or '-'}"
    return f"{head}  {'SKIPPED' if v.state == 'skipped' else 'UNSAFE'}  {v.why()}"


def _print_report(report, dry_run: bool) -> None:
    if dry_run:
        where = f"version {report.to_version}" if report.to_version else "the versions they came from"
        click.echo(f"{report.process_id}: {len(report.verdicts)} open case(s) to move to {where}")
        for v in report.verdicts:
            click.echo(_verdict_line(v))
        click.echo(f"dry run: {report.safe} safe, {report.unsafe} unsafe; nothing was changed")
        return
    for v in report.verdicts:
        if v.state in ("unsafe", "skipped"):
            click.echo(_verdict_line(v))
    status = "done" if report.status == "done" else "interrupted (resume it with --resume)"
    click.echo(f"run {report.run_id} ({report.kind}, {report.process_id}) {status}: {report.count('moved')} moved, "
               f"{report.count('unsafe')} unsafe, {report.count('skipped')} skipped, {report.count('pending')} pending")
    if report.kind == "forward" and report.count("moved"):
        click.echo(f"to move them back: onewindow admin migrate --back {report.run_id} --reason ... --as ...")


def _progress(batch: int, report) -> None:
    click.echo(f"batch {batch}: {report.count('moved')} moved, {report.count('unsafe')} unsafe, "
               f"{report.count('pending')} pending", err=True)


@admin.command("migrate")
@click.argument("case", required=False)
@click.option("--process", "process_id", default=None, help="move every running case of this process id")
@click.option("--to", "to", default=None, help="the target version: 'latest' or a version id")
@click.option("--dry-run", is_flag=True, help="say per case whether it can move and why not; change nothing")
@click.option("--batch-size", default=50, show_default=True, type=int, help="cases per batch (with --process)")
@click.option("--resume", "resume_run", default=None, type=int, metavar="RUN", help="go on with an interrupted run")
@click.option("--back", "back_run", default=None, type=int, metavar="RUN",
              help="move the cases run RUN moved back to the versions they came from")
@click.option("--show", "show_run", default=None, type=int, metavar="RUN", help="print what run RUN did")
@click.option("--allow-older", is_flag=True, help="(one case) allow an older version: moving the case back")
@click.option("--as", "as_user", required=True, help="the admin or supervisor acting")
@click.option("--reason", default=None, help="why (recorded in the audit trail; not needed for --dry-run, "
                                              "--resume, --show)")
def migrate_cmd(case, process_id, to, dry_run, batch_size, resume_run, back_run, show_run, allow_older, as_user,
                reason):
    """Move running cases onto another version of their process.

    \b
    One case:      migrate CASE --to VERSION [--allow-older] [--dry-run] --reason R --as USER
    A process:     migrate --process ID --to latest|VERSION [--dry-run] [--batch-size N] --reason R --as USER
    Resume a run:  migrate --resume RUN --as USER
    Move back:     migrate --back RUN [--dry-run] --reason R --as USER
    Show a run:    migrate --show RUN --as USER

    Unsafe cases (a task they wait in is removed or changed, a form they filled no longer fits ...) are listed
    with why and stay where they are; every move is an audited version_migrated event."""
    modes = [m for m, v in (("CASE", case), ("--process", process_id), ("--resume", resume_run),
                            ("--back", back_run), ("--show", show_run)) if v is not None]
    if len(modes) != 1:
        raise click.UsageError("give exactly one of CASE, --process, --resume, --back or --show"
                               + (f" (got {', '.join(modes)})" if modes else ""))
    if (case or process_id) and not to:
        raise click.UsageError("--to is required (latest or a version id)")
    if allow_older and not case:
        raise click.UsageError("--allow-older is for one case; use --back RUN to move a run's cases back")
    if case is not None:
        if not str(to).strip().isdigit():
            raise click.UsageError("for one case --to is a version id")
        if dry_run:
            _migrate_one_dry(case, int(to), allow_older, as_user)
        else:
            _run(lambda a, actor, ref: a.migrate_version(actor, ref(case), int(to), reason=reason,
                                                         allow_older=allow_older))
        return
    from engine.runtime.migration import Migrations

    services = _services()
    migrations = Migrations(services)
    try:
        actor = services.actor(as_user)
        if show_run is not None:
            from engine.runtime.admin import require_admin

            require_admin(actor)
            report, dry = migrations.report(show_run), False
            for v in report.verdicts:
                if v.state == "moved":
                    click.echo(_verdict_line(v))
        elif process_id is not None:
            report, dry = ((migrations.plan(actor, process_id, to), True) if dry_run else
                           (migrations.start(actor, process_id, to, reason, batch_size, _progress), False))
        elif resume_run is not None:
            report, dry = migrations.resume(actor, resume_run, _progress), False
        else:
            report, dry = ((migrations.plan_back(actor, back_run), True) if dry_run else
                           (migrations.back(actor, back_run, reason, progress=_progress), False))
    except OneWindowError as exc:
        _fail(exc)
    _print_report(report, dry)


def _migrate_one_dry(case, to_version: int, allow_older: bool, as_user: str) -> None:
    from engine.runtime.admin import case_ref, require_admin
    from engine.runtime.migration import Migrations

    services = _services()
    try:
        require_admin(services.actor(as_user))
        verdict = Migrations(services).assess(case_ref(services, case), to_version, allow_older)
    except OneWindowError as exc:
        _fail(exc)
    click.echo(_verdict_line(verdict).strip())
    click.echo(f"dry run: {'safe' if verdict.safe else 'unsafe'}; nothing was changed")
