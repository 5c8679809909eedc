"""审管联动, outward: regulators subscribe to events (a certificate issued or revoked, a case completed); every
matching event is written to the outbox in the transaction that appends it (an observer of the service layer's
events), and `onewindow worker` posts it, signed, retried with back-off until the receiver answers 2xx.

What the receiver gets: a JSON body (UTF-8, keys sorted, no spaces) and the headers
`X-Onewindow-Signature: sha256=<hex HMAC-SHA256 of the raw body with the subscription's secret>`,
`Idempotency-Key` (the same for every attempt of one delivery, so a receiver drops a repeat) and
`X-Onewindow-Event`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import object_session

from ..clock import iso_utc
from ..db import OutboxMessage, WebhookSubscription
from ..errors import Forbidden, Invalid, NotFound
from ..messages import Message
from . import outbox

EVENTS = ("certificate_issued", "certificate_revoked", "case_completed")
HEADER = "X-Onewindow-Signature"
TIMEOUT = 10  # seconds a receiver has to answer


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for a body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of `body` with `secret` (compared in constant time)."""
    return bool(header) and hmac.compare_digest(sign(secret, body), header.strip())


def body_bytes(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def check_secret(secret: str) -> None:
    if not isinstance(secret, str) or len(secret.strip()) < 16:
        raise Invalid(Message("密钥至少 16 个字符", "the secret needs at least 16 characters"),
                      {"secret": Message("至少 16 个字符", "at least 16 characters")})


def subscribe(services, url: str, events: list[str], secret: str) -> dict:
    """Add a subscription; the URL must be http(s), the events among EVENTS."""
    parts = urlsplit(url or "")
    problems = {}
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
        problems["url"] = Message("应为 http(s) 地址", "must be an http(s) URL")
    unknown = [e for e in events if e not in EVENTS]
    if not events or unknown:
        problems["events"] = Message(f"可订阅的事件：{'、'.join(EVENTS)}", f"events: one or more of {', '.join(EVENTS)}")
    if problems:
        raise Invalid(Message("订阅有误", "the subscription is not valid"), problems)
    check_secret(secret)
    with services.uow() as s:
        row = WebhookSubscription(url=url, events=",".join(dict.fromkeys(events)), secret=secret, active=True,
                                  created_at=services.clock())
        s.add(row)
        s.flush()
        return _subscription_view(row, {})


def subscriptions(services) -> list[dict]:
    """Every subscription (never its secret), with how many deliveries are pending, delivered and failed."""
    with services.read() as s:
        rows = s.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)).all()
        counts: dict = {}
        for target, status, n in s.execute(select(OutboxMessage.target, OutboxMessage.status, func.count())
                                           .where(OutboxMessage.kind == "webhook")
                                           .group_by(OutboxMessage.target, OutboxMessage.status)).all():
            counts.setdefault(target, {})[status] = n
        return [_subscription_view(r, counts.get(r.url, {})) for r in rows]


def _subscription_view(r: WebhookSubscription, counts: dict) -> dict:
    return {"id": r.id, "url": r.url, "events": r.events.split(","), "active": r.active,
            "created_at": iso_utc(r.created_at),
            "deliveries": {k: counts.get(k, 0) for k in ("pending", "delivered", "failed")}}


def deliveries(services, actor, status: str | None = None, limit: int = 100) -> list[dict]:
    """Webhook deliveries, newest first: for administrators (the outbox also holds applicants' SMS codes)."""
    if actor is not None and not actor.is_admin and "system" not in actor.groups:
        raise Forbidden("仅系统管理员可查看推送记录 (administrators only)")
    if status is not None and status not in ("pending", "delivered", "failed"):
        raise Invalid("status: pending, delivered or failed", {"status": "不在可选值中 (not one of the allowed values)"})
    with services.read() as s:
        stmt = (select(OutboxMessage).where(OutboxMessage.kind == "webhook").order_by(OutboxMessage.id.desc())
                .limit(limit))
        if status:
            stmt = stmt.where(OutboxMessage.status == status)
        out = []
        for r in s.scalars(stmt).all():
            payload = json.loads(r.payload)
            body = payload.get("body") or {}
            out.append({"id": r.id, "url": r.target, "subscription": payload.get("subscription"),
                        "event": body.get("event", ""), "case": (body.get("case") or {}).get("number"),
                        "key": r.key, "status": r.status, "attempts": r.attempts, "last_error": r.last_error,
                        "created_at": iso_utc(r.created_at), "next_try_at": iso_utc(r.next_try_at),
                        "delivered_at": iso_utc(r.delivered_at)})
        return out


def observe(s, case, type_, payload, at, actor, group, task_id, element_id) -> None:
    """An event was appended: queue it for every subscription that wants it, in the same transaction."""
    if type_ not in EVENTS:
        return
    subs = s.scalars(select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
                     .order_by(WebhookSubscription.id)).all()
    seq = case.event_count
    for sub in subs:
        if type_ not in sub.events.split(","):
            continue
        body = {"event": type_, "at": iso_utc(at), "seq": seq, "actor": actor.username,
                "case": {"id": case.id, "number": case.number, "matter": case.process_id},
                "data": payload}
        outbox.enqueue(s, "webhook", sub.url, {"subscription": sub.id, "body": body},
                       key=f"webhook-{sub.id}-{case.id}-{seq}", case_id=case.id, now=at)


def post(row: OutboxMessage) -> None:
    """The webhook sender: POST the body, signed; anything but a 2xx raises (the outbox tries again later)."""
    payload = json.loads(row.payload)
    sub = object_session(row).get(WebhookSubscription, payload.get("subscription"))
    if sub is None:
        raise NotFound(f"subscription {payload.get('subscription')} no longer exists")
    body = body_bytes(payload["body"])
    request = urllib.request.Request(row.target, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", HEADER: sign(sub.secret, body),
        "Idempotency-Key": row.key, "X-Onewindow-Event": payload["body"].get("event", ""),
        "User-Agent": "onewindow-webhooks/1"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - http(s) checked at subscribe
            status = response.status
    except urllib.error.HTTPError as exc:
        raise ConnectionError(f"HTTP {exc.code} from {row.target}") from None
    if not 200 <= status < 300:
        raise ConnectionError(f"HTTP {status} from {row.target}")


def install(services) -> None:
    """Queue subscribed events with their action, and post them from the worker."""
    if observe not in services.observers:
        services.observers.append(observe)
    services.senders.setdefault("webhook", post)
