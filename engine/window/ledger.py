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
    pickup:      {method, tracking_no, by}
"""
from __future__ import annotations

KEY = "window"


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
