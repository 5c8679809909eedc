"""Loading and saving a case's workflow, one row per task, writing only what a step changed.

Saving the whole serialized workflow at every step costs time proportional to the case's history;
we keep SpiffWorkflow's own per-task serialization (so the format stays the library's), but store
each task as its own row and, after a step, re-serialize only tasks that can have changed:
new tasks, tasks whose state changed, tasks still live (not finished; their data may change in
place), and the parents of added or removed tasks (their child lists changed). Finished tasks
never change again, and their data delta is relative to a finished parent, so it stays valid.
Rows keep the order SpiffWorkflow created tasks in (`seq`), because restoring a delta needs the
parent restored first. The spec is never stored per case: it comes from the pinned version.

A long case would still load one row per finished task. So once CHUNK finished tasks are settled (finished,
and every child finished too: nothing the engine does in a normal step touches them again), their rows are
packed into one chunk row (`chunk:<seq>`): compact entries holding what stepping needs (ids, state, spec,
depth) and the data delta as text, parsed only if something reads that task's data. A chunk whose member
changes after all (a reset, a new child, a removal) is unpacked back into per-task rows before the save.
"""
from __future__ import annotations

import gc
import json
from copy import copy, deepcopy
from dataclasses import dataclass, field
from operator import itemgetter
from uuid import UUID, SafeUUID

import orjson
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.specs import StartTask
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from . import datamerge  # noqa: F401 - installs the copy-on-write task data merge
from . import livetasks

_FINISHED = TaskState.COMPLETED | TaskState.CANCELLED | TaskState.ERROR
_LIVE = TaskState.NOT_FINISHED_MASK
_MUTABLE = (dict, list, set)  # what DeepMerge.merge copies (shallowly) from a parent's data

_REGISTRY = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
SERIALIZER = BpmnWorkflowSerializer(_REGISTRY)
_ENCODER = SERIALIZER._encoder_cls
_TASK_TYPENAME = _REGISTRY.typenames[Task]
# The library's own workflow converter, reused for the workflow-level attributes and subprocesses.
_WF_CONVERTER = _REGISTRY.convert_from_dict["BpmnWorkflow"].args[0].__self__


_ENCODE = _ENCODER(ensure_ascii=False, separators=(",", ":")).encode  # = json.dumps(..., cls=_ENCODER, same options)


KEYFRAME = 16  # about one finished task in KEYFRAME stores its whole data
CHUNK = 32  # settled finished tasks packed into one chunk row
CHUNK_PREFIX = "chunk:"


def _task_body(task) -> str:
    """The library's serialization of a task, except that some tasks store their whole data with an
    empty delta (a form the library's own TaskConverter reads back unchanged): unfinished tasks, so
    stepping never needs their ancestors' data, and about one finished task in KEYFRAME (chosen by
    id), so rebuilding any task's data reads a few ancestors, never the whole history."""
    _REGISTRY._encoder_mode = True
    try:
        if task._parent is not None and (task._state & _LIVE or task.id.int % KEYFRAME == 0
                                         or _parent_live(task)):
            dct = {
                "id": str(task.id), "parent": str(task._parent), "children": [str(c) for c in task._children],
                "last_state_change": task.last_state_change, "state": task._state,
                "task_spec": task.task_spec.name, "triggered": task.triggered,
                "internal_data": _REGISTRY.convert(task.internal_data),
                "data": _REGISTRY.convert(_REGISTRY.clean(task.data)), "delta": {}, "typename": _TASK_TYPENAME,
            }
        else:
            dct = SERIALIZER.to_dict(task)
        return _ENCODE(dct)
    finally:
        _REGISTRY._encoder_mode = False


def _parent_live(task) -> bool:
    """A finished task whose parent is still live (a multi-instance task gathering its instances, which merges
    their data into its own as each finishes): a delta against that parent would be read back against the
    parent's LATER data, so such a task stores its whole data."""
    parent = task.workflow.tasks.get(task._parent)
    return parent is not None and not parent._state & _FINISHED


def _convert(value):
    return _REGISTRY.convert(_REGISTRY.clean(value)) if isinstance(value, dict) else _REGISTRY.convert(value)


@dataclass
class Snapshot:
    """What was loaded, so a save can tell what changed."""

    bodies: dict[str, str] = field(default_factory=dict)       # task id -> stored text
    changes: dict[str, float] = field(default_factory=dict)    # task id -> last_state_change at load
    next_seq: int = 0
    timers: list[tuple[str, object]] | None = None             # pending timers at load (None: unknown)
    ids: dict = field(default_factory=dict)                    # UUID -> task id text of tasks made since the load
    stored: dict = field(default_factory=dict)  # task id -> (signature, data, internal data) a live task was stored with
    indexed: set | None = None  # ids of the case's open-task index rows (its ready user tasks when saved)
    seqs: dict[str, int] = field(default_factory=dict)  # task id -> seq of the tasks stored as their own rows
    chunks: dict[str, str] = field(default_factory=dict)  # chunk row id -> stored text
    chunked: int = 0  # tasks stored in chunks


def _signature(task) -> tuple:
    """Besides its data, what a live task's stored body depends on."""
    return (task._state, task.last_state_change, tuple(task._children), task.triggered)


def _unchanged(task, stored) -> bool:
    """A live task is exactly as stored: same signature, equal data and internal data (compared in C,
    far cheaper than serializing it again to compare the text)."""
    return (stored is not None and stored[0] == _signature(task) and task.data == stored[1]
            and task.internal_data == stored[2])


@dataclass
class Delta:
    """Rows to write after a step: (task id, workflow key, seq, body) upserts and deletions."""

    upserts: list[tuple[str, str, int, str]]
    deletes: list[str]
    head: str
    live: list = field(default_factory=list)  # unfinished tasks after the step (all workflows)


def _head(wf: BpmnWorkflow) -> dict:
    def attrs(w) -> dict:
        return {
            "data": _convert(w.data),
            "correlations": w.correlations,
            "last_task": str(w.last_task.id) if w.last_task is not None else None,
            "success": w.success,
            "completed": w.completed,
            "root": str(w.task_tree.id),
        }

    head = attrs(wf)
    head["bpmn_events"] = _REGISTRY.convert(wf.bpmn_events)
    head["subprocesses"] = {str(k): dict(attrs(sp), spec=sp.spec.name) for k, sp in wf.subprocesses.items()}
    return head


def head_text(wf: BpmnWorkflow) -> str:
    _REGISTRY._encoder_mode = True
    try:
        return _ENCODE(_head(wf))
    finally:
        _REGISTRY._encoder_mode = False


def _all_tasks(wf: BpmnWorkflow):
    """Every task of the workflow and its subprocesses, with its workflow key ('' = top level)."""
    for task_id, task in wf.tasks.items():
        yield "", task_id, task
    for sp_id, sp in wf.subprocesses.items():
        key = str(sp_id)
        for task_id, task in sp.tasks.items():
            yield key, task_id, task


def diff(wf: BpmnWorkflow, snap: Snapshot) -> Delta:
    """The rows a save must write; updates `snap` to describe the new stored state.

    One pass over the task maps (ids looked up, not formatted: str(UUID) is slow), collecting the
    live tasks on the way so that the task index, timers and completion need no further scan."""
    ids, bodies, changes, stored = snap.ids, snap.bodies, snap.changes, snap.stored
    finished = _FINISHED
    seen: set[str] = set()
    dirty: list[tuple[str, str, object]] = []
    dirty_ids: set[str] = set()
    parents_of_new: list = []
    live: list[tuple[str, object]] = []
    loose: list[tuple[str, str, object]] = []  # finished tasks in their own rows, unchanged by this step
    unpack: set[str] = set()  # chunks a member of which changed
    in_chunks = 0
    for key, task_id, task in _all_tasks(wf):
        attrs = task.__dict__
        chunk = attrs.get("_ow_chunk")
        if chunk is not None:
            in_chunks += 1
            if task.last_state_change != attrs["_ow_change"]:
                unpack.add(chunk)
            continue
        sid = attrs.get("_ow_sid")  # set at restore: avoids hashing the UUID (a Python-level __hash__)
        if sid is None:
            sid = ids.get(task_id)
            if sid is None:
                sid = ids[task_id] = str(task_id)
            attrs["_ow_sid"] = sid
        seen.add(sid)
        state = task._state
        if not state & finished:
            live.append((key, task))
        if sid not in bodies:
            dirty.append((key, sid, task))
            dirty_ids.add(sid)
            if task._parent is not None:
                parents_of_new.append((key, task))
        elif not state & finished:
            if not _unchanged(task, stored.get(sid)):
                dirty.append((key, sid, task))
                dirty_ids.add(sid)
        elif task.last_state_change != changes.get(sid):
            dirty.append((key, sid, task))
            dirty_ids.add(sid)
        else:
            loose.append((key, sid, task))
    deletes = [sid for sid in bodies if sid not in seen]
    # Tasks whose child lists changed (a child added or removed) are rewritten too.
    extra = [task.workflow.tasks.get(task._parent) for _key, task in parents_of_new]
    for sid in deletes:
        parent = json.loads(bodies[sid]).get("parent")
        if parent:
            extra.append(_find(wf, parent))
    if in_chunks != snap.chunked:  # a chunked task was removed
        for chunk, text in snap.chunks.items():
            for e in json.loads(text)["tasks"]:
                if _find(wf, e[_E_ID]) is None:
                    unpack.add(chunk)
                    if e[_E_PARENT]:
                        extra.append(_find(wf, e[_E_PARENT]))
    forced_seq: dict[str, int] = {}
    for task in extra:
        if task is None:
            continue
        attrs = task.__dict__
        if attrs.get("_ow_chunk") is not None:
            unpack.add(attrs["_ow_chunk"])
        elif attrs["_ow_sid"] not in dirty_ids:
            dirty_ids.add(attrs["_ow_sid"])
            dirty.append((_key_of(wf, task), attrs["_ow_sid"], task))
    for chunk in sorted(unpack):
        _unpack(wf, snap, chunk, dirty, dirty_ids, live, forced_seq)
        deletes.append(chunk)
    upserts = []
    for key, sid, task in dirty:
        body = _task_body(task)
        stored.pop(sid, None)  # compared by text from now on (its data object may change in place)
        if bodies.get(sid) == body:
            changes[sid] = task.last_state_change
            continue
        if sid in forced_seq:
            seq = snap.seqs[sid] = forced_seq[sid]  # unpacked from a chunk: back in its own row, same place
        elif sid in bodies:
            seq = -1  # keep the stored seq
        else:
            seq = snap.seqs[sid] = snap.next_seq
            snap.next_seq += 1
        upserts.append((sid, key, seq, body))
        bodies[sid] = body
        changes[sid] = task.last_state_change
    for sid in deletes:
        bodies.pop(sid, None)
        stored.pop(sid, None)
        changes.pop(sid, None)
        snap.seqs.pop(sid, None)
    if len(loose) >= CHUNK:
        _pack(snap, [t for t in loose if t[1] not in dirty_ids], upserts, deletes)
    return Delta(upserts, deletes, head_text(wf), [t for _, t in live])


def _key_of(wf: BpmnWorkflow, task) -> str:
    """The workflow key of a task ('' = top level, else its subprocess's id)."""
    return "" if task.workflow is wf else str(task.workflow.parent_task_id)


def _find(wf: BpmnWorkflow, sid: str):
    """The task with that id in the workflow or any of its subprocesses, or None."""
    try:
        tid = UUID(sid)
    except ValueError:
        return None
    for w in livetasks.workflows(wf):
        task = w.tasks.get(tid)
        if task is not None:
            return task
    return None


def _unpack(wf, snap: Snapshot, chunk: str, dirty: list, dirty_ids: set, live: list, forced_seq: dict) -> None:
    """Put the surviving members of a chunk back into their own rows, at their original seq."""
    text = snap.chunks.pop(chunk)
    entries = json.loads(text)["tasks"]
    snap.chunked -= len(entries)
    for e in entries:
        task = _find(wf, e[_E_ID])
        if task is None:
            continue
        attrs = task.__dict__
        attrs.pop("_ow_chunk", None)
        attrs.pop("_ow_change", None)
        sid = attrs["_ow_sid"]
        forced_seq[sid] = e[_E_SEQ]
        if sid not in dirty_ids:
            dirty_ids.add(sid)
            dirty.append((_key_of(wf, task), sid, task))
        if not task._state & _FINISHED:
            live.append((_key_of(wf, task), task))


def _settled(task) -> bool:
    """Finished, and so are all its children (a finished task with an open child may still gain or lose one)."""
    tasks = task.workflow.tasks
    for c in task._children:
        child = tasks.get(c)
        if child is not None and not child._state & _FINISHED:
            return False
    return True


def _pack(snap: Snapshot, loose: list, upserts: list, deletes: list) -> None:
    """Move settled finished tasks from their own rows into one new chunk row (oldest first)."""
    members = sorted((snap.seqs[sid], key, sid, task) for key, sid, task in loose if _settled(task))
    if len(members) < CHUNK:
        return
    entries = []
    for seq, key, sid, task in members:
        stored = snap.bodies[sid]
        body = orjson.loads(stored)
        full = not body.get("delta")
        entries.append([sid, seq, key, body["parent"], body["children"], body["state"], body["task_spec"],
                        body["triggered"], body["last_state_change"], livetasks.depth(task), body["internal_data"],
                        _ENCODE(body["data"] if full else body["delta"]), full, stored.count('"typename"') > 1])
    chunk_seq = snap.next_seq
    snap.next_seq += 1
    chunk = f"{CHUNK_PREFIX}{chunk_seq}"
    text = _ENCODE({"chunk": 1, "tasks": entries})
    upserts.append((chunk, "", chunk_seq, text))
    snap.chunks[chunk] = text
    snap.chunked += len(entries)
    for seq, key, sid, task in members:
        deletes.append(sid)
        snap.bodies.pop(sid)
        snap.changes.pop(sid, None)
        snap.seqs.pop(sid)
        task.__dict__["_ow_chunk"] = chunk
        task.__dict__["_ow_change"] = task.last_state_change


def restore(spec_bundle, head: str, rows, script_engine) -> tuple[BpmnWorkflow, Snapshot]:
    """Rebuild a workflow from its head and task rows (task id, workflow key, seq, body).

    The cyclic garbage collector is paused meanwhile: everything built here stays alive, so the
    collections that thousands of new objects would trigger (each walking every object of the
    process in the oldest generation) find nothing to free and cost as much as the restore itself."""
    if not gc.isenabled():
        return _restore(spec_bundle, head, rows, script_engine)
    gc.disable()
    try:
        return _restore(spec_bundle, head, rows, script_engine)
    finally:
        gc.enable()


def _restore(spec_bundle, head: str, rows, script_engine) -> tuple[BpmnWorkflow, Snapshot]:
    """This is the library's own deserialization (TaskConverter.from_dict, WorkflowConverter.set_default_attributes,
    BpmnWorkflowConverter.subprocesses_from_dict), inlined so that it costs little per task: tasks are made
    without Task.__init__ (which would stamp a new time and look up its parent), ids are parsed once, values
    without a `typename` skip the registry walk, and a task's data is the library's DeepMerge.merge({}, parent
    data) written out (a shallow copy of each mutable value) plus its stored delta. The objects and data are
    the same as the library's; tests/test_store.py checks it after every step of random walks.

    Tasks are restored in creation order (seq), chunked or not, as the library restores them, so each
    workflow's task map has the same order and a task row always finds its parent already restored.
    """
    chunk_rows = [r for r in rows if r[0].startswith(CHUNK_PREFIX)]
    task_rows = sorted((r for r in rows if not r[0].startswith(CHUNK_PREFIX)), key=itemgetter(2))
    ordered = chunk_rows + task_rows
    parsed = orjson.loads("[" + ",".join(r[3] for r in ordered) + "]") if ordered else []
    by_wf: dict[str, list] = {}  # workflow key -> [(seq, (chunk entry, chunk id) or (body, typed, text))]
    snap = Snapshot(next_seq=max((r[2] for r in ordered), default=-1) + 1)
    for (sid, _key, _seq, text), body in zip(chunk_rows, parsed):
        snap.chunks[sid] = text
        entries = body["tasks"]
        snap.chunked += len(entries)
        for e in entries:
            by_wf.setdefault(e[_E_KEY], []).append((e[_E_SEQ], (e, sid)))
    s_bodies, s_changes, s_seqs = snap.bodies, snap.changes, snap.seqs
    for (sid, key, seq, text), body in zip(task_rows, parsed[len(chunk_rows):]):
        # Every body carries its own "typename":"Task"; only a second one means a value the registry must restore.
        by_wf.setdefault(key, []).append((seq, (body, text.count('"typename"') > 1, text)))
        s_bodies[sid] = text
        s_changes[sid] = body["last_state_change"]
        s_seqs[sid] = seq
    if chunk_rows:  # chunked tasks and task rows interleave
        for items in by_wf.values():
            items.sort(key=itemgetter(0))
    h = json.loads(head)
    wf = BpmnWorkflow(spec_bundle.spec, spec_bundle.subprocess_specs, script_engine=script_engine, deserializing=True)
    uuids: dict[str, UUID] = {}
    live_src: dict = {}
    _restore_tasks(wf, by_wf.get("", ()), uuids, wf, live_src)
    wf.task_tree = wf.tasks.get(_uuid(uuids, h["root"]))
    _set_default_attributes(wf, h, uuids)
    subs = h.get("subprocesses", {})
    if subs:
        _restore_subprocesses(dict(subs), wf, wf, by_wf, uuids, live_src)
    events = h.get("bpmn_events", [])
    wf.bpmn_events = _REGISTRY.restore(events) if events else []
    live = [task for task, _ in live_src.values()]
    snap.timers = livetasks.timers(wf, live)
    snap.indexed = set(livetasks.ready_user_tasks(wf, live))
    for task, src in live_src.values():
        if src is not None:
            snap.stored[task.__dict__["_ow_sid"]] = (_signature(task), *src)
    return wf, snap


_SET = object.__setattr__
_UNKNOWN = SafeUUID.unknown  # (an enum member: looked up once, not per id)


def _uuid(cache: dict, text: str) -> UUID:
    """UUID(text), parsed once per load (UUID's own constructor is slow; this sets the same two slots)."""
    u = cache.get(text)
    if u is None:
        u = object.__new__(UUID)
        _SET(u, "int", int(text.replace("-", ""), 16))
        _SET(u, "is_safe", _UNKNOWN)
        if len(text) != 36 or u.int >> 128:
            u = UUID(text)  # anything unusual: let the real constructor parse (or refuse) it
        cache[text] = u
    return u


class _StoredTask(Task):
    """A finished task restored from storage, whose data is rebuilt only if something reads it.

    Stepping a workflow walks every task but reads the data of only a few (the parents of new
    tasks, a join's inputs); rebuilding every finished task's data at load (a copy of its
    parent's data plus its stored delta) was most of the cost of loading a long case."""

    @property
    def data(self):
        d = self.__dict__.get("_data")
        return d if d is not None else _materialise(self)

    @data.setter
    def data(self, value):
        self.__dict__["_data"] = value
        self.__dict__.pop("_pending", None)


_REGISTRY.typenames[_StoredTask] = _TASK_TYPENAME  # serialised exactly like a Task


def _materialise(task) -> dict:
    """Rebuild the data of a _StoredTask and of its unbuilt ancestors, top-down, without recursion.

    `_pending` is (delta, typed, full): a delta from the parent's data (parsed, or as text from a chunk),
    or, when `full`, the task's whole data (a keyframe: no need to climb further)."""
    chain = []
    node = task
    while node is not None and node.__dict__.get("_data") is None and "_pending" in node.__dict__:
        chain.append(node)
        if node.__dict__["_pending"][2]:
            break
        node = node.workflow.tasks.get(node._parent) if node._parent is not None else None
    for n in reversed(chain):
        stored, typed, full = n.__dict__.pop("_pending")
        if isinstance(stored, str):
            stored = orjson.loads(stored)
        if full:
            n.__dict__["_data"] = _REGISTRY.restore(stored) if typed else stored
        else:
            parent = n.workflow.tasks.get(n._parent) if n._parent is not None else None
            n.__dict__["_data"] = _apply_delta(parent.data if parent is not None else {}, stored, typed)
    return task.__dict__["_data"]


def _apply_delta(parent_data: dict, delta: dict, typed: bool) -> dict:
    """DeepMerge.merge({}, parent data) plus the stored delta, as TaskConverter.from_dict does."""
    data = {k: copy(v) if isinstance(v, _MUTABLE) else v for k, v in parent_data.items()}
    updates = delta["updates"]
    if updates:
        data.update(_REGISTRY.restore(updates) if typed else updates)
    for k in delta["deletions"]:
        if k in data:
            del data[k]
    return data


# A chunk entry: [task id, seq, workflow key, parent id, [child ids], state, spec name, triggered,
#                 last_state_change, depth, internal data, data text, full, typed]
# where the data text is the task's stored delta (or, when `full`, its whole data) as JSON text, and
# `typed` says that internal data or data hold values the registry must restore.
(_E_ID, _E_SEQ, _E_KEY, _E_PARENT, _E_CHILDREN, _E_STATE, _E_SPEC, _E_TRIGGERED, _E_CHANGE, _E_DEPTH,
 _E_INTERNAL, _E_DATA, _E_FULL, _E_TYPED) = range(14)


def _restore_tasks(workflow, items, uuids: dict, top, live_src: dict) -> None:
    """TaskConverter.from_dict for each stored task, in creation order so parents come first.

    Each task's attributes are assigned as one dict (the same attributes Task.__init__ sets). A chunk
    entry is a finished task whose data is parsed and built on first use (_StoredTask); so is a finished
    task row with a parent (its delta is kept). A live task is noted in `live_src`, with the parsed values
    it was stored with when it stored its whole data."""
    tasks = workflow.tasks
    specs = workflow.spec.task_specs
    restore = _REGISTRY.restore
    pool = Task.thread_id_pool
    new = object.__new__
    cache_get = uuids.get
    live_mask, waiting = _LIVE, TaskState.WAITING
    for _seq, item in items:
        if len(item) == 2:  # (chunk entry, chunk id); indices as in the entry layout above (literals: hot loop)
            e, chunk = item
            text = e[0]
            tid = cache_get(text) or _uuid(uuids, text)
            parent_id = e[3]
            task_spec = specs.get(e[6])
            internal = e[10]
            typed = e[13]
            task = new(_StoredTask)
            task.__dict__ = {
                "id": tid, "_ow_sid": text, "workflow": workflow,
                "_parent": (cache_get(parent_id) or _uuid(uuids, parent_id)) if parent_id is not None else None,
                "_children": [cache_get(c) or _uuid(uuids, c) for c in e[4]],
                "_state": e[5], "triggered": e[7],
                "task_spec": task_spec if task_spec else StartTask(workflow.spec), "thread_id": pool,
                "internal_data": restore(internal) if typed and internal else internal,
                "last_state_change": e[8], "_ow_depth": e[9],
                "_ow_chunk": chunk, "_ow_change": e[8], "_pending": (e[11], typed, e[12]),
            }
            tasks[tid] = task
            continue
        dct, typed, stored_text = item
        task_spec = specs.get(dct["task_spec"])
        text = dct["id"]
        tid = cache_get(text) or _uuid(uuids, text)
        parent_id = dct["parent"]
        parent = (cache_get(parent_id) or _uuid(uuids, parent_id)) if parent_id is not None else None
        state = dct["state"]
        internal = dct["internal_data"]
        delta = dct.get("delta")
        attrs = {
            "id": tid, "_ow_sid": text, "workflow": workflow, "_parent": parent,
            "_children": [cache_get(c) or _uuid(uuids, c) for c in dct["children"]],
            "_state": state, "triggered": dct["triggered"],
            "task_spec": task_spec if task_spec else StartTask(workflow.spec), "thread_id": pool,
            "internal_data": restore(internal) if typed and internal else internal,
            "last_state_change": dct["last_state_change"],
        }
        parent_task = tasks.get(parent) if parent is not None else None
        attrs["_ow_depth"] = parent_task.__dict__.get("_ow_depth", -1) + 1 if parent_task is not None else 0
        if delta and parent_task is not None and not state & live_mask:
            task = new(_StoredTask)
            attrs["_pending"] = (delta, typed, False)
        else:
            task = new(Task)
            if delta and parent_task is not None:
                data = _apply_delta(parent_task.data, delta, typed)
            else:
                data = restore(dct["data"]) if typed else dct["data"]
            if state & live_mask:
                # The one departure from the library: a live task gets its own nested values. With the
                # library's shallow copy, a form writing into a nested dict (results[process][element]) also
                # changes every finished ancestor sharing it, whose stored row is not rewritten: lost on reload.
                if not typed and not delta:
                    # It stored its whole data, so the parsed values are its own; a second parse (cheaper than a
                    # deep copy) is kept as what it was stored with, to tell at the save whether it changed.
                    live_src[tid] = (task, _parsed_again(stored_text, data, internal))
                else:
                    live_src[tid] = (task, None)
                    data = deepcopy(data)
                    attrs["internal_data"] = deepcopy(attrs["internal_data"])
            attrs["data"] = data
        task.__dict__ = attrs
        tasks[tid] = task
        if state & waiting and isinstance(task_spec, CatchingEvent):
            top.event_manager.add_task(task)


def _parsed_again(text: str, data, internal) -> tuple:
    """(data, internal data) equal to the given ones, sharing no object with them."""
    if not data and not internal:
        return {}, {}
    again = orjson.loads(text)
    return again["data"], again["internal_data"]


def _set_default_attributes(workflow, dct: dict, uuids: dict) -> None:
    """WorkflowConverter.set_default_attributes."""
    workflow.success = dct["success"]
    workflow.completed = dct.get("completed", False)
    workflow.correlations = dct.get("correlations", {})
    if isinstance(dct["last_task"], str):
        workflow.last_task = workflow.tasks.get(_uuid(uuids, dct["last_task"]))
    workflow.data = _REGISTRY.restore(dct.get("data", {}))


def _restore_subprocesses(subs: dict, workflow, top, by_wf: dict, uuids: dict, live_src: dict) -> None:
    """BpmnWorkflowConverter.subprocesses_from_dict with BpmnSubWorkflowConverter.from_dict inlined:
    parents before children, because a subprocess hangs off a task of the workflow above it."""
    if not subs:
        return
    for task in list(workflow.tasks.values()):
        if not isinstance(task.task_spec, SubWorkflowTask):
            continue
        key = task.__dict__.get("_ow_sid") or str(task.id)
        if key in subs:
            dct = subs.pop(key)
            sp = BpmnSubWorkflow(top.subprocess_specs.get(task.task_spec.spec), task.id, top, deserializing=True)
            _restore_tasks(sp, by_wf.get(key, ()), uuids, top, live_src)
            sp.task_tree = sp.tasks.get(_uuid(uuids, dct["root"]))
            _set_default_attributes(sp, dct, uuids)
            top.subprocesses[task.id] = sp
            sp.completed_event.connect(task.task_spec._on_subworkflow_completed, task)
            _restore_subprocesses(subs, sp, top, by_wf, uuids, live_src)


def restore_with_library(spec_bundle, head: str, rows, script_engine) -> BpmnWorkflow:
    """The same workflow rebuilt only through the library's converters (the reference restore() must equal);
    chunk entries are turned back into the library's task dicts first."""
    tasks = []
    for sid, key, seq, text in rows:
        if sid.startswith(CHUNK_PREFIX):
            tasks.extend((e[_E_SEQ], e[_E_KEY], e[_E_ID], library_task_dict(e)) for e in json.loads(text)["tasks"])
        else:
            tasks.append((seq, key, sid, json.loads(text)))
    by_wf: dict[str, dict[str, dict]] = {}
    for _seq, key, sid, dct in sorted(tasks, key=itemgetter(0)):
        by_wf.setdefault(key, {})[sid] = dct
    h = json.loads(head)
    dct = {"tasks": by_wf.get("", {}), **{k: v for k, v in h.items() if k != "subprocesses"}}
    wf = BpmnWorkflow(spec_bundle.spec, spec_bundle.subprocess_specs, script_engine=script_engine, deserializing=True)
    wf.tasks = _WF_CONVERTER.mapping_from_dict(dct["tasks"], UUID, workflow=wf)
    wf.task_tree = wf.tasks.get(UUID(dct["root"]))
    _WF_CONVERTER.set_default_attributes(wf, dct)
    subs = {k: dict(v, tasks=by_wf.get(k, {}), typename="BpmnSubWorkflow") for k, v in h.get("subprocesses", {}).items()}
    _WF_CONVERTER.subprocesses_from_dict(subs, wf)
    wf.bpmn_events = _REGISTRY.restore(dct.get("bpmn_events", []))
    return wf


def library_task_dict(entry: list) -> dict:
    """A chunk entry as the library's own task dict (TaskConverter.to_dict's keys)."""
    stored = json.loads(entry[_E_DATA])
    full = entry[_E_FULL]
    return {"id": entry[_E_ID], "parent": entry[_E_PARENT], "children": entry[_E_CHILDREN],
            "last_state_change": entry[_E_CHANGE], "state": entry[_E_STATE], "task_spec": entry[_E_SPEC],
            "triggered": entry[_E_TRIGGERED], "internal_data": entry[_E_INTERNAL],
            "data": stored if full else {}, "delta": {} if full else stored, "typename": _TASK_TYPENAME}


def dispose(wf: BpmnWorkflow) -> None:
    """Drop the workflow's task maps so reference counting frees it at once: tasks and workflows point
    at each other, and leaving those cycles to the cyclic collector cost about 15% of every request."""
    for w in livetasks.workflows(wf):
        w.tasks = {}
        w.task_tree = None
        w.last_task = None
    wf.subprocesses = {}
