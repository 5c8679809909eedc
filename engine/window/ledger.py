"""The window's record of a case (the ledger): what the rules decided, kept in the top workflow's data.

Why there and not in task data: task data forks at every split and is merged (lossily for plain keys) at joins,
while the window needs one record per case — the intake's verdict on each material, every member's decision at
each review level and who took it, 补正 requests, inspections, the post-approval check, the pickup. The top
workflow's data is saved with the case head at every step (no task walk to read it), and a replay rebuilds it by
running the same rules on the same events. Only rules write it, and always by rebuilding, never mutating: the
dicts may be shared with the state a save compares against.

Shape (every key optional):
    intake:      {accepted, kind, materials {id: status}, sources {id: source}, owed [ids], missing [names],
                  commitment, reason, remark, by}
    supplied:    [material ids brought later (补齐)]
    members:     {member: {decision, opinion, source, level, by,
                           levels {"1": {decision, opinion, by}}, corrections [{requested, by, answered}]}}
    inspections: {element id: {passed, findings, by, members}}
    post_check:  {result, remark, by}
    pickup:      {method, tracking_no, by, recipient {name, id_number, phone, proxy, principal}, address, handed}
    files:       [{key, sha256, name, size, content_type, step, by, member}]: material files handed in, in order
                 (key: the material id, or the item of a 补正 request); only hashes come from the submission
    edition:     the edition of the rules the case was taken under (absent: 1)
    documents:   {key: number} of the documents issued (receipt, notice, refusal, correction:<m>:<n>, decision:<m>)
"""
from __future__ import annotations

KEY = "window"
# The edition of the window rules a case was taken under, recorded with the intake's lookup (so a replay reads it
# from the events). Edition 2 issues documents and records the pickup's recipient and hand-over list; a case taken
# under edition 1 (no `edition` in its ledger) replays as it ran.
EDITION = 2


def read(wf) -> dict:
    return wf.data.get(KEY) or {}


def write(wf, **changes) -> dict:
    """Replace top-level entries of the ledger; returns the new ledger."""
    ledger = dict(read(wf), **changes)
    wf.data[KEY] = ledger
    return ledger


def member(ledger: dict, mid: str) -> dict:
    return (ledger.get("members") or {}).get(mid) or {}


def set_member(wf, mid: str, **changes) -> dict:
    ledger = read(wf)
    members = dict(ledger.get("members") or {})
    members[mid] = dict(members.get(mid) or {}, **changes)
    write(wf, members=members)
    return members[mid]


def add_files(wf, step: str, refs: dict, meta: dict, by: str, member: str | None = None) -> None:
    """Record the files a submission handed in (refs: key -> [sha256]; meta: sha256 -> {name, size, content_type}
    as looked up when it was submitted). Nothing is written when there are none."""
    if not refs:
        return
    entries = list(read(wf).get("files") or [])
    for key, hashes in refs.items():
        for h in hashes:
            entry = {"key": key, "sha256": h, "step": step, "by": by, **(meta.get(h) or {})}
            if member:
                entry["member"] = member
            entries.append(entry)
    write(wf, files=entries)


def note_document(wf, key: str, number: str) -> None:
    """Note an issued document (at run time, and in a replay from its event)."""
    write(wf, documents=dict(read(wf).get("documents") or {}, **{key: number}))


def files_of(ledger: dict, key: str | None = None) -> list[dict]:
    return [f for f in ledger.get("files") or [] if key is None or f.get("key") == key]


def owed(ledger: dict) -> list[str]:
    """Deferred (容缺) materials not yet supplied, in the order the intake listed them."""
    supplied = set(ledger.get("supplied") or [])
    return [m for m in (ledger.get("intake") or {}).get("owed") or [] if m not in supplied]


def decided(ledger: dict, mid: str) -> str | None:
    """A member's final decision: 'approve', 'reject' or None while it is open."""
    return member(ledger, mid).get("decision")


def visits(channel: str, ledger: dict) -> int:
    """最多跑一次: trips to the hall — applying at a window, and collecting the result at a window."""
    return (1 if channel == "window" else 0) + (1 if (ledger.get("pickup") or {}).get("method") == "window" else 0)
