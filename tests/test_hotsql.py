"""engine.runtime.hotsql: the prepared statements write and read exactly what SQLAlchemy itself writes and reads
(same SQL, same type conversions), on whichever database this run uses."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select

from engine.runtime import hotsql
from engine.db import Case, Event, WorkItem
from engine.runtime.hotsql import hot
from engine.runtime.services import Actor
from tests.conftest import APPLICANT

FRONT = Actor("front", frozenset({"front_desk"}))


def _case(services) -> int:
    return services.start_case(FRONT, "sample_matter", APPLICANT)["id"]


def test_rows_written_by_prepared_statements_read_back_through_sqlalchemy(services):
    cid = _case(services)
    at = datetime(2026, 5, 1, 9, 30, 15, 123456, tzinfo=timezone.utc)
    with services.uow() as s:
        sql = hot(s)
        sql.run("insert_event", dict(case_id=cid, seq=99, at=at, type="probe", actor="a", group_name="g",
                                     task_id=None, element_id=None, payload="{}", prev_hash="", hash="h"))
        sql.many("insert_item", [dict(id="probe-item", case_id=cid, process_id="p", element_id="e", name="名",
                                      form=None, rule=None, group_name="g", hall=None, candidate_users="", assignee=None,
                                      status="ready", created_at=at, due_at=at + timedelta(days=3))])
    with services.uow() as s:
        ev = s.scalar(select(Event).where(Event.case_id == cid, Event.seq == 99))
        item = s.get(WorkItem, "probe-item")
        assert ev.type == "probe" and item.name == "名"
        assert ev.at.replace(tzinfo=timezone.utc) == at  # SQLite keeps no zone: SQLAlchemy reads it back naive
        assert item.due_at.replace(tzinfo=timezone.utc) == at + timedelta(days=3)


def test_rows_written_by_sqlalchemy_read_back_through_prepared_statements(services):
    cid = _case(services)
    at = datetime(2026, 5, 1, 9, 30, 15, 123456, tzinfo=timezone.utc)
    with services.uow() as s:
        s.execute(insert(WorkItem).values(id="orm-item", case_id=cid, process_id="p", element_id="e", name="n",
                                          group_name="g", candidate_users="", status="ready", created_at=at))
    with services.uow() as s:
        sql = hot(s)
        mine = sql.query("select_case_items", {"k_case": cid})
        theirs = s.connection().execute(select(WorkItem.__table__).where(WorkItem.case_id == cid)
                              .order_by(WorkItem.created_at, WorkItem.id)).all()
        assert [tuple(r) for r in mine] == [tuple(r) for r in theirs]
        assert next(r for r in mine if r.id == "orm-item").created_at == next(
            r for r in theirs if r.id == "orm-item").created_at
        case = sql.first("lock_case", {"k_case": cid})
        assert case._asdict() == dict(s.execute(select(Case.__table__).where(Case.id == cid)).first()._mapping)


def test_listeners_hear_every_prepared_statement_with_rows_written(services):
    heard = []
    hotsql.LISTENERS.append(lambda sql, n: heard.append((sql.split()[0].upper(), n)))
    try:
        _case(services)
    finally:
        hotsql.LISTENERS.pop()
    kinds = {k for k, _ in heard}
    assert {"INSERT", "UPDATE", "SELECT"} <= kinds
    assert all(n >= 1 for k, n in heard if k == "INSERT")
