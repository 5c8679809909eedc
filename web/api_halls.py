"""/api/v1 for halls: 首接负责 and 转办 (hand a case to another authority, acknowledge a hand-over, list those
waiting) and the public 负面清单. Declared with web/api.py's `operation`; who may do what is decided in
engine.runtime.transfers."""
from __future__ import annotations

from flask import g

from engine import readmodels
from engine.runtime.transfers import Transfers

from . import apimodels as M
from .api import _case_json, _send, operation
from .auth import services


@operation("POST", "/cases/{case_id}/transfer", "转办: hand a mis-routed case (its open department tasks) to another "
           "authority with a reason; the receiving hall must acknowledge it within a working day", M.Case,
           body=M.TransferBody, errors=(401, 403, 404, 409, 422))
def transfer_case(case_id: int, body: M.TransferBody):
    case = Transfers(services()).transfer(g.api_actor, case_id, body.to, body.reason, body.department)
    return _send(M.Case, _case_json(case))


@operation("POST", "/cases/{case_id}/transfer/acknowledge", "The receiving authority acknowledges a 转办", M.Case,
           errors=(401, 403, 404, 409))
def acknowledge_transfer(case_id: int):
    return _send(M.Case, _case_json(Transfers(services()).acknowledge(g.api_actor, case_id)))


@operation("GET", "/transfers", "Hand-overs not yet acknowledged in the caller's halls, the most overdue first",
           list[M.PendingTransfer], errors=(401,))
def pending_transfers():
    sv = services()
    return _send(list[M.PendingTransfer], Transfers(sv).pending(g.api_actor, sv.clock()))


@operation("GET", "/negative-list", "负面清单: the matters that need more than one visit, each with the reason (public)",
           list[M.NegativeListEntry], public=True, errors=())
def negative_list():
    return _send(list[M.NegativeListEntry], readmodels.negative_list(services()))
