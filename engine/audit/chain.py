"""The hash chain of a case's events: each hash covers the event's content and the previous hash."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime


def canonical_payload(payload: dict) -> str:
    """The payload as stored and hashed: sorted keys, no whitespace, UTF-8."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, case_id: int, seq: int, at: datetime, type_: str, actor: str, group: str,
               task_id: str | None, element_id: str | None, payload_text: str) -> str:
    stamp = at.isoformat(timespec="microseconds") if at.tzinfo else at.isoformat(timespec="microseconds") + "+00:00"
    material = "\x1f".join([prev_hash, str(case_id), str(seq), stamp, type_, actor or "", group or "",
                            task_id or "", element_id or "", payload_text])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
