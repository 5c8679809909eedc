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


@admin.command("migrate")
@click.argument("case")
@click.option("--to", "to_version", required=True, type=int, help="the id of the newer process version")
@_common
def migrate_cmd(case, to_version, reason, as_user):
    """Move a running case onto a newer deployed version of its process (refused when unsafe)."""
    _run(lambda a, actor, ref: a.migrate_version(actor, ref(case), to_version, reason=reason))
