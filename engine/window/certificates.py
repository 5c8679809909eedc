"""Electronic certificates (电子证照) with an electronic seal (电子印章).

The seal is an Ed25519 signature over the certificate's canonical JSON, so anyone holding the public key can
check a certificate offline, without our database; the database adds what a signature cannot say: whether it
was revoked since. A short verification code (核验码) lets a counterpart look it up by hand.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..clock import iso_utc, local_date
from ..db import ROOT, Base, Case, utcnow
from ..errors import Conflict, Invalid, NotFound
from ..messages import Message
from ..runtime import access


class Certificate(Base):
    __tablename__ = "certificates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    cert_type: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    holder_key: Mapped[str] = mapped_column(String(100), index=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    matter: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="valid")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoke_reason: Mapped[str] = mapped_column(String(500), default="")
    content: Mapped[str] = mapped_column(Text)      # canonical JSON, exactly the signed bytes
    signature: Mapped[str] = mapped_column(String(120))  # base64 Ed25519 signature
    verify_code: Mapped[str] = mapped_column(String(16), unique=True)


def canonical(content: dict) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def holder_key(applicant: dict) -> str:
    """Who a certificate belongs to: the credit code of a business, the ID number of a person, else the name."""
    return str(applicant.get("credit_code") or applicant.get("id_number") or applicant.get("name") or "")


def load_seal_key(path: str | Path | None = None) -> Ed25519PrivateKey:
    """The hall's sealing key (PEM); generated once under var/ when none exists (a real hall uses an HSM).

    Several server processes may start at once: the key file is created exclusively, and whoever loses
    the race loads the winner's key, so every process seals with the same key."""
    path = Path(path or os.environ.get("ONEWINDOW_SEAL_KEY") or ROOT / "var" / "seal_ed25519.pem")
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(pem)
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic, and fails if another process created the key first
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    for _ in range(50):  # the winner's file is complete once linked; retry only a torn read on odd filesystems
        try:
            return serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError:
            time.sleep(0.02)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def public_pem(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def verify_document(document: dict, public_key_pem: str) -> bool:
    """Offline check of an exported certificate {content, signature} against the published public key."""
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise Invalid("not an Ed25519 public key")
    try:
        key.verify(base64.b64decode(document["signature"]), canonical(document["content"]).encode("utf-8"))
        return True
    except (InvalidSignature, KeyError, ValueError):
        return False


class Certificates:
    """Issue, look up, verify and revoke certificates, on top of the service layer's transactions."""

    def __init__(self, services, key: Ed25519PrivateKey | None = None):
        self.sv = services
        self.key = key or load_seal_key()
        self.public_key_pem = public_pem(self.key)

    def issue(self, s: Session, case: Case, matter: str, cert: dict, applicant: dict, extra: dict | None = None) -> dict:
        """Issue inside the caller's transaction (so a case step and its certificate commit together)."""
        now = self.sv.clock()
        years = cert.get("valid_years")
        until = now.replace(year=now.year + years) if years else None
        row = Certificate(number=f"pending-{os.urandom(8).hex()}", cert_type=cert["type"], name=cert["name"],
                          holder_key=holder_key(applicant), holder_name=applicant.get("name", ""), matter=matter,
                          case_id=case.id, issued_at=now, valid_until=until, content="", signature="",
                          verify_code=os.urandom(6).hex())
        s.add(row)
        s.flush()  # the row id numbers the certificate: unique under concurrency, no counter to race on
        number = f"{cert['type'].upper()[:12]}-{local_date(now):%Y%m%d}-{row.id:06d}"
        content = {"number": number, "type": cert["type"], "name": cert["name"], "matter": matter,
                   "holder": {"key": holder_key(applicant), "name": applicant.get("name", "")},
                   "case": case.number, "issued": local_date(now).isoformat(),
                   "valid_until": local_date(until).isoformat() if until else None, "data": extra or {},
                   "issuer": "政务服务中心"}
        signature = base64.b64encode(self.key.sign(canonical(content).encode("utf-8"))).decode()
        code = base64.b32encode(hashlib.sha256(signature.encode()).digest()).decode()[:12]
        row.number, row.content, row.signature, row.verify_code = number, canonical(content), signature, code
        s.flush()
        return _view(row)

    def get(self, number_or_code: str) -> dict:
        with self.sv.uow() as s:
            return _view(self._find(s, number_or_code))

    def verify(self, number_or_code: str) -> dict:
        """Seal intact AND not revoked AND not expired; says which failed."""
        with self.sv.uow() as s:
            row = self._find(s, number_or_code)
            sealed = verify_document({"content": json.loads(row.content), "signature": row.signature},
                                     self.public_key_pem)
            expired = row.valid_until is not None and _aware(row.valid_until) < self.sv.clock()
            reason = ("印章校验失败（内容被篡改）" if not sealed else "证照已注销" if row.status == "revoked"
                      else "证照已过期" if expired else "")
            return {"valid": not reason, "reason": reason, "sealed": sealed, "status": row.status,
                    "certificate": _view(row)}

    def revoke(self, actor, number: str, reason: str, extra: dict | None = None, record=None) -> dict:
        """Revoke by hand (e.g. a court ruling) or on a regulator's finding: one audited act on the certificate's
        case. `extra` joins the event's payload; `record(session, row)` writes more in the same transaction."""
        access.check_revoke(actor)
        if not str(reason or "").strip():
            raise Invalid("a revocation needs a reason", {"reason": Message("必填", "required")})
        with self.sv.uow() as s:
            case_id = self._find(s, number).case_id
        if case_id is None:
            with self.sv.uow() as s:
                row = self._find(s, number)
                self._check_revocable(row, number)
                row.status, row.revoked_at, row.revoke_reason = "revoked", self.sv.clock(), reason
                if record is not None:
                    record(s, row)
                return _view(row)
        with self.sv.case_action(case_id) as tx:  # the revocation and its audit event commit together
            row = self._find(tx.s, number)
            self._check_revocable(row, number)
            row.status, row.revoked_at, row.revoke_reason = "revoked", tx.now, reason
            if record is not None:
                record(tx.s, row)
            tx.append(actor, "certificate_revoked", dict(extra or {}, number=row.number, matter=row.matter,
                                                         reason=reason, manual=True))
            return _view(row)

    @staticmethod
    def _check_revocable(row, number: str) -> None:
        if row.status == "revoked":
            raise Conflict(f"certificate {number} is already revoked")

    def revoke_number(self, s: Session, number: str, reason: str, now) -> None:
        """Revoke inside a case's own transaction (the rules found a false commitment)."""
        row = self._find(s, number)
        row.status, row.revoked_at, row.revoke_reason = "revoked", now, reason

    def issued_for(self, s: Session, case_id: int) -> dict[str, dict]:
        """member -> {number, status} of the certificates issued on a case (what the rules compare against)."""
        rows = s.execute(select(Certificate.matter, Certificate.number, Certificate.status)
                         .where(Certificate.case_id == case_id).order_by(Certificate.id)).all()
        return {m: {"number": n, "status": st} for m, n, st in rows}

    def for_case_in(self, s: Session, case_id: int) -> list[dict]:
        return [_view(r) for r in s.scalars(select(Certificate).where(Certificate.case_id == case_id)
                                            .order_by(Certificate.id)).all()]

    def valid_for(self, s: Session, holder: str) -> list[Certificate]:
        now = self.sv.clock()
        rows = s.scalars(select(Certificate).where(Certificate.holder_key == holder, Certificate.status == "valid")).all()
        return [r for r in rows if r.valid_until is None or _aware(r.valid_until) >= now]

    def for_case(self, case_id: int) -> list[dict]:
        with self.sv.uow() as s:
            return self.for_case_in(s, case_id)

    def _find(self, s: Session, number_or_code: str) -> Certificate:
        row = s.scalar(select(Certificate).where((Certificate.number == number_or_code)
                                                 | (Certificate.verify_code == number_or_code)))
        if row is None:
            raise NotFound(f"no such certificate: {number_or_code}")
        return row


def _aware(dt: datetime) -> datetime:
    from datetime import timezone
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _view(r: Certificate) -> dict:
    return {"number": r.number, "type": r.cert_type, "name": r.name, "holder": r.holder_name, "holder_key": r.holder_key,
            "matter": r.matter, "case_id": r.case_id, "status": r.status, "verify_code": r.verify_code,
            "issued_at": iso_utc(r.issued_at), "valid_until": iso_utc(r.valid_until),
            "revoke_reason": r.revoke_reason, "content": json.loads(r.content), "signature": r.signature}
