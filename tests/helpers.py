"""Small helpers shared by scenario tests."""
from __future__ import annotations

from pathlib import Path

from engine.model.catalogue import FORMS_DIR, check
from engine.model.deploy import deploy


def deploy_files(services, directory: Path, forms_dir: Path = FORMS_DIR):
    """Check and deploy an extra directory of processes (for tests that need their own diagrams)."""
    result = check(processes_dir=directory, forms_dir=forms_dir)
    assert result.ok, "\n".join(map(str, result.problems))
    with services.uow() as s:
        return deploy(s, result)


def task_named(case: dict, name: str) -> dict:
    matches = [t for t in case["tasks"] if t["name"] == name or t["element_id"] == name]
    assert matches, f"no open task {name}; open: {[t['name'] for t in case['tasks']]}"
    return matches[0]
