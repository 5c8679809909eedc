"""审管联动, inward: what a regulator finds comes back signed and acts on the certificate it names.

A regulator is registered with a secret (`onewindow regulators add NAME --secret S`); it sends a finding with
`X-Regulator: NAME` and `X-Onewindow-Signature: sha256=<HMAC-SHA256 of the raw body>`. A `revoke` finding revokes
the certificate through the same audited act as a revocation by hand (Certificates.revoke: a `certificate_revoked`
event on the certificate's case, which replays), with the finding as the reason. The same finding sent again
(same regulator, same body) answers as the first time and changes nothing.
"""
from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db import Regulator, RegulatorFinding
from ..errors import Conflict, Invalid, Unauthorized
from ..messages import Message
from ..runtime.services import Actor
from ..runtime.webhooks import check_secret, signature_ok

ACTIONS = ("revoke",)


def add_regulator(services, name: str, secret: str) -> None:
    name = (name or "").strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise Invalid(Message("监管部门名称应为 1 到 64 个字符", "the name: 1 to 64 printable characters"),
                      {"name": Message("应为 1 到 64 个字符", "1 to 64 printable characters")})
    check_secret(secret)
    with services.uow() as s:
        if s.get(Regulator, name) is not None:
            raise Conflict(f"regulator {name} already exists")
        s.add(Regulator(name=name, secret=secret, created_at=services.clock()))


def regulators(services) -> list[dict]:
    with services.read() as s:
        return [{"name": r.name, "created_at": r.created_at.isoformat()}
                for r in s.scalars(select(Regulator).order_by(Regulator.name)).all()]


def authenticate(services, name: str | None, body: bytes, signature: str | None) -> str:
    """The regulator that signed this body, or Unauthorized (an unknown name and a wrong signature look alike)."""
    with services.read() as s:
        row = s.get(Regulator, name) if name and len(name) <= 64 else None
        secret = row.secret if row is not None else None
    if secret is None or not signature_ok(secret, body, signature):
        raise Unauthorized("签名无效 (missing or wrong X-Regulator / X-Onewindow-Signature)")
    return name


def receive(services, regulator: str, body: bytes, certificate: str, finding: str, action: str) -> dict:
    """Act on an authenticated finding; {certificate, case, action, status, replayed}."""
    if action not in ACTIONS:
        raise Invalid(f"action: one of {', '.join(ACTIONS)}", {"action": "不在可选值中 (not one of the allowed values)"})
    if not str(finding or "").strip():
        raise Invalid("a finding needs its text", {"finding": "必填 (required)"})
    digest = hashlib.sha256(body).hexdigest()
    earlier = _earlier(services, regulator, digest)
    if earlier is not None:
        return earlier
    certs = services.rules.certs
    actor = Actor(f"regulator:{regulator}"[:64], frozenset({"regulator"}))
    reason = f"监管发现（{regulator}）：{finding}"[:500]

    def record(s, row):
        s.add(RegulatorFinding(regulator=regulator, digest=digest, certificate=row.number, action=action,
                               finding=finding, case_id=row.case_id, received_at=services.clock()))
        s.flush()

    try:
        view = certs.revoke(actor, certificate, reason, extra={"regulator": regulator, "finding": finding},
                            record=record)
    except (Conflict, IntegrityError):
        earlier = _earlier(services, regulator, digest)  # the same finding raced in: its answer stands
        if earlier is None:
            raise
        return earlier
    return {"certificate": view["number"], "case": view["case_id"], "action": action, "status": view["status"],
            "replayed": False}


def _earlier(services, regulator: str, digest: str) -> dict | None:
    with services.read() as s:
        row = s.scalar(select(RegulatorFinding).where(RegulatorFinding.regulator == regulator,
                                                      RegulatorFinding.digest == digest))
        if row is None:
            return None
        return {"certificate": row.certificate, "case": row.case_id, "action": row.action, "status": "revoked",
                "replayed": True}
