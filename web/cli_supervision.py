"""`onewindow procedure start|end` (特别程序, the time a hearing or a test takes is not counted) and `onewindow urge`
(督办): acts on a case's time, each audited."""
from __future__ import annotations

import os
import sys

import click

from engine.errors import OneWindowError


def _run(act):
    from engine.bootstrap import services_for
    from engine.runtime.admin import case_ref
    from engine.supervision.acts import TimeActs

    services = services_for(os.environ.get("ONEWINDOW_DATABASE_URL"))
    ctx = click.get_current_context()
    try:
        actor = services.actor(ctx.params["as_user"])
        view = act(TimeActs(services), actor, lambda ref: case_ref(services, ref))
    except OneWindowError as exc:
        click.echo(f"error: {exc.message}", err=True)
        for name, msg in (getattr(exc, "fields", None) or {}).items():
            click.echo(f"  {name}: {msg}", err=True)
        sys.exit(1)
    click.echo(f"{view['number']}: {view['status']}, {view.get('timeliness')}, due {view.get('due') or '-'}")


@click.group("procedure")
def procedure():
    """特别程序 (hearing, testing, expert review ...): the case's clock stops and its timers wait meanwhile."""


@procedure.command("start")
@click.argument("case")
@click.option("--kind", required=True, help="hearing, testing, expert, appraisal, quarantine, publicity or survey")
@click.option("--reason", required=True)
@click.option("--as", "as_user", required=True, help="a user of a department holding the case, or a supervisor")
def start(case, kind, reason, as_user):
    _run(lambda acts, actor, ref: acts.start_procedure(actor, ref(case), kind, reason))


@procedure.command("end")
@click.argument("case")
@click.option("--kind", required=True)
@click.option("--result", required=True, help="what the procedure found")
@click.option("--as", "as_user", required=True)
def end(case, kind, result, as_user):
    _run(lambda acts, actor, ref: acts.end_procedure(actor, ref(case), kind, result))


@click.command("urge")
@click.argument("case")
@click.option("--text", required=True, help="what the supervisor asks")
@click.option("--as", "as_user", required=True, help="a supervisor")
def urge(case, text, as_user):
    """督办: press the groups holding a case (an audited event and a notice to each group)."""
    _run(lambda acts, actor, ref: acts.urge(actor, case, text))
