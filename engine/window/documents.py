"""Issued documents (受理通知书, 告知书, 决定书 ...): kept as they were issued and sealed like certificates.

A document's content (engine.window.notices) is signed with the hall's Ed25519 key over its canonical JSON, so the
public verification page — and anyone holding the public key — can tell a genuine document from an altered one.
Its `document_issued` event records the content's SHA-256, so `onewindow audit verify` checks the stored text
too; a printed copy is rendered from the stored content (engine.printing), never composed again.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..clock import iso_utc, local_date
from ..db import Base, utcnow
from ..errors import NotFound
from .certificates import canonical, public_pem, verify_document
from .notices import KINDS, PREFIX


class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(120))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)        # canonical JSON, exactly the signed bytes
    sha256: Mapped[str] = mapped_column(String(64))   # of `content`, as the document_issued event records it
    signature: Mapped[str] = mapped_column(String(120))
    verify_code: Mapped[str] = mapped_column(String(16), unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def view(r: Document) -> dict:
    return {"number": r.number, "kind": r.kind, "key": r.key, "title": r.title, "case_id": r.case_id,
            "issued_at": iso_utc(r.issued_at), "verify_code": r.verify_code, "sha256": r.sha256,
            "content": json.loads(r.content), "signature": r.signature}


class Documents:
    """Issue (inside a case's transaction), find and verify documents."""

    def __init__(self, services, key):
        self.sv = services
        self.key = key
        self.public_key_pem = public_pem(key)

    def issue(self, s: Session, case, key: str, kind: str, content: dict, now: datetime) -> dict:
        row = Document(number=f"pending-{os.urandom(8).hex()}", kind=kind, key=key, case_id=case.id,
                       title=content.get("title") or KINDS[kind], content="", sha256="", signature="",
                       verify_code=os.urandom(6).hex(), issued_at=now)
        s.add(row)
        s.flush()  # the row id numbers the document: unique under concurrency
        number = f"{PREFIX[kind]}-{local_date(now):%Y%m%d}-{row.id:06d}"
        content = dict(content, number=number)
        text = canonical(content)
        signature = base64.b64encode(self.key.sign(text.encode("utf-8"))).decode()
        row.number, row.content, row.sha256, row.signature = number, text, content_hash(text), signature
        row.verify_code = base64.b32encode(hashlib.sha256(signature.encode()).digest()).decode()[:12]
        s.flush()
        return view(row)

    def for_case_in(self, s: Session, case_id: int) -> list[dict]:
        return [view(r) for r in s.scalars(select(Document).where(Document.case_id == case_id)
                                           .order_by(Document.id)).all()]

    def for_case(self, case_id: int) -> list[dict]:
        with self.sv.uow() as s:
            return self.for_case_in(s, case_id)

    def stored_for(self, s: Session, case_id: int) -> dict[str, str]:
        """number -> SHA-256 of the stored content, recomputed (what verify compares with the events)."""
        return {n: content_hash(c) for n, c in s.execute(select(Document.number, Document.content)
                                                         .where(Document.case_id == case_id)).all()}

    def find(self, s: Session, number_or_code: str) -> Document | None:
        return s.scalar(select(Document).where((Document.number == number_or_code)
                                               | (Document.verify_code == number_or_code)))

    def get(self, number_or_code: str) -> dict:
        with self.sv.uow() as s:
            row = self.find(s, number_or_code)
            if row is None:
                raise NotFound(f"no such document: {number_or_code}")
            return view(row)

    def verify(self, number_or_code: str) -> dict:
        """Whether the stored document still carries the hall's seal over exactly its content."""
        with self.sv.uow() as s:
            row = self.find(s, number_or_code)
            if row is None:
                raise NotFound(f"no such document: {number_or_code}")
            sealed = verify_document({"content": json.loads(row.content), "signature": row.signature},
                                     self.public_key_pem) and content_hash(row.content) == row.sha256
            return {"valid": sealed, "sealed": sealed, "status": "valid" if sealed else "altered",
                    "reason": "" if sealed else "印章校验失败（内容被篡改）", "document": view(row)}
