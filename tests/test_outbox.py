"""The outbox: a message is written with the action that causes it and delivered once by the worker."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from engine.db import OutboxMessage
from engine.runtime import outbox
from engine.runtime.timers import run_worker
from click.testing import CliRunner

from web.cli import cli

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def _count(services) -> int:
    with services.read() as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage))


def test_a_message_commits_with_its_transaction_and_vanishes_with_a_rollback(services):
    with services.uow() as s:
        outbox.enqueue(s, "sms", "13800000000", {"text": "您的办件已受理"}, key="case-1-accepted", now=T0)
    with pytest.raises(RuntimeError):
        with services.uow() as s:
            outbox.enqueue(s, "sms", "13800000000", {"text": "never"}, key="case-1-rolled-back", now=T0)
            raise RuntimeError("the action failed")
    rows = outbox.listing(services)
    assert [r["key"] for r in rows] == ["case-1-accepted"]
    assert rows[0]["status"] == "pending" and rows[0]["payload"] == {"text": "您的办件已受理"}


def test_the_same_key_twice_is_one_message(services):
    for _ in range(2):
        with services.uow() as s:
            outbox.enqueue(s, "sms", "13800000000", {"text": "a"}, key="same", now=T0)
    assert _count(services) == 1


def test_delivery_retries_with_backoff_then_gives_up(services):
    with services.uow() as s:
        outbox.enqueue(s, "webhook", "https://regulator.example/hook", {"n": 1}, key="hook-1", now=T0)
    calls = []

    def broken(row):
        calls.append(row.key)
        raise ConnectionError("receiver down")

    assert outbox.deliver_due(services, {"webhook": broken}, now=T0) == 0
    row = outbox.listing(services)[0]
    assert row["status"] == "pending" and row["attempts"] == 1 and "receiver down" in row["last_error"]
    # not due again until the back-off has passed
    assert outbox.deliver_due(services, {"webhook": broken}, now=T0 + timedelta(seconds=5)) == 0
    assert len(calls) == 1
    now = T0
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        now += timedelta(hours=2)
        outbox.deliver_due(services, {"webhook": broken}, now=now)
    row = outbox.listing(services)[0]
    assert row["status"] == "failed" and row["attempts"] == outbox.MAX_ATTEMPTS
    assert len(calls) == outbox.MAX_ATTEMPTS
    assert outbox.deliver_due(services, {"webhook": broken}, now=now + timedelta(days=1)) == 0


def test_a_receiver_that_recovers_gets_the_message_once(services):
    with services.uow() as s:
        outbox.enqueue(s, "sms", "13900000000", {"code": "123456"}, key="code-1", now=T0)
    received, fail = [], [True]

    def flaky(row):
        if fail[0]:
            fail[0] = False
            raise TimeoutError("gateway timeout")
        received.append(row.payload)

    outbox.deliver_due(services, {"sms": flaky}, now=T0)
    assert outbox.deliver_due(services, {"sms": flaky}, now=T0 + timedelta(minutes=1)) == 1
    assert outbox.deliver_due(services, {"sms": flaky}, now=T0 + timedelta(hours=1)) == 0
    assert received == ['{"code": "123456"}']
    assert outbox.listing(services, status="delivered")[0]["delivered_at"] is not None


def test_the_worker_delivers_and_the_cli_lists(services, cli_env):
    with services.uow() as s:
        outbox.enqueue(s, "sms", "13700000000", {"text": "请到窗口取件"}, key="pickup-1")
    lines = []
    sent = []
    run_worker(services, once=True, log=lines.append, senders={"sms": lambda row: sent.append(row.target)})
    assert sent == ["13700000000"] and "delivered 1 message(s)" in lines
    res = CliRunner().invoke(cli, ["outbox", "list", "--to", "13700000000"], env=cli_env)
    assert res.exit_code == 0, res.output
    assert "delivered" in res.output and "请到窗口取件" in res.output
    res = CliRunner().invoke(cli, ["outbox", "list", "--to", "10000000000"], env=cli_env)
    assert "no messages" in res.output


def test_a_worker_run_once_empties_what_is_due_not_one_batch(services):
    """`onewindow worker --once` delivers every message due now (more than one batch of 100); one that fails waits
    for its retry instead of being tried again in the same run."""
    with services.uow() as s:
        for n in range(230):
            outbox.enqueue(s, "sms", f"1370000{n:04d}", {"text": "办结"}, key=f"many-{n}")
        outbox.enqueue(s, "sms", "13799999999", {"text": "x"}, key="bad")
    sent, lines = [], []

    def sender(row):
        if row.target == "13799999999":
            raise OSError("gateway down")
        sent.append(row.target)

    run_worker(services, once=True, log=lines.append, senders={"sms": sender})
    assert len(sent) == 230 and "delivered 230 message(s)" in lines
    assert [m["status"] for m in outbox.listing(services, target="13799999999")] == ["pending"]


def test_two_workers_on_postgresql_send_each_message_once(pg_services):
    services = pg_services
    with services.uow() as s:
        for i in range(60):
            outbox.enqueue(s, "sms", f"1380000{i:04d}", {"i": i}, key=f"m{i}")
    sent, lock = [], threading.Lock()
    barrier = threading.Barrier(3)

    def slow_send(row):
        with lock:
            sent.append(row.key)

    def work():
        barrier.wait()
        outbox.deliver_due(services, {"sms": slow_send})

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(sent) == sorted(f"m{i}" for i in range(60))
    assert len(outbox.listing(services, status="delivered", limit=100)) == 60
