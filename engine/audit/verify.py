"""Verifying a case: its hash chain first (edited, deleted, reordered events), then a replay of its
events compared with the stored state. Each check names the first bad event and why.

One query for a case's events and one for its task rows; specs come from the service's cache.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import select

from .chain import event_hash
from ..db import Case, Event, ProcessVersion
from ..runtime.services import find_case  # noqa: F401 - re-exported for the CLI
from .replay import ReplayError, compare, load_events, load_stored, replay, source_of, start_version


@dataclass
class Finding:
    """The verdict on one case; `kind` is ok, edited, deleted, reordered, replay or error (could not be checked)."""

    case_id: int
    number: str | None
    kind: str = "ok"
    seq: int | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    def line(self) -> str:
        where = f"event #{self.seq}" if self.seq is not None else "case"
        return f"{self.number or self.case_id}: {self.kind}: {where}: {self.detail}"


def row_hash(e: Event, prev_hash: str | None = None, seq: int | None = None) -> str:
    """The hash an event row should carry, recomputed from its contents."""
    return event_hash(e.prev_hash if prev_hash is None else prev_hash, e.case_id, e.seq if seq is None else seq,
                      e.at, e.type, e.actor, e.group_name, e.task_id, e.element_id, e.payload)


def _moved(e: Event, count: int) -> int | None:
    """The seq an event was written with, when only its seq was changed (renumbered or swapped)."""
    return next((q for q in range(1, count + 8) if q != e.seq and row_hash(e, seq=q) == e.hash), None)


def check_chain(case: Case, events: list[Event]) -> tuple[str, int | None, str] | None:
    """The first break in the chain as (kind, seq, why), or None when the chain is intact."""
    hashes = {e.hash: e for e in events}
    prev = ""
    for i, e in enumerate(events):
        expected = i + 1
        if e.seq != expected:
            if e.seq > expected:
                return "deleted", expected, f"event #{expected} is missing (next stored is #{e.seq})"
            return "reordered", e.seq, f"seq {e.seq} found where #{expected} was expected"
        self_ok = row_hash(e) == e.hash
        if e.prev_hash != prev:
            other = hashes.get(e.prev_hash)
            if other is not None and other is not e:
                return "reordered", e.seq, f"it chains after event #{other.seq}, not after #{e.seq - 1}"
            if not self_ok and _moved(e, len(events)) is None:
                return "edited", e.seq, "content does not match its hash"
            return "deleted", e.seq, "the event before it is missing (its prev_hash matches no stored event)"
        if not self_ok:
            moved = _moved(e, len(events))
            if moved is not None:
                return "reordered", e.seq, f"it was written as event #{moved}"
            return "edited", e.seq, "content does not match its hash"
        prev = e.hash
    if case.event_count != len(events):
        missing = len(events) + 1
        return "deleted", missing, f"the case records {case.event_count} events, {len(events)} are stored"
    if case.chain_head != prev:
        return "deleted", len(events) + 1 if events else 1, "the case's chain head is not the last stored event"
    return None


def verify_case(services, s, case: Case, replay_too: bool = True) -> Finding:
    """Verify one case inside an open session. Never raises: a case that cannot be loaded, replayed or compared
    is reported failed with the reason, so a run over many cases goes on."""
    f = Finding(case.id, case.number)
    try:
        return _verify(services, s, case, f, replay_too)
    except Exception as exc:  # noqa: BLE001 - the report says why; the next case is verified all the same
        f.kind, f.detail = "error", f"could not be verified: {type(exc).__name__}: {_short(str(exc))}"
        return f


def _verify(services, s, case: Case, f: Finding, replay_too: bool) -> Finding:
    events = load_events(s, case.id)
    broken = check_chain(case, events)
    if broken:
        f.kind, f.seq, f.detail = broken
        return f
    if not replay_too:
        return f
    if not events:
        f.kind, f.detail = "replay", "the case has no events"
        return f
    version = s.get(ProcessVersion, case.version_id)
    try:
        stored = load_stored(services, s, case, version)
    except Exception as exc:  # noqa: BLE001 - a corrupt row can fail in many ways
        f.kind, f.seq, f.detail = "replay", events[-1].seq, f"stored state is unreadable: {type(exc).__name__}: {exc}"
        return f
    # A quick replay first; only a case it does not reproduce is replayed faithfully, and that verdict stands.
    for faithful in (False, True):
        try:
            rp = replay(source_of(services, s), start_version(events, case.version_id), events, faithful=faithful)
        except ReplayError as exc:
            f.kind, f.seq, f.detail = "replay", exc.seq, f"replay differs: {exc.reason}"
            continue
        diff = compare(rp, stored, case.status, events[-1].seq) or _records_differ(services, s, case, rp,
                                                                                  events[-1].seq)
        if not diff:
            f.kind, f.seq, f.detail = "ok", None, ""
            return f
        f.kind, f.seq, f.detail = "replay", diff[0], f"replay differs: {diff[1]}"
    return f


def _records_differ(services, s, case: Case, rp, last_seq: int) -> tuple[int, str] | None:
    """What the rules keep outside the workflow: the case's certificates (issued, revoked) and its visits."""
    if services.rules is None:
        return None
    if rp.visits != case.visits:
        return last_seq, f"visits differ: replayed {rp.visits}, stored {case.visits}"
    stored = services.rules.certs.issued_for(s, case.id) if services.rules.certs is not None else {}
    if stored != rp.issued:
        return last_seq, f"certificates differ: replayed {_certs(rp.issued)}, stored {_certs(stored)}"
    docs = getattr(services.rules, "docs", None)
    if docs is not None:
        kept = docs.stored_for(s, case.id)
        for number in sorted(kept.keys() | rp.documents.keys()):
            if number not in kept:
                return last_seq, f"document {number} was issued by the events but is not stored"
            if number not in rp.documents:
                return last_seq, f"document {number} is stored but no event issued it"
            if kept[number] != rp.documents[number]:
                return last_seq, f"document {number} differs from what was issued (its content no longer hashes to " \
                                 "the recorded SHA-256)"
    files = getattr(services.rules, "files", None)
    if files is not None:
        for entry in (rp.wf.data.get("window") or {}).get("files") or []:
            problem = files.check(entry["sha256"])
            if problem:
                return last_seq, f"file {entry['sha256'][:12]}… ({entry.get('name') or entry.get('key')}) {problem}"
    return None


def _certs(issued: dict) -> str:
    return ", ".join(f"{m} {c['number']} {c['status']}" for m, c in sorted(issued.items())) or "none"


def _short(text: str, n: int = 200) -> str:
    return text if len(text) <= n else text[:n] + "…"


def case_ids(services) -> list[int]:
    with services.uow() as s:
        return list(s.scalars(select(Case.id).order_by(Case.id)).all())


def verify_parallel(services, ids: list[int], jobs: int, replay_too: bool = True) -> Iterator[Finding]:
    """Verify many cases with `jobs` forked worker processes; findings come back in the order of `ids`.

    The specs of every version the cases use are parsed once, here, and the workers inherit them; each worker
    drops the database connections it inherited (SQLAlchemy's advice for forked processes) and opens its own."""
    if jobs <= 1 or len(ids) < 2 * jobs:
        yield from verify_ids(services, ids, replay_too)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with services.uow() as s:
        for vid in s.scalars(select(ProcessVersion.id)).all():
            services.spec_bundle(s, services.version(s, vid))
    services.sessions.kw["bind"].dispose()
    size = max(1, min(200, len(ids) // (jobs * 4)))
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    _WORKER["services"] = services
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=_worker_init) as pool:
        for findings in pool.map(_worker_verify, chunks, [replay_too] * len(chunks)):
            yield from findings


_WORKER: dict = {}


def _worker_init() -> None:
    _WORKER["services"].sessions.kw["bind"].dispose(close=False)


def _worker_verify(ids: list[int], replay_too: bool) -> list[Finding]:
    return list(verify_ids(_WORKER["services"], ids, replay_too))


def verify_ids(services, ids: list[int], replay_too: bool = True) -> Iterator[Finding]:
    """Verify many cases, one short read-only transaction per case."""
    for cid in ids:
        try:
            with services.read() as s:
                case = s.get(Case, cid)
                finding = verify_case(services, s, case, replay_too) if case is not None else None
        except Exception as exc:  # noqa: BLE001 - e.g. the database dropped the connection: report, go on
            finding = Finding(cid, None, "error", None, f"could not be read: {type(exc).__name__}: {_short(str(exc))}")
        if finding is not None:
            yield finding
