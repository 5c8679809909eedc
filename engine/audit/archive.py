"""The e-archive (电子归档) of a finished case: one zip holding every event, document, certificate and material file,
and a manifest naming each entry with its SHA-256, so the archive can be checked without this system.

    manifest.json            what is inside, with hashes; the case, its chain head, and the verdict of
                             `audit verify` when the archive was made
    events.json              every event with every hashed column (recompute the chain with engine.audit.chain)
    documents/<number>.json  a document's content and Ed25519 signature (check with public_key.pem)
    documents/<number>.pdf   the document as printed
    certificates/<number>.json, .pdf   likewise for each e-certificate
    files/<sha256>.<ext>     each material file, named by the hash the case's events record
    public_key.pem           the hall's sealing key
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import datetime, timezone

from ..clock import iso_utc
from ..errors import Conflict, NotFound
from ..files.kinds import extension
from ..printing.sheet import certificate_sheet, render
from ..window import ledger as L
from .replay import load_events
from .verify import find_case, verify_case

FORMAT = "onewindow-archive/1"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _event(e) -> dict:
    return {"seq": e.seq, "at": iso_utc(e.at), "type": e.type, "actor": e.actor, "group": e.group_name,
            "task_id": e.task_id, "element_id": e.element_id, "payload": e.payload, "prev_hash": e.prev_hash,
            "hash": e.hash}


def build_archive(services, ref, base_url: str, now: datetime | None = None) -> tuple[bytes, dict]:
    """(zip bytes, manifest) of a finished case named by id or number; Conflict while it is still running."""
    rules = services.rules
    with services.read() as s:
        case = find_case(s, ref)
        if case is None:
            raise NotFound(f"no such case: {ref}")
        if case.status != "completed":
            raise Conflict(f"只有办结的办件可以归档 (case {case.number} is {case.status}; only a finished case is archived)")
        events = load_events(s, case.id)
        finding = verify_case(services, s, case)
        info = {"id": case.id, "number": case.number, "process_id": case.process_id, "title": case.title,
                "version_id": case.version_id, "applicant": json.loads(case.applicant), "channel": case.channel,
                "created_at": iso_utc(case.created_at), "closed_at": iso_utc(case.closed_at),
                "chain_head": case.chain_head, "event_count": case.event_count}
        case_id = case.id
    docs = rules.docs.for_case(case_id) if rules is not None and rules.docs is not None else []
    certs = rules.certs.for_case(case_id) if rules is not None and rules.certs is not None else []
    with services.case_view_tx(case_id) as tx:
        files = L.files_of(L.read(tx.wf))
    entries: list[dict] = []
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        def put(path: str, data: bytes, kind: str, **extra) -> None:
            z.writestr(path, data)
            entries.append({"path": path, "kind": kind, "sha256": _sha(data), "size": len(data), **extra})

        put("events.json", json.dumps([_event(e) for e in events], ensure_ascii=False, indent=1).encode(), "events",
            count=len(events))
        for d in docs:
            url = f"{base_url.rstrip('/')}/verify/{d['number']}"
            record = {"number": d["number"], "kind": d["kind"], "title": d["title"], "content": d["content"],
                      "signature": d["signature"], "content_sha256": d["sha256"], "issued_at": d["issued_at"]}
            put(f"documents/{d['number']}.json", json.dumps(record, ensure_ascii=False, indent=1).encode(),
                "document", number=d["number"], title=d["title"], content_sha256=d["sha256"])
            put(f"documents/{d['number']}.pdf", render(dict(d["content"], code=d["verify_code"]), url), "document-pdf",
                number=d["number"])
        for c in certs:
            url = f"{base_url.rstrip('/')}/verify/{c['number']}"
            record = {k: c[k] for k in ("number", "type", "name", "status", "issued_at", "valid_until",
                                        "revoke_reason", "content", "signature")}
            put(f"certificates/{c['number']}.json", json.dumps(record, ensure_ascii=False, indent=1).encode(),
                "certificate", number=c["number"], status=c["status"])
            put(f"certificates/{c['number']}.pdf", render(certificate_sheet(c), url), "certificate-pdf",
                number=c["number"])
        seen = set()
        for f in files:
            if f["sha256"] in seen:
                continue
            seen.add(f["sha256"])
            data = rules.files.read(f["sha256"])
            path = f"files/{f['sha256']}.{extension(f.get('content_type') or '')}"
            put(path, data, "file", material=f.get("key"), name=f.get("name"), step=f.get("step"),
                recorded_sha256=f["sha256"], intact=_sha(data) == f["sha256"])
        if rules is not None and rules.certs is not None:
            put("public_key.pem", rules.certs.public_key_pem.encode(), "key")
        manifest = {"format": FORMAT, "exported_at": iso_utc(now or datetime.now(timezone.utc)), "case": info,
                    "verified": {"ok": finding.ok, "kind": finding.kind, "seq": finding.seq, "detail": finding.detail},
                    "entries": entries,
                    "events": [{"seq": e.seq, "type": e.type, "hash": e.hash, "prev_hash": e.prev_hash} for e in events]}
        z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return buf.getvalue(), manifest
