"""`onewindow org`: the halls, their levels and departments (engine.runtime.org)."""
from __future__ import annotations

import json

import click

from engine.errors import OneWindowError
from engine.model.guide import LEVELS


def _services():
    from web.cli import _services as services

    return services()


def _fail(exc):
    from web.cli import _fail as fail

    fail(exc)


@click.group("org")
def org():
    """The organisation: halls at city / district / street / community level, and their departments."""


@org.command("add-hall")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--level", required=True, type=click.Choice(LEVELS))
@click.option("--parent", default=None, help="the hall one level (or more) up")
def add_hall(code, name, level, parent):
    from engine.runtime import org as O

    try:
        O.add_hall(_services(), code, name, level, parent)
    except OneWindowError as exc:
        _fail(exc)
    click.echo(f"hall {code} ({level}) added" + (f" under {parent}" if parent else ""))


@org.command("add-dept")
@click.argument("hall")
@click.argument("group")
@click.option("--name", required=True)
def add_dept(hall, group, name):
    """A department (GROUP, e.g. market) present at HALL."""
    from engine.runtime import org as O

    try:
        O.add_department(_services(), hall, group, name)
    except OneWindowError as exc:
        _fail(exc)
    click.echo(f"department {group} ({name}) added at {hall}")


@org.command("booking-capacity")
@click.argument("hall")
@click.argument("places", type=int)
def booking_capacity(hall, places):
    """预约: PLACES bookings per slot at HALL (default ONEWINDOW_BOOKING_CAPACITY, 3)."""
    from engine.runtime import bookings

    try:
        bookings.set_capacity(_services(), hall, places)
    except OneWindowError as exc:
        _fail(exc)
    click.echo(f"{places} places per booking slot at {hall}")


@org.command("show")
@click.option("--json", "as_json", is_flag=True)
def show(as_json):
    """The hall tree with each hall's departments and users."""
    from engine.runtime import org as O

    rows = O.show(_services())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for h in rows:
        pad = "  " * h["depth"]
        click.echo(f"{pad}{h['code']}  {h['name']}  [{h['level']}]")
        if h["departments"]:
            click.echo(f"{pad}  departments: " + ", ".join(f"{g} ({n})" for g, n in h["departments"].items()))
        if h["users"]:
            click.echo(f"{pad}  users: " + ", ".join(h["users"]))
    if not rows:
        click.echo("no halls (a single implicit hall)")
