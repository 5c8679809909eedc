"""Who may see supervision figures and act as a supervisor (督办): decided here, not by the pages that ask."""
from __future__ import annotations

from ..errors import Forbidden
from ..messages import Message

SUPERVISORS = frozenset({"supervisor", "admin"})


def may_supervise(actor) -> bool:
    """电子监察 is for the supervision office (group `supervisor`) and administrators."""
    return actor is not None and bool(SUPERVISORS & set(actor.groups))


def require_supervisor(actor) -> None:
    if not may_supervise(actor):
        raise Forbidden(Message("电子监察仅对督办人员开放", "electronic supervision is for supervisors only"))
