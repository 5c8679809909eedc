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
from engine.model.forms import choices
from engine.runtime.hotsql import hot
from engine.model.sandbox import make_script_engine
from engine.runtime.services import Actor, Services
from engine.supervision.clocks import install as install_limits
from engine.window.rules import install
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parent.parent
LOOP_FILE = ROOT / "bench" / "loop.bpmn"
APPLICANT = {"type": "company", "name": "示例科技有限公司", "credit_code": "91330206MA2XXXXX04", "phone": "13800000000"}
REVIEW = {"decision": "approve", "opinion": "材料齐全，同意。"}
# The data each user task of the bundle is completed with (by bpmn id), the same in both runs.
RECIPIENT = {"name": "王五", "id_number": "330206198505050022", "phone": "13900000000"}  # who takes the results
BUNDLE_DATA = {"intake": {"accepted": True, "remark": "材料齐全"}, "review": REVIEW,
               "pickup": {"method": "window", "recipient": RECIPIENT}}
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
    """A temp-file SQLite database with the catalogue and the loop deployed, and the window's rules installed
    (the sample bundle's tasks declare them, as the real catalogue's do)."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ow-bench-")
        self.engine = make_engine(f"sqlite:///{self.tmp.name}/bench.db")
        Base.metadata.create_all(self.engine)
        self.services = Services(make_session_factory(self.engine))
        install(self.services, Ed25519PrivateKey.generate())
        install_limits(self.services)  # the clocks are kept at every action, as in production
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

    def catalogue_case(self, recipe: dict) -> None:
        """A whole case of the real catalogue, as a hall works it: the window accepts (start and verdict in one
        transaction), then every task is worked by its rule in a transaction of its own (each review level by a
        different person), the decisions following the recipe."""
        sv = self.services
        view = sv.start_case(ACTOR, recipe["process_id"], recipe["applicant"], recipe["data"],
                             intake={"accepted": True, "materials": recipe["materials"]})
        for _ in range(80):
            if not view["tasks"]:
                break
            item = view["tasks"][0]
            actor = Actor(f"bench_{item['group']}", frozenset({"admin", item["group"]}))
            view = sv.complete(actor, item["id"], step_data(item, recipe))
        assert view["status"] == "completed", (recipe["process_id"], view["tasks"])

    def loop_case(self) -> dict:
        return self.services.start_case(ACTOR, "bench_loop", APPLICANT, {"limit": LOOP_LIMIT, "n": 0})

    def loop_step(self, view: dict, n: int) -> dict:
        return self.services.complete(ACTOR, view["tasks"][0]["id"], loop_data(n))


# ------------------------------------------------------------------ the real catalogue (for verify throughput)
PERSON = {"type": "person", "name": "王五", "id_number": "330206198505050022", "phone": "13900000000"}
KNOWN = {"address": "梅山街道1号", "contact_name": "李四", "id_number": "330206199001010013",
         "property_address": "梅山花园3幢101室",
         "project_code": "2026-330206-47-01-000001", "project_name": "梅山综合楼", "baby_name": "赵小宝"}


def _value(name: str, prop: dict):
    if name in KNOWN:
        return KNOWN[name]
    if prop.get("type") == "array":  # every choice (oneOf of {const, title}, or an enum)
        return [v for v, _ in choices(prop.get("items"))] or ["示例"]
    if choices(prop):
        return choices(prop)[0][0]
    return {"integer": 24, "number": 50.0, "boolean": True}.get(prop.get("type"), "示例")


def catalogue_recipes() -> list[dict]:
    """One recipe per matter and bundle of the catalogue applied for at a window (everything handed in, every
    member approved), plus a refused variant of each bundle (its first member rejected)."""
    import json

    result = check()
    recipes = []
    for pid, info in sorted(result.processes.items()):
        if not pid.startswith(("m_", "b_")) or pid == "m_unemp_benefit":
            continue
        form = json.loads(result.forms[info.start_form]) if info.start_form else {}
        data = {k: _value(k, p) for k, p in (form.get("properties") or {}).items()}
        from engine.model.guide import guide_from_bpmn

        guide = guide_from_bpmn(result.files[info.file], pid)
        person = "contact_name" not in data  # a company's forms name its contact; the applicant block the rest
        recipe = {"process_id": pid, "applicant": PERSON if person else APPLICANT, "data": data,
                  "materials": {m["id"]: "provided" for m in guide.get("materials") or []}, "reject": set()}
        recipes.append(recipe)
        if pid.startswith("b_"):
            recipes.append(dict(recipe, reject={(guide.get("members") or [""])[0]}))
    return recipes


def step_data(item: dict, recipe: dict) -> dict:
    """What a clerk submits on a task, by the rule it follows."""
    rule = item["rule"]
    member = item["process_id"].removeprefix("rv_").removeprefix("m_")
    if rule == "review":
        return {"decision": "reject" if member in recipe["reject"] else "approve", "opinion": "审查意见"}
    if rule == "inspection":
        return {"passed": True, "findings": "现场符合要求"}
    if rule == "on_spot":
        return {"decision": "approve", "opinion": "当场办结"}
    if rule == "pickup":
        return {"method": "window", "recipient": RECIPIENT}
    if rule == "supply":
        return {"supplied": list(recipe["materials"])}
    raise AssertionError(f"no data for rule {rule}")
