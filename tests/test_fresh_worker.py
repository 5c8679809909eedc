"""Every request served as if by another worker process: specs parsed afresh for each action.

gunicorn runs several workers, each with its own parsed specs, so the next step of a case is often taken by a
process that never saw the earlier ones. SpiffWorkflow wires a multi-instance to its instances' completion only in
the process that starts them; a case whose instances finished elsewhere stalled (`call_permits` STARTED for ever)
or lost their outputs, and `onewindow audit verify` failed on it."""
from __future__ import annotations

import pytest

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from engine.runtime.services import Services
from tests.test_catalogue_walk import hall, verify_all  # noqa: F401 - the fixture


@pytest.fixture
def fresh_specs(monkeypatch):
    built = []
    original = Services.spec_bundle

    def spec_bundle(self, s, version):
        self._specs.pop(version.id, None)
        bundle = original(self, s, version)
        built.append(bundle)
        return bundle

    monkeypatch.setattr(Services, "spec_bundle", spec_bundle)
    return built


@pytest.mark.parametrize("code", ["b_joint", "b_build", "b_start_up"])
def test_multi_instances_finish_in_another_process_than_they_started(hall, db_url, fresh_specs, code):  # noqa: F811
    case = hall.walk(hall.apply(code))
    assert case["status"] == "completed" and case["tasks"] == []
    assert all(m["status"] == "approved" for m in case["members"]), case["members"]
    assert len(fresh_specs) > 5  # the walk really used new specs again and again
    out = verify_all(db_url)
    assert " 0 failed" in out, out


def test_a_parsed_spec_is_wired_like_a_deserialized_one(services):
    from engine.model.catalogue import PROCESSES_DIR
    from engine.model.bpmn import build_specs

    files = {p.name: p.read_bytes() for p in PROCESSES_DIR.glob("*.bpmn")}
    files.update({p.name: p.read_bytes() for p in PROCESSES_DIR.glob("*.dmn")})
    bundle = build_specs(files, "b_joint")
    loops = [(proc, ts) for proc in (bundle.spec, *bundle.subprocess_specs.values())
             for ts in proc.task_specs.values() if isinstance(ts, LoopTask)]
    assert loops, "b_joint has a multi-instance call"
    for proc, ts in loops:
        assert proc.task_specs[ts.task_spec].completed_event.is_connected(ts.merge_child)
