"""engine.runtime.store: after every step of random walks through the sample processes and the benchmark loop, the
workflow restored from the stored rows (by our fast restore AND by the library's own converters) serializes
exactly like the in-memory one; and a store that sorts keys loses data, ours does not."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState

from engine.runtime import livetasks
from engine.runtime import store
from engine.model.bpmn import build_specs
from engine.model.sandbox import make_script_engine
from engine.runtime.services import apply_form
from tests.walk import pickup_data

ROOT = Path(__file__).resolve().parent.parent
APPLICANT = {"type": "company", "name": "示例科技有限公司", "phone": "13800000000"}


def _specs(process_id: str):
    files = {p.name: p.read_bytes() for p in sorted((ROOT / "processes").glob("*.bpmn"))}
    files["loop.bpmn"] = (ROOT / "bench" / "loop.bpmn").read_bytes()
    return build_specs(files, process_id)


def _data(task, rng: random.Random, step: int) -> dict:
    bpmn_id = task.task_spec.bpmn_id
    if bpmn_id == "intake":
        return {"accepted": rng.random() < 0.85, "remark": rng.choice(["", "材料齐全", "ok"])}
    if bpmn_id == "pickup":
        return pickup_data()
    if bpmn_id == "work":
        return {"n": step, "note": {"k": [step, str(step)]}}
    return {"decision": rng.choice(["approve", "reject"]), "opinion": f"意见 {step}", "extra": [step, {"x": step}]}


def _projection(wf) -> dict:
    """BpmnWorkflowSerializer.to_dict minus the spec keys (specs come from the pinned version, not the rows)."""
    dct = store.SERIALIZER.to_dict(wf)
    for key in ("spec", "subprocess_specs"):
        dct.pop(key, None)
    # After a reset, the library may leave a workflow's last_task pointing at a task it removed; no restore
    # (the library's own included) can find that task again, so such a dangling reference counts as none.
    for w in (dct, *dct.get("subprocesses", {}).values()):
        if w.get("last_task") not in w["tasks"]:
            w["last_task"] = None
    return dct


class Table:
    """An in-memory stand-in for task_rows + cases.state_head, fed only by the Deltas a save writes."""

    def __init__(self):
        self.rows: dict[str, list] = {}
        self.head = "{}"

    def apply(self, delta: store.Delta) -> None:
        for sid in delta.deletes:
            self.rows.pop(sid, None)
        for sid, key, seq, body in delta.upserts:
            if seq >= 0:
                assert sid not in self.rows
                self.rows[sid] = [sid, key, seq, body]
            else:
                self.rows[sid][3] = body
        self.head = delta.head

    def load(self):
        rows = [tuple(r) for r in self.rows.values()]
        random.Random(len(rows)).shuffle(rows)  # the database returns rows in any order
        return rows


def _check(spec, table: Table, wf) -> tuple:
    expected = _projection(wf)
    fast, snap = store.restore(spec, table.head, table.load(), make_script_engine())
    assert _projection(fast) == expected
    assert _projection(store.restore_with_library(spec, table.head, table.load(), make_script_engine())) == expected
    # the restored objects behave the same: same ready tasks, same parent links, same data objects per task
    ids = lambda w: sorted(str(t.id) for t in w.get_tasks(state=TaskState.READY, manual=True))  # noqa: E731
    assert ids(fast) == ids(wf)
    restored = {w.parent_task_id if w is not fast else None: w for w in livetasks.workflows(fast)}
    for w_mem in livetasks.workflows(wf):
        w_new = restored[w_mem.parent_task_id if w_mem is not wf else None]  # subprocesses may come back reordered
        for tid, t in w_mem.tasks.items():
            r = w_new.tasks[tid]
            assert (r.parent.id if r.parent else None) == (t.parent.id if t.parent else None)
            assert r.data == t.data and r.internal_data == t.internal_data and r.state == t.state
            if r.parent is not None:
                assert r.data is not r.parent.data
    return fast, snap


START = {"limit": 10_000, "n": 0, "items": ["construction_permit", "quality_safety", "fire_design"], "owed": [],
         "decisions": {}, "inspections": {}, "company_name": "x"}


def _walk(process_id: str, seed: int, max_steps: int, reload_every_step: bool, resets: float = 0.0) -> int:
    """Random walk: complete a random ready task with random data, save (diff), check the restore, go on
    either with the in-memory workflow or (like Services) with the restored one. With `resets`, that share
    of the steps instead resets the case to a random completed user task (changing and removing finished
    tasks, chunked ones included)."""
    rng = random.Random(seed)
    spec = _specs(process_id)
    wf = spec.new_workflow(make_script_engine())
    wf.data.update({"applicant": APPLICANT, "channel": "window"})
    for t in wf.get_tasks(state=TaskState.READY):
        t.data.update(START, applicant=APPLICANT, channel="window")
    wf.do_engine_steps()
    table = Table()
    snap = store.Snapshot()
    table.apply(store.diff(wf, snap))
    wf_restored, snap_restored = _check(spec, table, wf)
    steps = 0
    while steps < max_steps:
        if reload_every_step:
            wf, snap = wf_restored, snap_restored
        done = [t for t in wf.get_tasks(state=TaskState.COMPLETED) if t.task_spec.manual]
        if resets and done and rng.random() < resets:
            wf.reset_from_task_id(rng.choice(done).id)
            wf.do_engine_steps()
            steps += 1
            table.apply(store.diff(wf, snap))
            wf_restored, snap_restored = _check(spec, table, wf)
            continue
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        task = rng.choice(ready)
        data = _data(task, rng, steps)
        if reload_every_step:  # in place, as a careless form handler would: safe only on a restored workflow
            task.data.update(data)
            task.data.setdefault("results", {}).setdefault(task.workflow.spec.name, {})[task.task_spec.bpmn_id] = data
        else:
            apply_form(task, data)
        task.run()
        wf.do_engine_steps()
        steps += 1
        table.apply(store.diff(wf, snap))
        wf_restored, snap_restored = _check(spec, table, wf)
    return steps


@pytest.fixture(params=[store.CHUNK, 3], ids=["chunk-default", "chunk-3"])
def chunk(request, monkeypatch):
    """Run with the real chunk size and with a tiny one, so that packing happens within a few steps."""
    monkeypatch.setattr(store, "CHUNK", request.param)
    return request.param


@pytest.mark.parametrize("process_id", ["sample_bundle", "sample_matter"])
@pytest.mark.parametrize("seed", range(8))
def test_random_walks_restore_exactly(process_id, seed, chunk):
    # Like Services: every step continues from the workflow restored from the rows.
    assert _walk(process_id, seed, 50, reload_every_step=True) >= 1


def test_loop_restores_exactly_as_history_grows(chunk):
    assert _walk("bench_loop", 7, 60, reload_every_step=True) == 60


@pytest.mark.parametrize("process_id", ["sample_bundle", "bench_loop"])
@pytest.mark.parametrize("seed", range(6))
def test_resets_unpack_chunks_and_restore_exactly(process_id, seed, monkeypatch):
    """A reset turns finished (chunked) tasks live again and removes others: their chunks are unpacked back
    into task rows, and every restore still equals the in-memory workflow."""
    monkeypatch.setattr(store, "CHUNK", 3)
    _walk(process_id, seed, 60, reload_every_step=seed % 2 == 0, resets=0.15)


@pytest.mark.parametrize("seed", range(4))
def test_multi_instance_children_restore_exactly(seed, monkeypatch):
    """The instances of a multi-instance call activity finish while it is still live and merges their data
    into its own: stored as a delta against it, an instance read back against its LATER data took a sibling's
    `item`. Without id-chosen keyframes (which hid the fault one time in sixteen) every restore must equal."""
    monkeypatch.setattr(store, "KEYFRAME", 2 ** 130)
    assert _walk("b_build", seed, 40, reload_every_step=seed % 2 == 0) >= 4


def test_finished_history_is_packed_into_chunks(monkeypatch):
    """After many steps of a loop, almost all finished tasks live in chunk rows: the rows a load reads grow
    by one per CHUNK finished tasks, not one per task."""
    spec = _specs("bench_loop")
    wf = spec.new_workflow(make_script_engine())
    for t in wf.get_tasks(state=TaskState.READY):
        t.data.update({"limit": 10_000, "n": 0})
    wf.do_engine_steps()
    table, snap = Table(), store.Snapshot()
    table.apply(store.diff(wf, snap))
    for step in range(200):
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data.update({"n": step})
        task.run()
        wf.do_engine_steps()
        table.apply(store.diff(wf, snap))
    chunks = [sid for sid in table.rows if sid.startswith(store.CHUNK_PREFIX)]
    loose = [sid for sid in table.rows if not sid.startswith(store.CHUNK_PREFIX)]
    assert len(wf.tasks) > 400
    assert len(chunks) == len(wf.tasks) // store.CHUNK - (1 if len(loose) > store.CHUNK else 0) or len(loose) < 2 * store.CHUNK
    assert len(loose) < 2 * store.CHUNK
    _check(spec, table, wf)


def test_a_form_writing_nested_results_is_not_lost_on_reload():
    """The trap behind the one departure from the library's restore: with shared nested dicts, pickup's
    results[...]['pickup'] went into the finished join's data, not into pickup's delta, and was lost."""
    for seed in range(8):
        _walk("sample_bundle", seed, 50, reload_every_step=True)


def test_save_writes_a_bounded_number_of_rows_whatever_the_history():
    spec = _specs("bench_loop")
    wf = spec.new_workflow(make_script_engine())
    for t in wf.get_tasks(state=TaskState.READY):
        t.data.update({"limit": 10_000, "n": 0})
    wf.do_engine_steps()
    snap = store.Snapshot()
    store.diff(wf, snap)
    written = []
    for step in range(120):
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data.update({"n": step})
        task.run()
        wf.do_engine_steps()
        delta = store.diff(wf, snap)
        written.append(len(delta.upserts) + len(delta.deletes))
    # A step writes a few rows, and one step in about CHUNK/2 also packs CHUNK rows into a chunk row.
    assert max(written) <= max(written[:10]) + 1 + store.CHUNK
    assert sum(written[-40:]) <= sum(written[20:60]) + 2
    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    assert median(written[-40:]) <= median(written[:20])


def test_fast_restore_handles_typed_values():
    """Values the registry must restore (datetime, timedelta, UUID) in task data come back as such."""
    from datetime import datetime, timedelta, timezone
    from uuid import uuid4

    spec = _specs("sample_matter")
    wf = spec.new_workflow(make_script_engine())
    for t in wf.get_tasks(state=TaskState.READY):
        t.data.update(applicant=APPLICANT)
    wf.do_engine_steps()
    task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
    task.data.update(accepted=True, at=datetime(2024, 5, 1, tzinfo=timezone.utc), span=timedelta(days=2), ref=uuid4())
    task.run()
    wf.do_engine_steps()
    table = Table()
    table.apply(store.diff(wf, store.Snapshot()))
    fast, _ = _check(spec, table, wf)
    last = fast.last_task.data
    assert isinstance(last["at"], datetime) and isinstance(last["span"], timedelta)


def test_key_order_trap_sorted_store_loses_data_ours_does_not():
    """SpiffWorkflow 3.2 stores task data as deltas from the parent; restoring needs parents first. A store
    that sorts the keys of the whole state (json.dumps(sort_keys=True), JSONB) reorders `tasks`, so children
    are restored before their parents and their data is silently lost. Our rows keep creation order (seq)."""
    spec = _specs("sample_matter")
    wf = spec.new_workflow(make_script_engine())
    for t in wf.get_tasks(state=TaskState.READY):
        t.data.update(applicant=APPLICANT)
    wf.do_engine_steps()
    for data in ({"accepted": True}, {"decision": "approve", "opinion": "ok"}):
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data.update(data)
        task.run()
        wf.do_engine_steps()
    expected = _projection(wf)

    whole = store.SERIALIZER.to_dict(wf)
    sorted_text = json.dumps(whole, sort_keys=True)
    restored_sorted = store.SERIALIZER.from_dict(json.loads(sorted_text))
    assert _projection(restored_sorted) != expected, "the trap did not trigger: sorting should lose task data"

    table = Table()
    table.apply(store.diff(wf, store.Snapshot()))
    fast, _ = _check(spec, table, wf)
    assert _projection(fast) == expected
    assert fast.last_task.data.get("accepted") is True
