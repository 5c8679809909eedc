"""The working-day calendar as data, and time limits written as ISO 8601, read completely or refused."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner

from engine.model.catalogue import check
from engine.model.durations import Duration, DurationError, parse_duration, parse_limit
from engine.runtime.caltable import parse_import
from engine.runtime.workcal import CST, CalendarGap, WorkCalendar, default_calendar
from engine.errors import Invalid
from tools.bpmngen import Process
from web.cli import cli


def test_durations_are_read_completely_or_refused():
    assert parse_duration("P3D") == Duration(days=3)
    assert parse_duration('"PT48H"') == Duration(hours=48)
    assert parse_duration("P1W") == Duration(weeks=1) and Duration(weeks=1).working_days() == 5
    assert parse_duration("P1Y2M3DT4H5M6S") == Duration(1, 2, 0, 3, 4, 5, 6)
    for bad, why in [("P1.5D", "fractions"), ("P", "at least one"), ("PT", "at least one"), ("P3X", "not an ISO"),
                     ("-P1D", "not an ISO"), ("3D", "starts with P"), ("P1DT", "at least one")]:
        with pytest.raises(DurationError, match=why):
            parse_duration(bad)
    assert parse_limit("2026-12-01T09:00:00+08:00") == datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
    with pytest.raises(DurationError, match="neither"):
        parse_limit("next week")


def test_deadlines_in_working_days_natural_days_and_months():
    cal = default_calendar()
    start = datetime(2026, 9, 30, 10, 0, tzinfo=CST)  # Wednesday before National Day
    assert cal.deadline(start, Duration(days=3)).at.astimezone(CST).date() == date(2026, 10, 10)  # Oct 10: 调休
    assert cal.deadline(start, Duration(weeks=1)).at.astimezone(CST).date() == date(2026, 10, 13)  # 5 working days
    # natural days: 3 calendar days end on Oct 3, a holiday, so the limit runs to the next working day (Oct 8)
    assert cal.deadline(start, Duration(days=3), natural=True).at.astimezone(CST).date() == date(2026, 10, 8)
    assert cal.deadline(start, Duration(days=1), natural=True).at.astimezone(CST).date() == date(2026, 10, 8)
    assert cal.deadline(start, Duration(months=1)).at.astimezone(CST).date() == date(2026, 10, 30)
    hours = cal.deadline(start, Duration(hours=4)).at
    assert hours == start.astimezone(timezone.utc).replace(hour=6) and not cal.deadline(start, Duration(days=3)).gaps


def test_an_uncovered_year_is_loud_never_monday_to_friday():
    cal = default_calendar()
    with pytest.raises(CalendarGap) as gap:
        cal.nth_workday_after(date(2026, 12, 20), 10)
    assert gap.value.year == 2027 and "2027" in gap.value.message and "2027" in gap.value.message.en
    provisional = cal.deadline(datetime(2026, 12, 20, 2, 0, tzinfo=timezone.utc), Duration(days=10))
    assert provisional.provisional and provisional.gaps == (2027,)
    own = WorkCalendar(years={2027}, exceptions={date(2027, 2, 8): (False, "春节")})
    assert not own.is_workday(date(2027, 2, 8)) and own.is_workday(date(2027, 2, 5))


def test_an_import_file_covers_the_years_it_names_and_reports_every_bad_line():
    years, entries = parse_import("# year 2027\n2027-02-06..2027-02-12,holiday,春节\n2027-02-14,workday,调休\n")
    assert years == {2027} and len(entries) == 8
    with pytest.raises(Invalid) as err:
        parse_import("2027-02-30,holiday\n2027-01-01,maybe\n")
    assert set(err.value.fields) == {"line 1", "line 2"}


def _cli(url, *args):
    return CliRunner().invoke(cli, list(args), env={"ONEWINDOW_DATABASE_URL": url})


def test_calendar_commands(services, db_url, tmp_path):
    from tests.walk import add_users

    add_users(services, [("admin2", ["admin"])])
    res = _cli(db_url, "calendar", "due", "2026-12-20", "10")
    assert res.exit_code == 1 and "2027" in res.output  # never a silent Monday–Friday
    assert _cli(db_url, "calendar", "due", "2026-09-30", "3").output.strip() == "2026-10-10 周六"
    res = _cli(db_url, "calendar", "set", "2027-02-06..2027-02-12", "holiday", "--note", "春节", "--as", "admin2")
    assert res.exit_code == 0 and "calendar cover 2027" in res.output  # not counted until the year is complete
    assert _cli(db_url, "calendar", "set", "2027-02-14", "workday", "--note", "调休", "--as", "admin2").exit_code == 0
    assert _cli(db_url, "calendar", "due", "2027-02-05", "1").exit_code == 1
    assert _cli(db_url, "calendar", "cover", "2027", "--as", "admin2").exit_code == 0
    assert _cli(db_url, "calendar", "due", "2027-02-05", "1").output.strip() == "2027-02-14 周日"
    shown = _cli(db_url, "calendar", "show", "2027")
    assert shown.exit_code == 0 and "2027-02-08 周一 holiday 春节" in shown.output and "257 working days" in shown.output
    assert _cli(db_url, "calendar", "set", "2027-02-30", "holiday", "--as", "admin2").exit_code == 1
    assert _cli(db_url, "calendar", "set", "2027-03-01", "holiday", "--as", "front").exit_code != 0  # admins only
    f = tmp_path / "2028.csv"
    f.write_text("# year 2028\n2028-01-31..2028-02-04,holiday,春节\n", encoding="utf-8")
    res = _cli(db_url, "calendar", "import", str(f), "--as", "admin2")
    assert res.exit_code == 0 and "covered: 2028" in res.output
    assert _cli(db_url, "calendar", "show", "2029").exit_code == 1


def test_check_refuses_unreadable_limits_and_accepts_a_week(tmp_path):
    p = Process("limits", "时限", dialect="camunda")
    p.start("s")
    p.user("a", "甲", group="market", due="P1.5D")
    p.timer("w", "等待", "P3X")
    p.user("b", "乙", group="market", due="P1W", props={"calendar": "lunar"})
    p.end("e")
    p.chain("s", "a", "w", "b", "e")
    path = tmp_path / "limits.bpmn"
    p.write(str(path))
    lines = [f"{x.element}: {x.message}" for x in check([str(path)]).problems]
    assert "a: dueDate: 'P1.5D': fractions are not counted; write whole units (P1DT12H, not P1.5D)" in lines
    assert any(line.startswith("w: timer timeDuration: 'P3X'") for line in lines)
    assert any(line.startswith("b: calendar 'lunar' is unknown") for line in lines)
    assert not any(line.startswith("b: dueDate") for line in lines), lines


def test_check_warns_when_the_calendar_runs_out(db_url):
    res = CliRunner().invoke(cli, ["check"], env={"ONEWINDOW_DATABASE_URL": db_url})
    assert res.exit_code == 0
    today = date.today()
    if today.year == 2026 and today.month >= 9:  # today plus 63 working days runs into 2027, which is not entered
        assert "calendar: warning:" in res.output and "2027" in res.output
