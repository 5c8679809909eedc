"""`onewindow audit`: verify cases' hash chains and replays, print a case's history, export XES/CSV."""
from __future__ import annotations

import os
import sys
from datetime import datetime, timezone

import click

from engine import clock


def _services():
    from engine.bootstrap import services_for

    return services_for(os.environ.get("ONEWINDOW_DATABASE_URL"))


def _case_id(services, ref) -> int:
    from engine.audit.verify import find_case

    with services.uow() as s:
        case = find_case(s, ref)
        if case is None:
            click.echo(f"error: no such case: {ref}", err=True)
            sys.exit(2)
        return case.id


@click.group("audit")
def audit():
    """Auditing: tamper-evident history, replay, export."""


@audit.command("verify")
@click.argument("cases", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="verify every case")
@click.option("--chain-only", is_flag=True, help="check the hash chain only, do not replay")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="worker processes (each replays its share of the cases)")
def verify_cmd(cases, all_, chain_only, jobs):
    """Verify cases (id or number): hash chain, then a replay compared with the stored state.

    One line per failing case naming the first bad event and why; exit 1 on any failure."""
    from engine.audit.verify import case_ids, verify_parallel

    services = _services()
    if not cases and not all_:
        raise click.UsageError("name one or more cases, or pass --all")
    ids = case_ids(services) if all_ else [_case_id(services, c) for c in cases]
    failed = 0
    results = verify_parallel(services, ids, jobs, replay_too=not chain_only)
    if all_:
        with click.progressbar(results, length=len(ids), label="verifying", file=sys.stderr) as bar:
            for finding in bar:
                if not finding.ok:
                    failed += 1
                    click.echo(f"\n{finding.line()}" if failed == 1 else finding.line())
    else:
        for finding in results:
            if not finding.ok:
                failed += 1
                click.echo(finding.line())
    click.echo(f"{len(ids)} case(s) verified: {len(ids) - failed} ok, {failed} failed")
    if failed:
        sys.exit(1)


@audit.command("replay")
@click.argument("case")
def replay_cmd(case):
    """Print a case's history step by step, replayed from its events, with what each step changed."""
    from engine.db import Case
    from engine.audit.replay import ReplayError, case_history, load_events

    services = _services()
    cid = _case_id(services, case)
    with services.uow() as s:
        c = s.get(Case, cid)
        events = load_events(s, cid)
        click.echo(f"case {c.number} ({c.process_id}, version {c.version_id}), {len(events)} event(s)")
        try:
            steps = case_history(services, s, c, events)
        except ReplayError as exc:
            click.echo(f"replay failed at {exc}", err=True)
            sys.exit(1)
    for st in steps:
        at = clock.for_people(st.at, seconds=True)  # the hall's time, as on the audit pages
        what = f" {st.name}" if st.name else ""
        where = f" [{st.path}]" if st.path else ""
        click.echo(f"#{st.seq} {at} {st.type}{what}{where} by {st.actor}{'/' + st.group if st.group else ''}")
        for key, how in sorted(st.changes.items()):
            click.echo(f"    data {how}: {key}")
        for p in st.opened:
            click.echo(f"    task opened: {p}")
        for p in st.closed:
            click.echo(f"    task closed: {p}")
    if steps:
        click.echo(f"status: {steps[-1].status}")


def _date(value):
    if value is None:
        return None
    try:
        d = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO date: {value}") from None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


@audit.command("export")
@click.option("--format", "fmt", type=click.Choice(["xes", "csv"]), default="xes", show_default=True)
@click.option("--matter", default=None, help="only cases of this process id")
@click.option("--since", default=None, help="only cases started on or after this ISO date")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="output file ('-' for stdout)")
def export_cmd(fmt, matter, since, out):
    """Export event logs: XES (IEEE 1849-2016) or CSV with the same columns."""
    from engine.audit.xes import write_csv, write_xes

    writer = write_xes if fmt == "xes" else write_csv
    traces, events = writer(_services(), out, matter=matter, since=_date(since))
    click.echo(f"exported {traces} case(s), {events} event(s) to {out}", err=(out == "-"))
