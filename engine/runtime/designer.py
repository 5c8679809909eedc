"""The process designer's desk: processes and their versions, the diagram of each, what a new version changes,
where the running cases of each version wait, and checking and deploying uploaded files.

Who may use it is decided here (groups `designer` and `admin`), not in a page: every method takes the actor.
Uploads are untrusted: names are checked, sizes bounded, files parsed by the same `check` as the catalogue on disk
(safe XML, the sandbox), written only to a throw-away directory, and nothing is deployed unless the check passes.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from .census import OPEN_STATUSES, VersionCensus, census
from ..db import Case, ProcessVersion
from ..errors import BpmnProblem, Forbidden, Invalid, NotFound
from ..messages import Message
from ..model.catalogue import CheckResult, check
from ..model.deploy import Preview, deploy, pinned_files, preview
from ..model.versions import VersionDiff, diff_versions

DESIGNER_GROUPS = frozenset({"designer", "admin"})
MAX_FILES = 40
MAX_BYTES = 2_000_000  # per file
_NAME = re.compile(r"^[\w\-.（）()]+\.(bpmn|xml|dmn|json)$")


def may_design(actor) -> bool:
    return bool(DESIGNER_GROUPS & set(actor.groups))


def require_designer(actor) -> None:
    if not may_design(actor):
        raise Forbidden("只有流程设计人员或管理员可以使用设计台 (only process designers and admins may use the "
                        "designer's desk)")


@dataclass
class DeployPreview:
    """What deploying does to one process, and the open cases on its deployed versions."""

    preview: Preview
    versions: list[VersionCensus] = field(default_factory=list)  # versions with open cases, oldest first


def dry_run(services, result: CheckResult, only_files: set[str] | None = None) -> list[DeployPreview]:
    """`onewindow deploy --dry-run`: each process's preview, and for a new version the open cases of every
    version already deployed (how many, and where they wait). Writes nothing."""
    with services.uow() as s:
        previews = preview(s, result, only_files)
    out = []
    for p in previews:
        versions = [v for v in census(services, p.process_id) if v.total] if p.status == "new version" else []
        out.append(DeployPreview(p, versions))
    return out


@dataclass
class ProcessRow:
    process_id: str
    name: str
    kind: str
    versions: int
    latest: int
    deployed_at: datetime | None
    open_cases: int


@dataclass
class VersionRow:
    id: int
    content_hash: str
    deployed_at: datetime | None
    deployed_by: str
    census: VersionCensus


@dataclass
class Upload:
    """An upload checked: its problems located in the uploaded files, and (when it passes) what deploying does."""

    names: list[str]
    problems: list[BpmnProblem] = field(default_factory=list)
    warnings: list[BpmnProblem] = field(default_factory=list)
    previews: list[DeployPreview] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)  # name -> lines, to show a problem's line

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self, problem: BpmnProblem) -> str:
        lines = self.sources.get(problem.file) or []
        return lines[problem.line - 1].strip() if problem.line and 0 < problem.line <= len(lines) else ""


class Designer:
    """What the designer's page shows and does, for actors in group `designer` or `admin`."""

    def __init__(self, services):
        self.sv = services

    # ------------------------------------------------------------ reading
    def processes(self, actor) -> list[ProcessRow]:
        require_designer(actor)
        with self.sv.uow() as s:
            rows = s.execute(select(ProcessVersion.process_id, func.count(), func.max(ProcessVersion.id))
                             .group_by(ProcessVersion.process_id)).all()
            open_cases = dict(s.execute(select(Case.process_id, func.count()).where(
                Case.status.in_(OPEN_STATUSES)).group_by(Case.process_id)).all())
            out = []
            for pid, n, latest in rows:
                v = s.get(ProcessVersion, latest)
                kind = json.loads(v.meta or "{}").get("kind", "matter")
                out.append(ProcessRow(pid, v.name, kind, n, latest, v.deployed_at, open_cases.get(pid, 0)))
        return sorted(out, key=lambda r: (r.kind != "bundle", r.process_id))

    def versions(self, actor, process_id: str) -> list[VersionRow]:
        """Every deployed version of a process, newest first, with its open cases and where they wait."""
        require_designer(actor)
        counted = {c.version_id: c for c in census(self.sv, process_id)}
        if not counted:
            raise NotFound(f"no deployed process '{process_id}'")
        with self.sv.uow() as s:
            rows = s.scalars(select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                             .order_by(ProcessVersion.id.desc())).all()
            return [VersionRow(v.id, v.content_hash, v.deployed_at, json.loads(v.meta or "{}").get("deployed_by", ""),
                               counted[v.id]) for v in rows]

    def version(self, actor, version_id: int) -> ProcessVersion:
        require_designer(actor)
        with self.sv.uow() as s:
            version = s.get(ProcessVersion, int(version_id))
            if version is None:
                raise NotFound(f"no such process version: {version_id}")
            s.expunge(version)
            return version

    def diagram(self, actor, version_id: int, waiting: set[str] = frozenset()) -> str:
        """The version's diagram as SVG, the elements where its cases wait highlighted."""
        from ..model.diagram import render_svg

        version = self.version(actor, version_id)
        with self.sv.uow() as s:
            xml = pinned_files(s, version)[version.file_name]
        return render_svg(xml, version.process_id, active=set(waiting), title=version.name)

    def diff(self, actor, version_id: int, base_id: int | None = None) -> tuple[int | None, VersionDiff | None]:
        """(base version, what `version_id` changes against it); the base defaults to the version before it."""
        version = self.version(actor, version_id)
        with self.sv.uow() as s:
            if base_id is None:
                base = s.scalar(select(ProcessVersion).where(ProcessVersion.process_id == version.process_id,
                                                             ProcessVersion.id < version.id)
                                .order_by(ProcessVersion.id.desc()).limit(1))
            else:
                base = s.get(ProcessVersion, int(base_id))
                if base is None or base.process_id != version.process_id:
                    raise NotFound(f"no version {base_id} of {version.process_id}")
            if base is None:
                return None, None
            return base.id, diff_versions(version.process_id, pinned_files(s, base), pinned_files(s, version))

    # ------------------------------------------------------------ uploads
    def check_upload(self, actor, files: dict[str, bytes]) -> Upload:
        """Check uploaded BPMN/DMN files and forms against the catalogue (as `onewindow check FILE...`), and when
        they pass, preview what deploying them does. Writes nothing but a throw-away copy of the files."""
        require_designer(actor)
        names = _valid_upload(files)
        upload = Upload(names, sources={n: files[n].decode("utf-8", "replace").splitlines() for n in names})
        result = self._check(files)
        upload.problems, upload.warnings = _renamed(result.problems), _renamed(result.warnings)
        if result.ok:
            upload.previews = dry_run(self.sv, result, _affected(result, names))
        return upload

    def deploy_upload(self, actor, files: dict[str, bytes]) -> list[tuple[str, int, bool]]:
        """Check again and deploy the processes the upload defines or whose forms it changes; nothing on errors."""
        require_designer(actor)
        names = _valid_upload(files)
        result = self._check(files)
        if not result.ok:
            raise Invalid(Message("上传的文件有错误，未部署", "the uploaded files have errors; nothing was deployed"),
                          {f"{p.file}:{p.line}": f"{p.element or '-'}: {p.message}" for p in _renamed(result.problems)})
        with self.sv.uow() as s:
            return deploy(s, result, only_files=_affected(result, names), deployed_by=actor.username)

    def _check(self, files: dict[str, bytes]) -> CheckResult:
        with tempfile.TemporaryDirectory(prefix="ow-upload-") as tmp:
            paths = []
            for name, data in files.items():
                path = Path(tmp) / name
                path.write_bytes(data)
                paths.append(str(path))
            result = check(paths)
        for p in result.problems + result.warnings:
            p.file = os.path.basename(str(p.file))
        return result


def _renamed(problems: list[BpmnProblem]) -> list[BpmnProblem]:
    return sorted(problems, key=lambda p: (p.file, p.line or 0))


def _affected(result: CheckResult, names: list[str]) -> set[str]:
    """The files of the processes an upload defines, or whose forms or decision tables it changes."""
    files = {n for n in names if not n.endswith(".json")}
    forms = {n[: -len(".json")] for n in names if n.endswith(".json")}
    decisions = {d for d, f in result.decision_files.items() if f in files}
    return {info.file for info in result.processes.values()
            if info.file in files or info.forms & forms or info.decisions & decisions}


def _valid_upload(files: dict[str, bytes]) -> list[str]:
    """The upload's file names, once each is a plain name of a model or form file of a sensible size."""
    if not files:
        raise Invalid(Message("没有上传文件", "no files were uploaded"),
                      {"files": Message("请选择 BPMN/DMN 文件和表单", "choose files")})
    if len(files) > MAX_FILES:
        raise Invalid(Message(f"最多上传 {MAX_FILES} 个文件", f"at most {MAX_FILES} files"), {"files": f"{len(files)} > {MAX_FILES}"})
    bad = {}
    for name, data in files.items():
        if not isinstance(name, str) or not _NAME.match(name) or name.startswith("."):
            bad[str(name)] = Message("文件名只能是 名称.bpmn/.xml/.dmn/.json", "a plain name ending .bpmn, .xml, .dmn or .json")
        elif not data:
            bad[name] = Message("空文件", "empty file")
        elif len(data) > MAX_BYTES:
            bad[name] = Message("文件过大", f"larger than {MAX_BYTES // 1_000_000} MB")
    if bad:
        raise Invalid(Message("上传的文件不能接受", "some uploaded files cannot be taken"), bad)
    return sorted(files)
