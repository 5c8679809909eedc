"""The flows the benchmark runs, each two ways: bare SpiffWorkflow in memory, and through the service layer
on SQLite (every action one transaction that loads the case from the database)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from SpiffWorkflow.util.task import TaskState

from engine.model.bpmn import build_specs
from engine.model.catalogue import check
from engine.db import Base, make_engine, make_session_factory
from engine.model.deploy import deploy
from engine.runtime.hotsql import hot
from engine.model.sandbox import make_script_engine
from engine.runtime.services import Actor, Services

ROOT = Path(__file__).resolve().parent.parent
LOOP_FILE = ROOT / "bench" / "loop.bpmn"
APPLICANT = {"type": "company", "name": "示例科技有限公司", "credit_code": "91330206MA2XXXXX0X", "phone": "13800000000"}
REVIEW = {"decision": "approve", "opinion": "材料齐全，同意。"}
# The data each user task of the bundle is completed with (by bpmn id), the same in both runs.
BUNDLE_DATA = {"intake": {"accepted": True, "remark": "材料齐全"}, "review": REVIEW, "pickup": {"method": "window"}}
LOOP_LIMIT = 100_000  # never reached: the loop goes round as long as we keep completing
ACTOR = Actor("bench", frozenset({"admin", "front_desk", "loop"}))


def _files(paths) -> dict[str, bytes]:
    return {Path(p).name: Path(p).read_bytes() for p in paths}


def bundle_specs():
    return build_specs(_files(sorted((ROOT / "processes").glob("*.bpmn"))), "sample_bundle")


def loop_specs():
    return build_specs(_files([LOOP_FILE]), "bench_loop")


# ------------------------------------------------------------------ bare SpiffWorkflow
def bare_start(specs, start_data: dict):
    """What Services.start_case does to the workflow, minus the database."""
    wf = specs.new_workflow(make_script_engine())
    wf.data.update({"applicant": APPLICANT, "channel": "window"})
    for t in wf.get_tasks(state=TaskState.READY):
        t.data.update(start_data, applicant=APPLICANT, channel="window")
    wf.do_engine_steps()
    return wf


def bare_complete(wf, task, data: dict) -> None:
    """What Services.complete does to the workflow, minus the database."""
    task.data.update(data)
    task.data.setdefault("results", {}).setdefault(task.workflow.spec.name, {})[task.task_spec.bpmn_id] = dict(data)
    task.run()
    wf.do_engine_steps()


def bare_bundle_case(specs) -> None:
    wf = bare_start(specs, {})
    while ready := wf.get_tasks(state=TaskState.READY, manual=True):
        bare_complete(wf, ready[0], BUNDLE_DATA[ready[0].task_spec.bpmn_id])
    assert wf.is_completed()


def completed_count(wf) -> int:
    return sum(1 for t in wf.tasks.values() if t.state == TaskState.COMPLETED)


def loop_data(n: int) -> dict:
    return {"n": n}


# ------------------------------------------------------------------ persisted (service layer, SQLite)
class PersistedEnv:
    """A temp-file SQLite database with the catalogue and the loop deployed."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ow-bench-")
        self.engine = make_engine(f"sqlite:///{self.tmp.name}/bench.db")
        Base.metadata.create_all(self.engine)
        self.services = Services(make_session_factory(self.engine))
        with self.services.uow() as s:
            deploy(s, check([str(LOOP_FILE)]))

    def close(self) -> None:
        self.engine.dispose()
        self.tmp.cleanup()

    def bundle_case(self) -> None:
        sv = self.services
        view = sv.start_case(ACTOR, "sample_bundle", APPLICANT)
        while view["tasks"]:
            item = view["tasks"][0]
            view = sv.complete(ACTOR, item["id"], BUNDLE_DATA[item["element_id"]])
        assert view["status"] == "completed", view

    def finished_bundle_case(self) -> None:
        """A whole bundle case in ONE transaction (start, then each opened task in turn): the same events as
        bundle_case, several times faster to create (for the verify benchmark, which needs many)."""
        with self.services.new_case(ACTOR, "sample_bundle", APPLICANT) as tx:
            while items := hot(tx.s).query("select_case_items", {"k_case": tx.case.id}):
                tx.complete(ACTOR, items[0].id, BUNDLE_DATA[items[0].element_id])
        assert tx.result["status"] == "completed", tx.result

    def loop_case(self) -> dict:
        return self.services.start_case(ACTOR, "bench_loop", APPLICANT, {"limit": LOOP_LIMIT, "n": 0})

    def loop_step(self, view: dict, n: int) -> dict:
        return self.services.complete(ACTOR, view["tasks"][0]["id"], loop_data(n))
