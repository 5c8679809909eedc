"""`onewindow webhooks` and `onewindow regulators`: 审管联动 from the shell (engine.runtime.webhooks,
engine.window.findings)."""
from __future__ import annotations

import json

import click

from engine.errors import OneWindowError


def _services():
    from web.cli import _services as services

    return services()


def _fail(exc):
    from web.cli import _fail as fail

    fail(exc)


@click.group("webhooks")
def webhooks():
    """Regulators' subscriptions to events, delivered signed by `onewindow worker`."""


@webhooks.command("add")
@click.argument("url")
@click.option("--events", required=True, help="comma-separated: certificate_issued,certificate_revoked,case_completed")
@click.option("--secret", required=True, help="signs every body (HMAC-SHA256), at least 16 characters")
def webhooks_add(url, events, secret):
    from engine.runtime import webhooks as W

    try:
        sub = W.subscribe(_services(), url, [e.strip() for e in events.split(",") if e.strip()], secret)
    except OneWindowError as exc:
        _fail(exc)
    click.echo(f"subscription #{sub['id']} to {sub['url']}: {', '.join(sub['events'])}")


@webhooks.command("list")
@click.option("--deliveries", "show", is_flag=True, help="list the deliveries instead, newest first")
@click.option("--status", type=click.Choice(["pending", "delivered", "failed"]), default=None)
@click.option("--limit", default=50, type=int)
@click.option("--json", "as_json", is_flag=True)
def webhooks_list(show, status, limit, as_json):
    """The subscriptions with their delivery counts, or (--deliveries) each delivery with its status."""
    from engine.runtime import webhooks as W

    try:
        rows = W.deliveries(_services(), None, status, limit) if show or status else W.subscriptions(_services())
    except OneWindowError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        if "deliveries" in r:
            d = r["deliveries"]
            click.echo(f"#{r['id']} {r['url']} events={','.join(r['events'])} pending={d['pending']} "
                       f"delivered={d['delivered']} failed={d['failed']}")
        else:
            click.echo(f"#{r['id']} {r['status']:<9} {r['event']:<20} {r['case'] or '-':<18} attempts={r['attempts']} "
                       f"{r['url']}" + (f"  last error: {r['last_error']}" if r["last_error"] else ""))
    if not rows:
        click.echo("none")


@click.group("regulators")
def regulators():
    """Regulators that send findings back to POST /api/v1/regulator/findings."""


@regulators.command("add")
@click.argument("name")
@click.option("--secret", required=True, help="the regulator signs each finding with it, at least 16 characters")
def regulators_add(name, secret):
    from engine.window import findings

    try:
        findings.add_regulator(_services(), name, secret)
    except OneWindowError as exc:
        _fail(exc)
    click.echo(f"regulator {name} registered")


@regulators.command("list")
def regulators_list():
    from engine.window import findings

    for r in findings.regulators(_services()):
        click.echo(f"{r['name']}  since {r['created_at']}")
