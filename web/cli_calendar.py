"""`onewindow calendar`: the working-day calendar (法定节假日 and 调休) that every time limit is counted in.

    onewindow calendar show 2027
    onewindow calendar set 2027-02-06..2027-02-12 holiday --note 春节 --as admin
    onewindow calendar set 2027-02-14 workday --note 春节调休 --as admin
    onewindow calendar cover 2027 --as admin      # the year is complete: Monday–Friday besides the days set
    onewindow calendar import 2027.csv --as admin  # DAYS,holiday|workday[,note] per line; covers the years it names
    onewindow calendar due 2026-12-20 10           # the 10th working day after; exit 1 naming an uncovered year
"""
from __future__ import annotations

import os
import sys
from datetime import date

import click

from engine.errors import OneWindowError

WEEKDAYS = "一二三四五六日"


def _services():
    from engine.bootstrap import services_for

    return services_for(os.environ.get("ONEWINDOW_DATABASE_URL"))


def _admin(services, name: str):
    """Editing the calendar is an administrator's act."""
    actor = services.actor(name)
    if "admin" not in actor.groups:
        raise click.ClickException(f"{name} is not an administrator (group admin)")
    return actor


def _fail(exc: OneWindowError):
    click.echo(f"error: {exc.message}", err=True)
    for name, msg in (getattr(exc, "fields", None) or {}).items():
        click.echo(f"  {name}: {msg}", err=True)
    sys.exit(1)


def _recompute(services) -> None:
    if services.limits is not None:
        n = services.limits.recompute()
        if n:
            click.echo(f"due dates of {n} open case(s) counted again")


@click.group("calendar")
def calendar():
    """The working-day calendar (holidays and adjusted working days) time limits are counted in."""


@calendar.command("show")
@click.argument("year", type=int)
def show(year):
    """A year: covered or not, its holidays and working weekend days, its number of working days."""
    info = _services().calendar.show(year)
    rng = info["range"]
    click.echo(f"{year}: {'covered' if info['covered'] else 'NOT COVERED'}"
               + (f", {info['workdays']} working days" if info["covered"] else "")
               + (f" (calendar covers {rng[0][:4]}–{rng[1][:4]})" if rng else " (calendar is empty)"))
    for d in info["days"]:
        kind = "workday" if d["workday"] else "holiday"
        click.echo(f"  {d['day']} 周{WEEKDAYS[d['weekday']]} {kind:7} {d['note']}")
    if not info["covered"]:
        sys.exit(1)


@calendar.command("set")
@click.argument("days")
@click.argument("kind", type=click.Choice(["holiday", "workday"]))
@click.option("--note", default="", help="what the day is (春节, 国庆节调休 ...)")
@click.option("--as", "as_user", required=True, help="the administrator")
def set_days(days, kind, note, as_user):
    """Make DAYS (YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD) holidays or working days."""
    from engine.runtime.caltable import parse_days

    services = _services()
    try:
        actor = _admin(services, as_user)
        first, last = parse_days(days)
        n = services.calendar.set_days(first, last, kind == "workday", note, actor.username)
    except OneWindowError as exc:
        _fail(exc)
    click.echo(f"{n} day(s) set as {kind}: {first}..{last}")
    cal = services.calendar.fresh()
    for year in sorted({first.year, last.year} - cal.years):
        click.echo(f"note: {year} is not covered yet; when all its holidays are set: onewindow calendar cover {year}")
    _recompute(services)


@calendar.command("cover")
@click.argument("year", type=int)
@click.option("--as", "as_user", required=True, help="the administrator")
def cover(year, as_user):
    """Declare YEAR complete: the days set in it, Monday–Friday otherwise."""
    services = _services()
    try:
        actor = _admin(services, as_user)
    except OneWindowError as exc:
        _fail(exc)
    services.calendar.cover(year, actor.username)
    click.echo(f"{year} is covered")
    _recompute(services)


@calendar.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "as_user", required=True, help="the administrator")
def import_file(path, as_user):
    """Import a file of `DAYS,holiday|workday[,note]` lines; the years it names are replaced and covered."""
    services = _services()
    try:
        actor = _admin(services, as_user)
        with open(path, encoding="utf-8") as fh:
            years, n = services.calendar.import_text(fh.read(), actor.username, f"import:{os.path.basename(path)}"[:40])
    except OneWindowError as exc:
        _fail(exc)
    except UnicodeDecodeError:
        click.echo("error: the file is not UTF-8 text", err=True)
        sys.exit(1)
    click.echo(f"{n} day(s) imported; covered: {', '.join(map(str, sorted(years)))}")
    _recompute(services)


@calendar.command("due")
@click.argument("day")
@click.argument("n", type=click.IntRange(0, 3650))
def due(day, n):
    """The Nth working day after DAY; exits 1 naming the year when the count runs into one not covered."""
    from engine.runtime.workcal import CalendarGap

    try:
        start = date.fromisoformat(day)
    except ValueError:
        click.echo(f"error: DAY must be YYYY-MM-DD, not {day!r}", err=True)
        sys.exit(2)
    try:
        end = _services().calendar.due(start, n)
    except CalendarGap as gap:
        click.echo(f"error: {gap.message} ({gap.message.en})", err=True)
        sys.exit(1)
    click.echo(f"{end.isoformat()} 周{WEEKDAYS[end.weekday()]}")
