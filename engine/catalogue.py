"""The process catalogue on disk: every BPMN/DMN file in `processes/` and form in `forms/`,
checked the way `onewindow check` reports it (FILE:LINE: ELEMENT_ID: message).

Everything that can go wrong with a process shows here, at load time, never while a case runs:
unsafe XML, the BPMN XSD, structural errors the library only finds in `get_spec()`, reserved ids,
expressions and scripts the sandbox would refuse, and forms a task refers to that do not exist.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask

from .bpmn import NS, RESERVED_IDS, OneWindowParser, id_lines, parse_xml, problem_from_exception, task_meta, xsd_errors
from .errors import BpmnProblem
from .forms import load_form
from .sandbox import check_source

ROOT = Path(__file__).resolve().parent.parent
PROCESSES_DIR = Path(os.environ.get("ONEWINDOW_PROCESSES", ROOT / "processes"))
FORMS_DIR = Path(os.environ.get("ONEWINDOW_FORMS", ROOT / "forms"))

# (xpath, kind) of every piece of source the engine will evaluate.
_SOURCES = [
    (".//bpmn:conditionExpression", "expression"),
    (".//bpmn:scriptTask/bpmn:script", "script"),
    (".//bpmn:timeDuration", "expression"),
    (".//bpmn:timeDate", "expression"),
    (".//bpmn:timeCycle", "expression"),
    (".//bpmn:loopCardinality", "expression"),
    (".//bpmn:completionCondition", "expression"),
    (".//bpmn:messagePath", "expression"),
    (".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression", "expression"),
    (".//spiffworkflow:preScript", "script"),
    (".//spiffworkflow:postScript", "script"),
]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class ProcessInfo:
    process_id: str
    name: str
    file: str
    calls: set[str] = field(default_factory=set)      # called process ids
    decisions: set[str] = field(default_factory=set)  # DMN decision ids
    forms: set[str] = field(default_factory=set)
    start_form: str | None = None


@dataclass
class CheckResult:
    problems: list[BpmnProblem] = field(default_factory=list)
    warnings: list[BpmnProblem] = field(default_factory=list)
    processes: dict[str, ProcessInfo] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)        # BPMN/DMN name -> bytes (the good ones)
    forms: dict[str, bytes] = field(default_factory=dict)        # form name -> bytes
    decision_files: dict[str, str] = field(default_factory=dict)  # decision id -> file name
    checked_files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _enclosing_id(el) -> str | None:
    while el is not None:
        if el.get("id"):
            return el.get("id")
        el = el.getparent()
    return None


def _static_problems(tree, name: str) -> list[BpmnProblem]:
    """Reserved ids and sandbox refusals, found before the library sees the file."""
    out = []
    for el in tree.iter():
        if isinstance(el.tag, str) and el.get("id") in RESERVED_IDS:
            out.append(BpmnProblem(name, el.sourceline, el.get("id"), "this id is reserved by the engine; rename the element"))
    for xpath, kind in _SOURCES:
        for el in tree.getroot().iterfind(xpath, NS) if not xpath.startswith(".//spiff") else tree.getroot().xpath(xpath, namespaces=NS):
            text = (el.text or "").strip()
            if not text:
                continue
            refusal = check_source(text, kind)
            if refusal:
                out.append(BpmnProblem(name, el.sourceline, _enclosing_id(el), refusal))
    return out


def _process_info(parser: OneWindowParser, pid: str, spec, subs: dict, file: str) -> ProcessInfo:
    info = ProcessInfo(pid, spec.description or pid, file)
    node = parser.get_process_parser(pid).node
    start = node.find("bpmn:startEvent", NS)
    if start is not None:
        from .bpmn import CAMUNDA_NS, read_task_meta
        info.start_form = read_task_meta(start, None, {}).form
    for ts in spec.task_specs.values():
        if isinstance(ts, SubWorkflowTask):
            info.calls.add(ts.spec)
        meta = task_meta(ts)
        if meta.form:
            info.forms.add(meta.form)
        dec = getattr(getattr(ts, "engine", None), "decision_table", None)
        if dec is not None:
            info.decisions.add(getattr(dec, "id", None) or "")
    if info.start_form:
        info.forms.add(info.start_form)
    return info


def _check_forms(form_paths: list[Path], result: CheckResult) -> None:
    for path in form_paths:
        data = path.read_bytes()
        name = path.name[: -len(".json")] if path.name.endswith(".json") else path.stem
        try:
            load_form(data.decode("utf-8"), name)
        except (ValueError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            result.problems.append(BpmnProblem(str(path), line or 1, name, str(exc)))
            continue
        result.forms[name] = data


def check(paths: list[str] | None = None, processes_dir: Path | None = None, forms_dir: Path | None = None) -> CheckResult:
    """Check the catalogue (or just `paths`, resolving calls and forms against the catalogue)."""
    processes_dir = Path(processes_dir or PROCESSES_DIR)
    forms_dir = Path(forms_dir or FORMS_DIR)
    result = CheckResult()
    catalogue = sorted(p for p in processes_dir.glob("*") if p.suffix in (".bpmn", ".dmn")) if processes_dir.exists() else []
    form_files = sorted(forms_dir.glob("*.json")) if forms_dir.exists() else []
    targets = [Path(p) for p in paths] if paths else catalogue
    reported = {str(p.resolve()) for p in targets}
    _check_forms([p for p in form_files if not paths or str(p.resolve()) in reported or True], result)
    if paths:  # forms given explicitly are checked as targets too
        extra_forms = [p for p in targets if p.suffix == ".json" and p.resolve().parent != forms_dir.resolve()]
        _check_forms(extra_forms, result)
    models = {p.resolve(): p for p in catalogue}
    for p in targets:
        if p.suffix in (".bpmn", ".dmn", ".xml"):
            models.setdefault(p.resolve(), p)
    result.problems = [pr for pr in result.problems if not paths or str(Path(pr.file).resolve()) in reported or pr.file in map(str, targets)]
    _check_models(list(models.values()), reported, result)
    result.checked_files = len(targets)
    return result


def _report(result: CheckResult, reported: set[str], path: Path, problem: BpmnProblem) -> None:
    if str(path.resolve()) in reported:
        problem.file = str(path)
        (result.warnings if problem.severity == "warning" else result.problems).append(problem)


def _check_models(paths: list[Path], reported: set[str], result: CheckResult) -> None:
    parser = OneWindowParser()
    trees, lines = {}, {}
    for path in paths:
        try:
            data = path.read_bytes()
            tree = parse_xml(data, str(path))
        except BpmnProblem as exc:
            _report(result, reported, path, exc)
            continue
        except OSError as exc:
            _report(result, reported, path, BpmnProblem(str(path), None, None, f"cannot read: {exc.strerror}"))
            continue
        lines[path] = id_lines(tree)
        if path.suffix == ".dmn":
            try:
                parser.add_dmn_xml(tree.getroot(), filename=path.name)
            except Exception as exc:  # noqa: BLE001 - any library error becomes a located problem
                _report(result, reported, path, problem_from_exception(exc, str(path), lines[path]))
                continue
            for dec in tree.getroot().iter("{*}decision"):
                result.decision_files[dec.get("id")] = path.name
            result.files[path.name] = data
            continue
        errors = xsd_errors(tree, str(path)) + _static_problems(tree, str(path))
        if errors:
            for e in errors:
                _report(result, reported, path, e)
            continue
        try:
            parser.add_bpmn_xml(tree, filename=path.name)
        except Exception as exc:  # noqa: BLE001
            _report(result, reported, path, problem_from_exception(exc, str(path), lines[path]))
            continue
        trees[path] = (tree, data)
    for path, (tree, data) in trees.items():
        _check_processes(parser, path, tree, data, lines[path], reported, result)


def _check_processes(parser, path, tree, data, lines, reported, result) -> None:
    processes = tree.getroot().findall("bpmn:process", NS)
    executable = [p for p in processes if (p.get("isExecutable") or "").lower() == "true"]
    if processes and not executable:
        for p in processes:
            _report(result, reported, path, BpmnProblem(str(path), p.sourceline, p.get("id"),
                                                        "process is not executable (set isExecutable=\"true\")"))
        return
    if not processes:
        _report(result, reported, path, BpmnProblem(str(path), tree.getroot().sourceline, tree.getroot().get("id"),
                                                    "the file holds no process"))
        return
    ok = True
    for proc in executable:
        pid = proc.get("id")
        try:
            spec = parser.get_spec(pid)
            subs = parser.get_subprocess_specs(pid)
            missing = [name for name, s in subs.items() if s is None]
            if missing:
                raise _Located(pid, f"called process not found: {', '.join(missing)}")
            for s in subs.values():
                parser.annotate(s)
            BpmnWorkflow(spec, subs)  # catches ids that clash with internal specs, missing connections
        except _Located as exc:
            _report(result, reported, path, BpmnProblem(str(path), lines.get(exc.element), exc.element, exc.message))
            ok = False
            continue
        except Exception as exc:  # noqa: BLE001
            _report(result, reported, path, problem_from_exception(exc, str(path), lines))
            ok = False
            continue
        info = _process_info(parser, pid, spec, subs, path.name)
        ok &= _check_tasks(spec, path, lines, reported, result, info)
        result.processes[pid] = info
    if ok:
        result.files[path.name] = data


class _Located(Exception):
    def __init__(self, element, message):
        super().__init__(message)
        self.element, self.message = element, message


def _check_tasks(spec, path, lines, reported, result, info) -> bool:
    from SpiffWorkflow.bpmn.specs.defaults import UserTask as _DefaultUser  # noqa: F401
    ok = True
    for ts in spec.task_specs.values():
        if not getattr(ts, "manual", False):
            continue
        meta = task_meta(ts)
        bpmn_id = getattr(ts, "bpmn_id", None)
        if meta.form and meta.form not in result.forms:
            _report(result, reported, path, BpmnProblem(str(path), lines.get(bpmn_id), bpmn_id,
                                                        f"form '{meta.form}' not found in forms/"))
            ok = False
        if not meta.groups and not meta.users:
            _report(result, reported, path, BpmnProblem(str(path), lines.get(bpmn_id), bpmn_id,
                                                        "user task has no candidate group and no lane", "warning"))
    if info.start_form and info.start_form not in result.forms:
        _report(result, reported, path, BpmnProblem(str(path), None, info.process_id,
                                                    f"start form '{info.start_form}' not found in forms/"))
        ok = False
    return ok
