"""The outbox: messages that leave the system (SMS, e-mail, in-app notices, webhooks to regulators) are written in
the same transaction as the event that causes them — so none is lost when the action commits and none is sent
when it rolls back — and delivered afterwards by `onewindow worker`, with retries and an idempotency key the
receiver can use to drop a duplicate.

Senders are plain callables by kind (`sms`, `email`, `inapp`, `webhook`, ...): `sender(row) -> None`, raising to
say the delivery failed. Without a sender for its kind a message is delivered to the log sender, which only
records it (the demo reads codes with `onewindow outbox list --to PHONE`).
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import select


from ..db import OutboxMessage

log = logging.getLogger("onewindow.outbox")
BACKOFF = (10, 60, 300, 1800, 3600)  # seconds between attempts
MAX_ATTEMPTS = 8


def enqueue(s, kind: str, target: str, payload: dict, key: str, case_id: int | None = None,
            now: datetime | None = None) -> OutboxMessage:
    """Add a message inside the caller's transaction; `key` makes it unique (the same key twice is one message)."""
    now = now or datetime.now(timezone.utc)
    existing = s.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
    if existing is not None:
        return existing
    row = OutboxMessage(kind=kind, target=target, payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
                        key=key, case_id=case_id, status="pending", attempts=0, next_try_at=now, created_at=now,
                        last_error="")
    s.add(row)
    s.flush()
    return row


def log_sender(row: OutboxMessage) -> None:
    """The default: record the message in the log (and the outbox row itself says it was delivered)."""
    log.info("%s to %s: %s", row.kind, row.target, row.payload)


def deliver_due(services, senders: dict | None = None, now: datetime | None = None, limit: int = 100) -> int:
    """Deliver pending messages that are due, each in a transaction of its own; returns how many were delivered.
    On PostgreSQL a row is locked (SKIP LOCKED) while it is sent, so several workers never send it twice."""
    now = now or datetime.now(timezone.utc)
    senders = {**getattr(services, "senders", {}), **(senders or {})}
    with services.read() as s:
        ids = s.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "pending",
                                                       OutboxMessage.next_try_at <= now)
                        .order_by(OutboxMessage.id).limit(limit)).all()
    delivered = 0
    for mid in ids:
        with services.uow() as s:
            stmt = select(OutboxMessage).where(OutboxMessage.id == mid, OutboxMessage.status == "pending")
            if s.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            row = s.scalar(stmt)
            if row is None:
                continue  # another worker has it, or it went out meanwhile
            try:
                senders.get(row.kind, log_sender)(row)
            except Exception as exc:  # noqa: BLE001 - any failure of the receiver: try again later
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if row.attempts >= MAX_ATTEMPTS:
                    row.status = "failed"
                else:
                    row.next_try_at = now + timedelta(seconds=BACKOFF[min(row.attempts, len(BACKOFF)) - 1])
                continue
            row.attempts += 1
            row.status, row.delivered_at, row.last_error = "delivered", now, ""
            delivered += 1
    return delivered


def listing(services, target: str | None = None, status: str | None = None, limit: int = 50) -> list[dict]:
    """Messages, newest first (for `onewindow outbox list` and administrators)."""
    with services.read() as s:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
        if target:
            stmt = stmt.where(OutboxMessage.target == target)
        if status:
            stmt = stmt.where(OutboxMessage.status == status)
        rows = s.scalars(stmt).all()
        return [{"id": r.id, "kind": r.kind, "target": r.target, "payload": json.loads(r.payload), "key": r.key,
                 "case_id": r.case_id, "status": r.status, "attempts": r.attempts, "last_error": r.last_error,
                 "created_at": r.created_at.isoformat(),
                 "delivered_at": r.delivered_at.isoformat() if r.delivered_at else None} for r in rows]



