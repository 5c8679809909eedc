"""Who may read a case's papers (its files and documents): the service layer's rule (engine.runtime.access), asked
with the case's row, so a page or the API never decides it on its own."""
from __future__ import annotations

from engine.db import Case
from engine.errors import NotFound
from engine.runtime.access import check_read


def check_read_case(services, actor, case_id: int) -> None:
    """NotFound (404) when there is no such case or `actor` may not read it."""
    with services.uow() as s:
        case = s.get(Case, case_id)
        if case is None:
            raise NotFound(f"no such case: {case_id}")
        check_read(s, actor, case)
