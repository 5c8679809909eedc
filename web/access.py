"""Who may read a case (its page, its files, its documents). One function, so the rule has one home: today every
signed-in user of the hall may read every case (as the case page always allowed); the service layer's
authorization (issue 10) replaces the body of `may_read_case`, and every reader below follows."""
from __future__ import annotations

from engine.errors import Forbidden


def may_read_case(services, actor, case_id: int) -> bool:
    return actor is not None


def check_read_case(services, actor, case_id: int) -> None:
    if not may_read_case(services, actor, case_id):
        raise Forbidden("无权查看该办件 (you may not read this case)")
