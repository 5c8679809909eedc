"""Rebuilding a case from its audit events alone, on the process version it is pinned to.

A replay starts the workflow as `Services.start_case` does and applies every `task_completed` event to the
READY task at the same path (never by task id: ids are random), in the recorded order, exactly as
`Services.complete` does; administrative acts (engine.runtime.admin) are applied with the functions the acts used.
The result is compared with the stored state on an id-free projection.
"""
from __future__ import annotations

import json
import time
from datetime import timezone
from dataclasses import dataclass, field
from typing import Callable

import orjson
from sqlalchemy import select
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from ..runtime import acts, livetasks, stepping, store, timerclock
from ..db import Blob, Case, Event, ProcessVersion, TaskRow
from ..model.sandbox import make_script_engine
from ..errors import OneWindowError, WorkflowFailed
from ..model.bpmn import task_meta
from ..model.rulespec import rule_name
from ..runtime.workcal import default_calendar
from ..runtime.services import _guard_depth, apply_form, seed_start, task_path
from ..window import ledger

OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED
# Event types that record who did what but do not move the workflow.
PASSIVE = {"certificate_revoked", "timer_failed", "case_urged"}
# Event types that are an action (each is followed, at once, by the events the rules implied).
ACTIONS = {"case_started", "task_completed", "timer_fired", "data_corrected", "version_migrated", "case_suspended",
           "case_resumed", "procedure_started", "procedure_ended"}


class ReplayError(Exception):
    """The events cannot be replayed; `seq` names the event where it went wrong."""

    def __init__(self, seq: int | None, reason: str):
        super().__init__(f"event #{seq}: {reason}" if seq else reason)
        self.seq, self.reason = seq, reason


_CANON = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def canon(value) -> str:
    """Canonical JSON text of a value (sorted keys), to compare replayed and stored data."""
    return orjson.dumps(value, default=str, option=_CANON).decode("utf-8")


def _tasks(wf):
    for _key, _tid, task in store._all_tasks(wf):
        yield task


def case_data(wf) -> dict:
    """What Services.case_data shows: workflow data overlaid with the last task's data."""
    last = wf.last_task.data if wf.last_task is not None else {}
    return dict(wf.data, **last)


def status_of(wf) -> str:
    return "completed" if livetasks.is_completed(wf) else "running"


def open_tasks(wf) -> list[tuple[str, str]]:
    """Open tasks as sorted (path, state) pairs."""
    return sorted(("/".join(task_path(t)), TaskState.get_name(t.state)) for t in _tasks(wf) if t.state & OPEN)


def completed_tasks(wf) -> list[tuple[float, str, str, str, str]]:
    """Completed tasks in completion order: (time, path, spec name, bpmn id, canonical data)."""
    rows = [(t.last_state_change, "/".join(task_path(t)), t.task_spec.name, t.task_spec.bpmn_id or "", canon(t.data))
            for t in _tasks(wf) if t.state == TaskState.COMPLETED]
    return sorted(rows, key=lambda r: (r[0], r[1], r[2]))


def head_view(wf) -> dict[str, str]:
    """The workflow-level state (engine.runtime.store's head) without ids: data, flags, last task, subprocesses."""
    def attrs(w) -> str:
        return canon({"data": w.data, "correlations": w.correlations, "success": w.success, "completed": w.completed})

    last = "/".join(task_path(wf.last_task)) if wf.last_task is not None else ""
    subs = {}
    for sp_id, sp in wf.subprocesses.items():
        owner = wf.get_task_from_id(sp_id)
        subs["/".join(task_path(owner)) if owner is not None else sp.spec.name] = attrs(sp)
    return {"state": attrs(wf), "last task": last, "subprocesses": canon(subs)}


@dataclass
class Source:
    """What a replay needs besides the events: the specs and guide of each process version, and the rule book
    (None for a platform without window rules). Built from the service layer by `source_of`."""

    bundle: Callable[[int], object]
    guide: Callable[[int], dict]
    rules: object = None
    calendar: object = None  # the working-day calendar timers are counted in (engine.runtime.workcal)


@dataclass
class Replay:
    wf: object
    status: str = "running"  # "suspended" while a case_suspended event is not followed by case_resumed
    marks: list[tuple[int, float]] = field(default_factory=list)  # (event seq, time after it was applied)
    issued: dict = field(default_factory=dict)  # member -> {number, status}: the certificates the events issued
    documents: dict = field(default_factory=dict)  # number -> SHA-256 of the content, as the events issued them
    channel: str = "window"

    def event_of(self, changed_at: float) -> int | None:
        """The seq of the event during which a task with this last_state_change was completed."""
        for seq, t in self.marks:
            if changed_at <= t:
                return seq
        return None

    @property
    def visits(self) -> int:
        from_ledger = (self.wf.data.get("window") or {}) if self.wf is not None else {}
        return (1 if self.channel == "window" else 0) + (1 if (from_ledger.get("pickup") or {}).get("method") == "window"
                                                         else 0)


def _engine_steps(wf, seq) -> None:
    """As Services._step: run engine steps, then the depth guard (which also settles `completed`)."""
    try:
        stepping.do_engine_steps(wf)
        _guard_depth(wf)
    except (SpiffWorkflowException, WorkflowException, WorkflowFailed) as exc:
        raise ReplayError(seq, f"the engine failed: {exc}") from None


def find_ready(wf, path: list[str]):
    """The READY task at a path (read from the task maps: no tree walk)."""
    for t in livetasks.live_tasks(wf):
        if t._state == TaskState.READY and task_path(t) == path:
            return t
    return None


class Saved:
    """The case's stored rows, kept in memory: a replay saves and reloads between events exactly as the
    service layer does, so data shared between tasks in memory ends up stored the same way. It also follows
    the case's version, channel and process, the events the rules still owe, and the certificates issued."""

    def __init__(self, source: Source, version_id: int, faithful: bool = True):
        self.source, self.version_id, self.faithful = source, version_id, faithful
        self.bundle = source.bundle(version_id)
        self.rows, self.head, self.snap = {}, "{}", store.Snapshot()
        self.status, self.channel, self.process_id = "running", "window", self.bundle.process_id
        self.before: dict | None = None  # data of the task the last event completed, before it was applied
        self.pending: list = []  # effects the last action implied that no event has matched yet
        self.issued: dict = {}
        self.documents: dict = {}  # number -> content SHA-256 of the documents issued
        self.tx_at = None  # time of the transaction the last event belongs to
        self.groups: dict[str, str] = {}  # task path -> group an administrator reassigned it to
        self.procedures: dict[str, object] = {}  # 特别程序 open: kind -> start time
        self.authority: dict | None = None  # the deciding authority (hall + department), followed through 转办
        self.transfer: dict | None = None  # a hand-over not yet acknowledged

    @property
    def rules(self):
        return self.source.rules

    @property
    def guide(self) -> dict:
        return self.source.guide(self.version_id)

    def save(self, wf, final: bool = False) -> None:
        """As the service layer saves after each action; a quick replay saves once, at the end."""
        if not (self.faithful or final):
            return
        delta = store.diff(wf, self.snap)
        for sid in delta.deletes:
            self.rows.pop(sid, None)
        for sid, key, seq, body in delta.upserts:
            old = self.rows.get(sid)
            self.rows[sid] = (sid, key, seq, body) if seq >= 0 or old is None else (sid, old[1], old[2], body)
        self.head = delta.head

    def load(self):
        wf, self.snap = store.restore(self.bundle, self.head, list(self.rows.values()), make_script_engine())
        return wf

    def current(self, wf, ev):
        """The workflow an action works on: the service layer loads it from the stored rows at the start of each
        transaction and keeps it in memory within one (e.g. a window's start and intake) — and every event of a
        transaction carries the transaction's time — so a replay reloads exactly when the time changes."""
        if wf is not None and (ev.at == self.tx_at or not self.faithful):
            return wf
        return self.load()

    def harvest(self, wf) -> None:
        """As the service layer after every action: apply the rules of automatic tasks that have completed; the
        events they imply come after the action's own."""
        if self.rules is not None:
            self.pending += self.rules.harvest(wf, self.guide, self.process_id, self.channel)

    def implied(self, wf) -> list:
        """What the rules imply now that no event has recorded yet: the last action's own effects, then what
        the ledger implies (certificates to issue or revoke)."""
        if self.rules is None:
            return []
        return self.pending or self.rules.consequences(wf, self.guide, self.process_id, self.issued)

    def expect_nothing_owed(self, wf, seq) -> None:
        owed = self.implied(wf) if wf is not None else []
        if owed:
            e = owed[0]
            raise ReplayError(seq, f"the rules imply {e.type} {_brief(e.payload)} but no event records it")


def _brief(payload: dict) -> str:
    return canon({k: payload[k] for k in ("matter", "type", "number", "kind") if k in payload})


def find_timer(wf, element_id: str | None, path: list[str] | None = None):
    """The waiting timer task of that element (and path, when the event records one)."""
    for w in livetasks.workflows(wf):
        for t in w.tasks.values():
            ev = getattr(t.task_spec, "event_definition", None)
            if (t.state == TaskState.WAITING and type(ev).__name__.endswith("TimerEventDefinition")
                    and t.task_spec.bpmn_id == element_id and (not path or task_path(t) == path)):
                return t
    return None


def _start(saved: Saved, ev, payload: dict):
    """case_started: seed the workflow as Services.new_case does (with the start intake, re-judged)."""
    if payload.get("version_id"):
        saved.version_id = int(payload["version_id"])
        saved.bundle = saved.source.bundle(saved.version_id)
    saved.channel = payload.get("channel", "window")
    saved.authority = payload.get("authority")
    saved.process_id = payload.get("process_id") or saved.bundle.process_id
    data, intake = payload.get("data") or {}, payload.get("intake")
    start, verdict, effects = dict(data), None, []
    if saved.rules is not None:
        try:
            start, verdict, effects = saved.rules.seed(saved.guide, saved.process_id, data,
                                                       intake.get("data") if intake else None,
                                                       (intake or {}).get("context"), online=saved.channel == "online")
        except OneWindowError as exc:
            raise ReplayError(ev.seq, f"the intake rule refuses this application now: {exc.message}") from None
    wf = saved.bundle.new_workflow(make_script_engine())
    seed_start(wf, payload.get("applicant") or {}, start, saved.channel)
    if saved.rules is not None:
        saved.rules.open_ledger(wf, saved.guide, saved.process_id, data, verdict, ev.actor, payload.get("submission"))
    _engine_steps(wf, ev.seq)
    saved.pending = list(effects)
    return wf


def _complete(saved: Saved, wf, ev, payload: dict):
    """task_completed: the same rule on the same submission (and recorded lookup), then the same step."""
    wf = saved.current(wf, ev)
    task = find_ready(wf, payload.get("path") or [])
    if task is None:
        raise ReplayError(ev.seq, f"no ready task at {'/'.join(payload.get('path') or [])}")
    _same_task(saved, ev, task, payload)
    saved.before = json.loads(canon(task.data))
    data, applied, effects = payload.get("data") or {}, None, []
    if saved.rules is not None:
        from_rule = rule_name(task.task_spec)
        if (payload.get("rule") or None) != (from_rule if from_rule and not _automatic(saved, task) else None):
            raise ReplayError(ev.seq, f"the event records rule {payload.get('rule')!r}, the task declares {from_rule!r}")
        call = saved.rules.call(wf, task, ev.actor, data, saved.guide, saved.process_id, saved.channel,
                                payload.get("context") or {})
        try:
            applied = saved.rules.apply(call)
        except OneWindowError as exc:
            raise ReplayError(ev.seq, f"rule {from_rule} refuses this submission now: {exc.message}") from None
        effects = call.effects
    elif rule_name(task.task_spec):
        raise ReplayError(ev.seq, f"task follows rule {rule_name(task.task_spec)!r}; replaying it needs the rule book")
    apply_form(task, dict(data) if applied is None else applied)
    try:
        task.run()
    except (SpiffWorkflowException, WorkflowException) as exc:
        raise ReplayError(ev.seq, f"the engine failed: {exc}") from None
    _engine_steps(wf, ev.seq)
    saved.pending = list(effects)
    return wf


def _same_task(saved: Saved, ev, task, payload: dict) -> None:
    """The task at the recorded path is the one the event's own columns name: its element, and the group that
    held it (the diagram's, or the one an administrator reassigned it to)."""
    path = "/".join(payload.get("path") or [])
    if ev.element_id and task.task_spec.bpmn_id != ev.element_id:
        raise ReplayError(ev.seq, f"the event names element {ev.element_id}, the task at {path} is "
                                  f"{task.task_spec.bpmn_id}")
    groups = task_meta(task.task_spec).groups
    held = saved.groups.get(path, groups[0] if groups else "")
    if ev.group_name and held and ev.group_name != held:
        raise ReplayError(ev.seq, f"the event was done for group {ev.group_name}, the task at {path} belongs to {held}")


def _automatic(saved: Saved, task) -> bool:
    rule = saved.rules.rules.get(rule_name(task.task_spec) or "")
    return bool(rule is not None and rule.automatic)


def _effect(saved: Saved, wf, ev, payload: dict) -> None:
    """An event a rule implied: it must be the next one the rules imply (a manual revocation is an act)."""
    implied = saved.implied(wf)
    if not implied:
        if ev.type == "certificate_revoked" and payload.get("manual"):
            cert = saved.issued.get(payload.get("matter"))
            if cert is None or cert["number"] != payload.get("number") or cert["status"] != "valid":
                raise ReplayError(ev.seq, f"revokes {payload.get('number')}, not a valid certificate of this case")
            cert["status"] = "revoked"
            return
        raise ReplayError(ev.seq, f"{ev.type} {_brief(payload)} is not implied by the rules at this point")
    expected = implied[0]
    if not expected.matches(ev.type, payload):
        raise ReplayError(ev.seq, f"the rules imply {expected.type} {_brief(expected.payload)}, "
                                  f"the event records {ev.type} {_brief(payload)}")
    if saved.pending:
        saved.pending.pop(0)
    if ev.type == "certificate_issued":
        saved.issued[payload["matter"]] = {"number": payload.get("number"), "status": "valid"}
    elif ev.type == "certificate_revoked":
        saved.issued[payload["matter"]]["status"] = "revoked"
    elif ev.type == "document_issued":
        if not payload.get("number") or not payload.get("sha256"):
            raise ReplayError(ev.seq, "document_issued without its number and content hash")
        ledger.note_document(wf, payload["key"], payload["number"])  # as the rule book noted it
        saved.documents[payload["number"]] = payload["sha256"]
        saved.save(wf)  # the service layer saved the ledger with it


def apply_event(wf, saved: Saved, ev, payload: dict):
    """Apply one event to the workflow (None before case_started); returns the workflow. Timers it reaches count
    from the event's time, as they did in the action."""
    token = timerclock.enter(ev.at if ev.at.tzinfo else ev.at.replace(tzinfo=timezone.utc), saved.source.calendar)
    try:
        return _apply_event(wf, saved, ev, payload)
    finally:
        timerclock.leave(token)


def _apply_event(wf, saved: Saved, ev, payload: dict):
    if saved.rules is not None and ev.type in saved.rules.effects:
        if wf is None:
            raise ReplayError(ev.seq, f"{ev.type} before case_started")
        _effect(saved, wf, ev, payload)
        return wf
    if ev.type in ACTIONS:  # an action: what the rules implied before it must all be recorded
        saved.expect_nothing_owed(wf, ev.seq)
    if ev.type == "case_started":
        if wf is not None:
            raise ReplayError(ev.seq, "case_started twice")
        wf = _start(saved, ev, payload)
    elif wf is None:
        raise ReplayError(ev.seq, f"{ev.type} before case_started")
    elif ev.type == "task_completed":
        wf = _complete(saved, wf, ev, payload)
    elif ev.type == "timer_fired":
        wf = saved.current(wf, ev)
        timer = find_timer(wf, ev.element_id, payload.get("path"))
        if timer is None:
            raise ReplayError(ev.seq, f"no waiting timer at {ev.element_id}")
        timer._set_internal_data(event_fired=True)  # fire it now, whatever the library's clock says
        wf.refresh_timers()
        _engine_steps(wf, ev.seq)
    elif ev.type in PASSIVE:
        pass
    elif ev.type == "task_claimed":
        if not any(t.task_spec.bpmn_id == ev.element_id for t in wf.get_tasks(state=TaskState.READY)):
            raise ReplayError(ev.seq, f"claimed task {ev.element_id} is not ready")
    elif ev.type == "task_reassigned":
        if find_ready(wf, payload.get("path") or []) is None:
            raise ReplayError(ev.seq, f"reassigned task {'/'.join(payload.get('path') or [])} is not ready")
        saved.groups["/".join(payload.get("path") or [])] = (payload.get("to") or {}).get("group") or ""
    elif ev.type in ("case_suspended", "case_resumed"):
        status = acts.next_status(saved.status, ev.type)
        if status is None:
            raise ReplayError(ev.seq, f"{ev.type} while the case is {saved.status}")
        saved.status = status
    elif ev.type == "data_corrected":
        wf = saved.current(wf, ev)
        changes = payload.get("changes") or {}
        done = acts.correct_data(wf, {k: v.get("after") for k, v in changes.items()})
        if canon(done) != canon(changes):
            raise ReplayError(ev.seq, "corrected values differ from the recorded ones (before/after)")
    elif ev.type == "version_migrated":
        wf = saved.current(wf, ev)
        version_id = int(payload.get("to_version_id"))
        bundle = saved.source.bundle(version_id)
        try:
            acts.migrate(wf, bundle)
        except acts.Unsafe as exc:
            raise ReplayError(ev.seq, f"the migration cannot be replayed: {exc}") from None
        saved.bundle, saved.version_id = bundle, version_id
        _engine_steps(wf, ev.seq)
    elif ev.type == "procedure_started":
        if payload.get("kind") in saved.procedures:
            raise ReplayError(ev.seq, f"special procedure {payload.get('kind')} started twice")
        saved.procedures[payload.get("kind")] = ev.at
    elif ev.type == "procedure_ended":
        if saved.procedures.pop(payload.get("kind"), None) is None:
            raise ReplayError(ev.seq, f"special procedure {payload.get('kind')} ended but never started")
        wf = saved.current(wf, ev)
        timerclock.shift(wf, int(payload.get("workdays") or 0), saved.source.calendar or default_calendar())
    elif ev.type == "case_transferred":
        if saved.authority is None or payload.get("from") != saved.authority:
            raise ReplayError(ev.seq, f"transfers from {payload.get('from')}, the case was with {saved.authority}")
        if livetasks.is_completed(wf):
            raise ReplayError(ev.seq, "a completed case was transferred")
        saved.authority = saved.transfer = payload.get("to")
    elif ev.type == "transfer_acknowledged":
        if saved.transfer is None or payload.get("hall") != saved.transfer.get("hall"):
            raise ReplayError(ev.seq, f"acknowledged at {payload.get('hall')}, no transfer there waits")
        saved.transfer = None
    elif ev.type == "case_completed":
        if not livetasks.is_completed(wf):
            raise ReplayError(ev.seq, "case_completed but the replayed workflow is still running")
    else:
        raise ReplayError(ev.seq, f"replay does not know event type '{ev.type}'")
    if ev.type in ACTIONS:
        saved.harvest(wf)
        saved.save(wf)
    saved.tx_at = ev.at
    return wf


def replay(source: Source, version_id: int, events, on_step=None, faithful: bool = True) -> Replay:
    """Replay events (ordered by seq) from the version the case started on; `on_step(event, payload, wf,
    before)` is called after each one (`before`: for a completion, the task's data before the form was
    applied). The result's workflow is reloaded from the replayed rows, like the stored one it is compared with.

    Faithful, the replay saves and reloads the workflow at every transaction as the service layer did. Quick
    (`faithful=False`), it keeps the workflow in memory and saves once at the end: several times faster, and the
    same unless something relied on how objects were shared before a reload (verify then asks a faithful one)."""
    wf, rp, saved = None, Replay(None), Saved(source, version_id, faithful)
    for ev in events:
        payload = json.loads(ev.payload or "{}")
        saved.before = None
        wf = apply_event(wf, saved, ev, payload)
        rp.marks.append((ev.seq, time.time()))
        if on_step is not None:
            on_step(ev, payload, wf, saved.before)
    if wf is None:
        raise ReplayError(None, "no case_started event")
    saved.expect_nothing_owed(wf, events[-1].seq)
    if livetasks.is_completed(wf) and not any(ev.type == "case_completed" for ev in events):
        raise ReplayError(events[-1].seq, "the replayed workflow completed but no case_completed event follows")
    saved.save(wf, final=True)
    rp.wf, rp.status, rp.issued, rp.channel = saved.load(), saved.status, saved.issued, saved.channel
    rp.documents = saved.documents
    return rp


def compare(rp: Replay, stored_wf, stored_status: str, last_seq: int) -> tuple[int, str] | None:
    """The first difference between a replay and the stored state, as (event seq, reason), or None."""
    mine, theirs = completed_tasks(rp.wf), completed_tasks(stored_wf)
    # Tasks completed within one transaction are microseconds apart and a replay runs at another pace, and the
    # instances of a parallel multi-instance share a path: what is compared is, per path, the completions made
    # there (the replay follows the recorded order of the events, so it cannot reorder a loop's passes).
    by_path_mine, by_path_theirs = _by_path(mine), _by_path(theirs)
    for path in sorted(by_path_mine.keys() | by_path_theirs.keys(), key=lambda p: _first(by_path_mine, by_path_theirs, p)):
        ours, stored = by_path_mine.get(path, []), by_path_theirs.get(path, [])
        for a, b in zip(ours, stored):
            if a[1:] != b[1:]:
                what = "data" if a[1:4] == b[1:4] else "task"
                return (rp.event_of(a[0]) or last_seq,
                        f"completed task {path} {what} differs: replayed {_short(a[4]) if what == 'data' else a[2]} "
                        f"stored {_short(b[4]) if what == 'data' else b[2]}")
        if len(ours) != len(stored):
            return last_seq, f"{path}: completed {len(ours)} time(s) in the replay, {len(stored)} stored"
    a_open, b_open = open_tasks(rp.wf), open_tasks(stored_wf)
    if a_open != b_open:
        return last_seq, f"open tasks differ: replayed {_fmt_open(a_open)}, stored {_fmt_open(b_open)}"
    a_head, b_head = head_view(rp.wf), head_view(stored_wf)
    for key in a_head:
        if a_head[key] != b_head[key]:
            return last_seq, f"workflow {key} differs: replayed {_short(a_head[key], 80)}, stored {_short(b_head[key], 80)}"
    a_data, b_data = canon(case_data(rp.wf)), canon(case_data(stored_wf))
    if a_data != b_data:
        keys = diff_data(json.loads(b_data), json.loads(a_data))
        return last_seq, f"case data differs at {', '.join(sorted(keys)[:5])}"
    replayed = rp.status if rp.status != "running" else status_of(rp.wf)
    if replayed != stored_status:
        return last_seq, f"status differs: replayed {replayed}, stored {stored_status}"
    return None


def _by_path(rows) -> dict[str, list]:
    out: dict[str, list] = {}
    for row in rows:
        out.setdefault(row[1], []).append(row)
    return {path: sorted(group, key=lambda r: r[2:]) for path, group in out.items()}


def _first(a: dict, b: dict, path: str) -> float:
    return min(r[0] for r in (a.get(path) or b.get(path)))


def _short(text: str, n: int = 120) -> str:
    return text if len(text) <= n else text[:n] + "…"


def _fmt_open(items) -> str:
    return "[" + ", ".join(f"{p} {s}" for p, s in items) + "]"


def diff_data(old: dict, new: dict, prefix: str = "") -> dict[str, str]:
    """Dotted keys that differ between two data dicts: key -> 'added' | 'changed' | 'removed'."""
    out = {}
    for k in old.keys() | new.keys():
        name = f"{prefix}{k}"
        if k not in old and isinstance(new[k], dict) and new[k]:
            out.update(diff_data({}, new[k], name + "."))
        elif k not in old:
            out[name] = "added"
        elif k not in new:
            out[name] = "removed"
        elif isinstance(old[k], dict) and isinstance(new[k], dict):
            out.update(diff_data(old[k], new[k], name + "."))
        elif canon(old[k]) != canon(new[k]):
            out[name] = "changed"
    return out


# ---------------------------------------------------------------- loading from the database

def source_of(services, s) -> Source:
    """Specs and guides of every version (from the service's caches) and the service's rule book."""
    return Source(bundle=lambda version_id: services.spec_bundle(s, services.version(s, int(version_id))),
                  guide=lambda version_id: services.guide(services.version(s, int(version_id))),
                  rules=services.rules, calendar=services.calendar.get(s))


def start_version(events, fallback: int) -> int:
    """The version a case started on (its case_started event), which may differ from where it is now."""
    first = json.loads(events[0].payload or "{}") if events else {}
    return int(first.get("version_id") or fallback)


def case_history(services, s, case: Case, events=None) -> list["StepView"]:
    """A case's history as an auditor reads it, replayed from its events."""
    events = load_events(s, case.id) if events is None else events
    return history(source_of(services, s), start_version(events, case.version_id), events)


def load_events(s, case_id: int) -> list[Event]:
    return list(s.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.seq)).all())


def load_stored(services, s, case: Case, version: ProcessVersion):
    """The stored workflow, restored from the case's task rows and head."""
    rows = s.execute(select(TaskRow.task_id, TaskRow.workflow, TaskRow.seq, TaskRow.body)
                     .where(TaskRow.case_id == case.id)).all()
    wf, _ = store.restore(services.spec_bundle(s, version), case.state_head, [tuple(r) for r in rows],
                          make_script_engine())
    return wf


def main_bpmn(s, version: ProcessVersion) -> bytes | None:
    """The BPMN file of the version's top process (for drawing)."""
    h = json.loads(version.files).get(version.file_name)
    blob = s.get(Blob, h) if h else None
    return blob.content.encode("utf-8") if blob is not None else None


@dataclass
class StepView:
    """One step of a case's history, as an auditor sees it."""

    seq: int
    type: str
    actor: str
    group: str
    at: object
    name: str
    path: str
    payload: dict
    changes: dict          # dotted data key -> added/changed/removed
    opened: list[str]
    closed: list[str]
    completed_ids: list[str]  # top-level bpmn ids completed so far (for the diagram)
    active_ids: list[str]     # top-level bpmn ids open now
    status: str
    task_names: dict = field(default_factory=dict)  # task path (opened or closed) -> the task's name, for people


def history(source: Source, version_id: int, events) -> list[StepView]:
    """Replay with a view of what each step changed (data keys, tasks opened and closed)."""
    steps: list[StepView] = []
    prev = {"data": {}, "open": [], "status": "running", "names": {}}

    def on_step(ev, payload, wf, before):
        prev["status"] = acts.next_status(prev["status"], ev.type) or prev["status"]
        data = json.loads(canon(case_data(wf)))
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        now_open = ["/".join(task_path(t)) for t in ready]
        prev["names"].update({"/".join(task_path(t)): t.task_spec.bpmn_name or t.task_spec.bpmn_id for t in ready})
        top = list(wf.tasks.values())
        steps.append(StepView(
            seq=ev.seq, type=ev.type, actor=ev.actor, group=ev.group_name, at=ev.at,
            name=payload.get("name") or ev.element_id or "", path="/".join(payload.get("path") or []),
            payload=payload, changes=diff_data(prev["data"] if before is None else before, data),
            opened=[p for p in now_open if p not in prev["open"]], closed=[p for p in prev["open"] if p not in now_open],
            completed_ids=sorted({t.task_spec.bpmn_id for t in top if t.state == TaskState.COMPLETED and t.task_spec.bpmn_id}),
            active_ids=sorted({t.task_spec.bpmn_id for t in top if t.state & OPEN and t.task_spec.bpmn_id}),
            status=prev["status"] if prev["status"] != "running" else status_of(wf), task_names=dict(prev["names"])))
        prev["data"], prev["open"] = data, now_open

    replay(source, version_id, events, on_step)
    return steps
