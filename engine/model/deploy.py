"""Deploying the catalogue: each process becomes a version identified by the hash of everything
it runs with (its file, the files of the processes and decisions it calls, and its forms).
Re-deploying unchanged files is a no-op; cases stay on the version they started with."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select

from .catalogue import CheckResult, sha256
from ..db import Blob, ProcessVersion
from ..errors import Invalid
from .guide import guide_from_bpmn
from .versions import VersionDiff, diff_versions


def kind_of(guide: dict, calls=()) -> str:
    """bundle for a 一件事, internal for a review or dispatcher called by others, else matter (a matter that
    calls its department's review is still one matter). A diagram without a guide that calls other processes
    is taken for a bundle."""
    if guide.get("kind") == "internal":
        return "internal"
    if guide.get("derived"):
        return "bundle" if calls else "matter"
    return "bundle" if guide.get("type") == "一件事" or guide.get("members") else "matter"


def startable(kind: str, guide: dict, called_by_others: bool) -> bool:
    """Whether one applies for this process: a matter or a bundle — not an internal review or dispatcher, nor a
    diagram without a guide that other processes call."""
    return kind != "internal" and not (guide.get("derived") and called_by_others)


def _closure(result: CheckResult, pid: str) -> set[str]:
    """Every process id a process needs, itself included."""
    seen, todo = set(), [pid]
    while todo:
        p = todo.pop()
        if p in seen or p not in result.processes:
            continue
        seen.add(p)
        todo.extend(result.processes[p].calls)
    return seen


def plan(result: CheckResult) -> dict[str, dict]:
    """For each process: the files it pins ({name: bytes}) and its content hash."""
    out = {}
    for pid, info in result.processes.items():
        procs = _closure(result, pid)
        files = {result.processes[p].file: result.files[result.processes[p].file] for p in procs}
        for dmn in {n for n in result.files if n.endswith(".dmn")}:
            files[dmn] = result.files[dmn]
        forms = set().union(*(result.processes[p].forms for p in procs))
        for f in sorted(forms):
            if f in result.forms:
                files[f"{f}.json"] = result.forms[f]
        digest = hashlib.sha256()
        for name in sorted(files):
            digest.update(name.encode() + b"\0" + sha256(files[name]).encode() + b"\0")
        out[pid] = {"files": files, "hash": digest.hexdigest(), "info": info}
    return out


def deploy(session, result: CheckResult, only_files: set[str] | None = None,
           deployed_by: str | None = None) -> list[tuple[str, int, bool]]:
    """Register new versions; return (process id, version id, newly created) for each process.

    With `only_files` (file names), only the processes defined in those files are deployed; the
    processes they call are pinned by content either way. `deployed_by` is kept in the version's meta."""
    if not result.ok:
        raise Invalid("the catalogue has errors; run `onewindow check`",
                      {str(p.element or p.file): str(p) for p in result.problems[:50]})
    out = []
    called = {c for info in result.processes.values() for c in info.calls}
    for pid, entry in sorted(plan(result).items()):
        if only_files is not None and entry["info"].file not in only_files:
            continue
        existing = session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == pid,
                                                               ProcessVersion.content_hash == entry["hash"]))
        if existing is not None:
            out.append((pid, existing.id, False))
            continue
        pinned = {}
        for name, data in entry["files"].items():
            h = sha256(data)
            if session.get(Blob, h) is None:
                session.add(Blob(hash=h, name=name, content=data.decode("utf-8")))
                session.flush()
            pinned[name] = h
        info = entry["info"]
        guide = guide_from_bpmn(result.files[info.file], pid)
        kind = kind_of(guide, info.calls)
        meta = {"start_form": info.start_form, "calls": sorted(info.calls), "kind": kind, "guide": guide,
                "startable": startable(kind, guide, pid in called)}
        if deployed_by:
            meta["deployed_by"] = deployed_by
        version = ProcessVersion(process_id=pid, name=info.name, file_name=info.file, content_hash=entry["hash"],
                                 files=json.dumps(pinned, sort_keys=True), meta=json.dumps(meta, ensure_ascii=False))
        session.add(version)
        session.flush()
        out.append((pid, version.id, True))
    return out


def pinned_files(session, version: ProcessVersion) -> dict[str, bytes]:
    """The files a deployed version pins, by name."""
    return {name: session.get(Blob, h).content.encode("utf-8") for name, h in json.loads(version.files).items()}


@dataclass
class Preview:
    """What deploying would do to one process: `status` is 'new process', 'new version' or 'unchanged'; `base` is the
    deployed version it is compared with (the latest), or the identical one when unchanged."""

    process_id: str
    name: str
    status: str
    base: int | None
    diff: VersionDiff | None = None
    note: str = ""


def preview(session, result: CheckResult, only_files: set[str] | None = None) -> list[Preview]:
    """What `deploy` would register, each new version compared with the latest deployed one. Writes nothing."""
    if not result.ok:
        raise Invalid("the catalogue has errors; run `onewindow check`",
                      {str(p.element or p.file): str(p) for p in result.problems[:50]})
    out = []
    for pid, entry in sorted(plan(result).items()):
        info = entry["info"]
        if only_files is not None and info.file not in only_files:
            continue
        latest = session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == pid)
                                .order_by(ProcessVersion.id.desc()).limit(1))
        same = session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == pid,
                                                           ProcessVersion.content_hash == entry["hash"]))
        if same is not None:
            note = "" if same.id == latest.id else (f"identical to older version {same.id}: deploying will not make it "
                                                    f"current (the latest is version {latest.id})")
            out.append(Preview(pid, info.name, "unchanged", same.id, note=note))
        elif latest is None:
            out.append(Preview(pid, info.name, "new process", None))
        else:
            diff = diff_versions(pid, pinned_files(session, latest), entry["files"])
            out.append(Preview(pid, info.name, "new version", latest.id, diff))
    return out
