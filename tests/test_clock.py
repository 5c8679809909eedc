"""One clock for people: stored times stay UTC; pages, audit pages, PDFs, the CLI and case numbers use the hall's
zone (ONEWINDOW_TIMEZONE, default Asia/Shanghai), without microseconds."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from engine import clock
from engine.window.certificates import Certificates  # its table must exist before the fixtures create the schema
from tests.conftest import APPLICANT
from tests.test_web import accept, login, pdf_text
from web import create_app

try:  # the window rules and their tables (certificates) must be known before the fixtures create the schema
    import engine.window.matters  # noqa: F401
except ImportError:  # pragma: no cover
    pass

UTC = timezone.utc
LATE = datetime(2026, 11, 30, 17, 30, 0, 123456, tzinfo=UTC)  # 2026-12-01 01:30 in Beijing


@pytest.fixture
def zone(monkeypatch):
    """The default zone whatever the machine's environment says; a test may set another."""
    monkeypatch.delenv(clock.ENV, raising=False)
    return lambda name: monkeypatch.setenv(clock.ENV, name)


def test_default_zone_is_shanghai(zone):
    assert clock.zone_name() == "Asia/Shanghai"
    assert clock.to_local(LATE).utcoffset() == timedelta(hours=8)


def test_conversions(zone):
    assert clock.for_people(LATE) == "2026-12-01 01:30"
    assert clock.for_people("2026-11-30T17:30:00.123456+00:00", seconds=True) == "2026-12-01 01:30:00"
    assert clock.for_people("2026-11-30T17:30:00") == "2026-12-01 01:30"  # naive = UTC (SQLite)
    assert clock.for_people(datetime(2026, 11, 30, 17, 30)) == "2026-12-01 01:30"
    assert clock.for_people("2026-12-01T01:30:00+08:00") == "2026-12-01 01:30"
    assert clock.for_people(None) == "" and clock.for_people("") == ""
    assert clock.for_people("not a time") == "not a time"
    assert clock.local_date(LATE).isoformat() == "2026-12-01"
    # 16:00 UTC is midnight in Beijing: the local date turns eight hours before the UTC one.
    assert clock.local_date(datetime(2026, 11, 30, 15, 59, tzinfo=UTC)).isoformat() == "2026-11-30"
    assert clock.local_date(datetime(2026, 11, 30, 16, 0, tzinfo=UTC)).isoformat() == "2026-12-01"


def test_the_api_form_is_utc_with_its_offset(zone):
    assert clock.iso_utc(LATE) == "2026-11-30T17:30:00+00:00"
    assert clock.iso_utc(datetime(2026, 11, 30, 17, 30)) == "2026-11-30T17:30:00+00:00"
    assert clock.iso_utc("2026-12-01T01:30:00+08:00") == "2026-11-30T17:30:00+00:00"
    assert clock.iso_utc(None) is None


def test_another_zone(zone):
    zone("Europe/Berlin")
    assert clock.for_people(LATE) == "2026-11-30 18:30"
    assert clock.local_date(LATE).isoformat() == "2026-11-30"


def test_an_unknown_zone_is_refused(zone, services, db_url):
    zone("Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="ONEWINDOW_TIMEZONE"):
        clock.zone()
    with pytest.raises(ValueError, match="ONEWINDOW_TIMEZONE"):
        create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})


@pytest.fixture
def late_app(services, db_url, zone):
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})
    app.extensions["onewindow"].clock = lambda: LATE
    return app


def test_a_late_evening_case_everywhere_people_read_it(late_app, services):
    front = login(late_app, "front")
    number, case_id, r = accept(front)
    assert number.startswith("OW20261201"), number  # the local date, not the UTC one (20261130)
    stored = services.get_case(case_id)  # shown in UTC with its offset, whole seconds (the API's form)
    assert stored["created_at"] == "2026-11-30T17:30:00+00:00"
    with services.uow() as s:
        from engine.db import Case

        assert clock.as_utc(s.get(Case, case_id).created_at) == LATE  # stored in UTC, unchanged

    pages = {"case": front.get(f"/cases/{case_id}").text,
             "inbox": login(late_app, "market1").get("/inbox/").text}
    admin = login(late_app, "admin")
    pages["audit index"] = admin.get(f"/audit/?q={number}").text
    pages["audit case"] = admin.get(f"/audit/cases/{case_id}").text
    pages["receipt"] = pdf_text(front.get(f"/frontdesk/cases/{case_id}/receipt.pdf").data)
    for name, text in pages.items():
        assert "2026-12-01 01:30" in text, name
        assert "17:30" not in text and "2026-11-30" not in text, name
        assert not re.search(r"\d\d:\d\d:\d\d\.\d", text), f"{name} shows microseconds"
    assert "2026-12-01 01:30:00" in pages["audit case"]  # the auditor sees seconds


def test_the_notice_prints_the_local_time(late_app):
    front = login(late_app, "front")
    form_page = front.get("/frontdesk/matters/sample_bundle").text
    token = re.search(r'name="_csrf" value="([^"]+)"', form_page).group(1)
    r = front.post("/frontdesk/matters/sample_bundle", data={
        "_csrf": token, "a_type": "person", "a_name": "张三", "a_id": "11010519491231002X",
        "decision": "refuse", "i_remark": "缺少股东身份证明"}, follow_redirects=True)
    assert r.status_code == 200, r.text
    case_id = int(re.search(r"/frontdesk/cases/(\d+)/notice.pdf", r.text).group(1))
    text = pdf_text(front.get(f"/frontdesk/cases/{case_id}/notice.pdf").data)
    assert "决定时间" in text and "2026-12-01 01:30" in text  # a 不予受理决定书, dated in the hall's time


def test_the_audit_replay_command_prints_local_times(late_app, services, db_url, monkeypatch):
    from click.testing import CliRunner

    from web.cli import cli

    number, case_id, _ = accept(login(late_app, "front"))
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", db_url)
    out = CliRunner().invoke(cli, ["audit", "replay", number])
    assert out.exit_code == 0, out.output
    assert "#1 2026-12-01 01:30:00 case_started" in out.output



def test_working_day_limits_end_at_midnight_in_the_halls_zone(zone):
    from engine.runtime.workcal import add_workdays

    sunday_evening_utc = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)  # Monday 01:30 in Beijing
    due = add_workdays(sunday_evening_utc, 1)
    assert clock.for_people(due, seconds=True) == "2026-11-24 23:59:59"  # Tuesday, the first working day after Monday
    zone("Europe/Berlin")  # Sunday 18:30 there: the next working day is Monday
    assert clock.for_people(add_workdays(sunday_evening_utc, 1), seconds=True) == "2026-11-23 23:59:59"



@pytest.fixture
def late_certificate(services, zone):
    """A certificate issued on a case started at LATE, through the certificate store itself."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from engine.db import Case

    services.clock = lambda: LATE
    case = services.start_case(services.actor("front"), "sample_bundle", APPLICANT, {})
    certs = Certificates(services, Ed25519PrivateKey.generate())
    with services.uow() as s:
        cert = certs.issue(s, s.get(Case, case["id"]), "seal", {"type": "seal", "name": "印章备案回执"}, APPLICANT)
    return case, cert, certs


def test_a_certificate_carries_the_local_date(late_certificate):
    case, cert, _ = late_certificate
    assert case["number"].startswith("OW20261201")
    assert cert["content"]["issued"] == "2026-12-01" and "-20261201-" in cert["number"]


def test_a_certificate_view_gives_times_in_utc_with_the_offset(late_certificate):
    _, cert, certs = late_certificate
    assert certs.get(cert["number"])["issued_at"] == "2026-11-30T17:30:00+00:00"  # read back (naive on SQLite)
