"""The process catalogue on disk: every BPMN/DMN file in `processes/` and form in `forms/`,
checked the way `onewindow check` reports it (FILE:LINE: ELEMENT_ID: message).

Everything that can go wrong with a process shows here, at load time, never while a case runs:
unsafe XML, the BPMN XSD, structural errors the library only finds in `get_spec()`, reserved ids,
expressions and scripts the sandbox would refuse (each parsed in the language its file declares:
`<language> expression: what is wrong at column N`), and forms a task refers to that do not exist.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask

from .bpmn import (NS, RESERVED_IDS, Locator, OneWindowParser, dialect_problems, one_line, parse_xml,
                   problem_from_exception, read_task_meta, task_meta, xsd_errors)
from ..errors import BpmnProblem
from . import limitcheck, rulecheck
from .guide import check_guide, guide_of
from .forms import FormError, load_form
from . import expressions
from .expressions import PYTHON, label
from .expressions.dialect import Written, any_cell, bpmn_sources, dmn_cells, refusal
from .lint import lint, lint_dmn
from .sandbox import check_source

ROOT = Path(__file__).resolve().parents[2]
PROCESSES_DIR = Path(os.environ.get("ONEWINDOW_PROCESSES", ROOT / "processes"))
FORMS_DIR = Path(os.environ.get("ONEWINDOW_FORMS", ROOT / "forms"))

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
    guides: dict[str, dict] = field(default_factory=dict)  # process id -> its service guide
    checked_files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


MODEL_SUFFIXES = (".bpmn", ".dmn", ".xml")


@dataclass
class _Run:
    """One check: the result being filled and the resolved paths whose problems are reported."""

    result: CheckResult
    reported: set[Path]

    def wants(self, path: Path) -> bool:
        return path.resolve() in self.reported

    def report(self, path: Path, problem: BpmnProblem) -> None:
        """Record a problem of a reported file, as one line under the path the user gave."""
        if not self.wants(path):
            return
        problem.file, problem.message = str(path), one_line(problem.message)
        problem.line = problem.line or 1
        (self.result.warnings if problem.severity == "warning" else self.result.problems).append(problem)


def _static_problems(tree, where: Locator) -> list[BpmnProblem]:
    """Reserved ids and sandbox refusals, found before the library sees the file."""
    out = [where.problem(el, "this id is reserved by the engine; rename the element")
           for el in tree.iter() if isinstance(el.tag, str) and el.get("id") in RESERVED_IDS]
    for el, written in bpmn_sources(tree.getroot()):
        message = expression_problem(written)
        if message:
            out.append(where.problem(el, message))
    return out + _dangling_flows(tree, where) + dialect_problems(tree, where) + limitcheck.problems(tree, where)


def expression_problem(written: Written, role: str = "", python: str | None = None) -> str | None:
    """Why one expression is refused, as `<language> expression: what is wrong at column N`; None if accepted.

    `python` is the source the sandbox would compile when it differs from the text (a DMN input entry).
    """
    if written.literal:
        return None
    if not written.supported:
        return refusal(written)
    what = "script" if written.kind == "script" else "expression"
    head = f"{label(written.language)} {what}{f' ({role})' if role else ''}"
    if written.language == PYTHON:
        return _python_problem(head, python or written.text, written.kind)
    exc = expressions.check(expressions.TESTS if written.kind == "tests" else written.language, written.text)
    return f"{head}: {exc}" if exc else None


def _python_problem(head: str, source: str, kind: str) -> str | None:
    refused = check_source(source, "script" if kind == "script" else "expression")
    if not refused:
        return None
    try:
        compile(source.strip() if kind != "script" else source, "<expression>", "exec" if kind == "script" else "eval")
    except SyntaxError as exc:
        lines = (source.strip() if kind != "script" else source).split("\n")
        line = min(max(exc.lineno or 1, 1), len(lines))
        column = exc.offset if exc.offset else len(lines[line - 1]) + 1  # 0: the text ended too early
        where = f"at column {column}" if line == 1 else f"at line {line}, column {column}"
        return f"{head}: {exc.msg} {where}"
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"{head}: {exc}"
    return f"{head}: {re.sub(r'^(expression|script) refused', 'refused', refused)}"


def _dangling_flows(tree, where: Locator) -> list[BpmnProblem]:
    """Sequence flows whose source or target names no element (the library reports them misleadingly)."""
    out = []
    for flow in tree.getroot().iterfind(".//bpmn:sequenceFlow", NS):
        for attr in ("sourceRef", "targetRef"):
            ref = flow.get(attr)
            if ref and ref not in where.by_id:
                out.append(where.problem(flow, f"sequence flow {attr} '{ref}' names no element in this file"))
    return out


def _process_info(parser: OneWindowParser, pid: str, spec, subs: dict, file: str) -> ProcessInfo:
    """What deploy needs to know about one process: calls, decisions and forms (its embedded subprocesses' too)."""
    info = ProcessInfo(pid, spec.description or pid, file)
    node = parser.get_process_parser(pid).node
    start = node.find("bpmn:startEvent", NS)
    if start is not None:
        info.start_form = read_task_meta(start, None, {}).form
    for rule in node.iterfind(".//bpmn:businessRuleTask", NS):  # the decision id, as the DMN file declares it
        ref = rule.get(f"{{{NS['camunda']}}}decisionRef") or rule.findtext(
            "bpmn:extensionElements/spiffworkflow:calledDecisionId", namespaces=NS)
        if ref and ref.strip():
            info.decisions.add(ref.strip())
    for ts in _own_task_specs(spec, subs, file):
        if isinstance(ts, SubWorkflowTask):
            info.calls.add(ts.spec)
        meta = task_meta(ts)
        if meta.form:
            info.forms.add(meta.form)
    if info.start_form:
        info.forms.add(info.start_form)
    return info


def _own_task_specs(spec, subs: dict, file: str):
    """Task specs of the process and of the subprocesses defined in the same file (embedded ones)."""
    yield from spec.task_specs.values()
    for sub in subs.values():
        if sub is not None and getattr(sub, "file", None) == file:
            yield from sub.task_specs.values()


def _form_name(path: Path) -> str:
    return path.name[: -len(".json")] if path.name.endswith(".json") else path.stem


def _check_forms(paths: list[Path], run: _Run) -> None:
    """Load every form (later paths override earlier ones of the same name); report the broken ones."""
    for path in paths:
        name = _form_name(path)
        element = name if name and not any(c.isspace() for c in name) else None
        try:
            data = path.read_bytes()
            load_form(data.decode("utf-8"), name)
        except OSError as exc:
            run.report(path, BpmnProblem(str(path), 1, element, f"cannot read: {exc.strerror}"))
        except UnicodeDecodeError:
            run.report(path, BpmnProblem(str(path), 1, element, f"form {name}: not UTF-8 text"))
        except FormError as exc:
            run.report(path, BpmnProblem(str(path), exc.line, element, str(exc)))
        else:
            run.result.forms[name] = data


def _unique(paths) -> list[Path]:
    """Paths in order, each file once."""
    seen: dict[Path, Path] = {}
    for p in paths:
        seen.setdefault(p.resolve(), p)
    return list(seen.values())


def _expand(path: Path):
    """A directory stands for the model and form files in it (`onewindow check processes/`)."""
    if path.is_dir():
        yield from sorted(p for p in path.iterdir() if p.suffix in MODEL_SUFFIXES + (".json",))
    else:
        yield path


def check(paths: list[str] | None = None, processes_dir: Path | None = None, forms_dir: Path | None = None,
          strict: bool = False) -> CheckResult:
    """Check the catalogue, or just `paths` (resolving calls and forms against the catalogue).

    Only the checked files' problems are reported. Given files take precedence over catalogue
    files defining the same process ids or form names. `strict` turns every warning (lint, guide)
    into an error, so the result is not ok while any remains.
    """
    processes_dir = Path(processes_dir or PROCESSES_DIR)
    forms_dir = Path(forms_dir or FORMS_DIR)
    catalogue = sorted(p for p in processes_dir.glob("*") if p.suffix in MODEL_SUFFIXES[:2])
    form_files = sorted(forms_dir.glob("*.json"))
    targets = _unique(f for p in paths for f in _expand(Path(p))) if paths else catalogue + form_files
    run = _Run(CheckResult(), {p.resolve() for p in targets})
    for p in targets:
        if not p.exists():
            run.report(p, BpmnProblem(str(p), 1, None, "no such file or directory"))
        elif p.suffix not in MODEL_SUFFIXES + (".json",):
            run.report(p, BpmnProblem(str(p), 1, None, "not a BPMN (.bpmn/.xml), DMN (.dmn) or form (.json) file"))
    present = [p for p in targets if p.exists()]
    _check_forms(_unique(form_files + [p for p in present if p.suffix == ".json"]), run)
    _check_models(_unique([p for p in present if p.suffix in MODEL_SUFFIXES] + catalogue), run)
    run.result.checked_files = len(targets)
    if strict:
        for warning in run.result.warnings:
            warning.severity = "error"
        run.result.problems += run.result.warnings
        run.result.problems.sort(key=lambda p: (str(p.file), p.line or 0))
        run.result.warnings = []
    return run.result


def _read_model(path: Path, run: _Run):
    """Read and safely parse one model file; report why not and return None when it cannot be."""
    try:
        data = path.read_bytes()
        return data, parse_xml(data, str(path))
    except BpmnProblem as exc:
        run.report(path, exc)
    except OSError as exc:
        run.report(path, BpmnProblem(str(path), 1, None, f"cannot read: {exc.strerror}"))
    return None


def _dmn_problems(tree, where: Locator) -> list[BpmnProblem]:
    """Every cell of every decision table, parsed in its language and reported with its cell's id.

    Python cells are checked as SpiffWorkflow's DMNEngine will run them: an input entry as
    `(input) == (entry)` when it is an expression by itself, else as the input followed by the entry
    (`< 12`), with `?` standing for the input. FEEL input entries are unary tests (`-` is any input).
    """
    out = []
    for _table, inputs, rules in dmn_cells(tree.getroot()):
        for expr_el, _text_el, written in inputs:
            message = expression_problem(written, "input expression") if written and written.text else None
            if message:
                out.append(where.problem(expr_el, message))
        for _rule, cells in rules:
            column = 0
            for entry, _text_el, written in cells:
                if written.kind == "tests":
                    idx, column = column, column + 1
                    if any_cell(written.text) or idx >= len(inputs):
                        continue
                    source = None
                    if written.language == PYTHON:
                        source = _dmn_input_test(inputs[idx][2].text if inputs[idx][2] else "", written.text)
                    message = expression_problem(written, "input entry", source)
                    if message and written.language == PYTHON and expressions.check(expressions.TESTS, written.text) is None:
                        message += ("; it reads as FEEL: declare expressionLanguage=\"https://www.omg.org/spec/DMN/"
                                    "20191111/FEEL/\" on the definitions")
                elif written.text:
                    message = expression_problem(written, "output entry")
                else:
                    continue
                if message:
                    out.append(where.problem(entry, message))
    return out


def _dmn_input_test(input_expr: str, entry: str) -> str:
    """The expression DMNEngine.evaluate builds for one input entry."""
    entry = re.sub(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)", "dmninputexpr", entry)
    if "dmninputexpr" in entry:
        return entry
    try:
        compile(entry.strip(), "<entry>", "eval")
    except SyntaxError:
        return input_expr + entry
    return f"({input_expr}) == ({entry})"


def _add_dmn(parser, path: Path, data: bytes, tree, where: Locator, run: _Run) -> None:
    problems = _dmn_problems(tree, where)
    for problem in problems:
        run.report(path, problem)
    if problems:
        return
    try:
        parser.add_dmn_xml(tree.getroot(), filename=path.name)
    except Exception as exc:  # noqa: BLE001 - any library error becomes a located problem
        run.report(path, problem_from_exception(exc, where))
        return
    if run.wants(path):
        for warning in lint_dmn(tree, where):
            run.report(path, warning)
    for dec in tree.getroot().iter("{*}decision"):
        run.result.decision_files[dec.get("id")] = path.name
    run.result.files[path.name] = data


def _dmn_shadowed(run: _Run, tree) -> bool:
    """True when a decision of this (catalogue) DMN file is already defined by a checked file."""
    return any(d.get("id") in run.result.decision_files for d in tree.getroot().iter("{*}decision"))


def _shadowed(parser, tree) -> bool:
    """True when a process of this (catalogue) file is already defined by a checked file."""
    return any(p.get("id") in parser.process_parsers for p in tree.getroot().iterfind("bpmn:process", NS))


def _check_models(paths: list[Path], run: _Run) -> None:
    parser = OneWindowParser()
    loaded = []
    for path in paths:
        read = _read_model(path, run)
        if read is None:
            continue
        data, tree = read
        where = Locator(tree, str(path))
        if path.suffix == ".dmn":
            if not run.wants(path) and _dmn_shadowed(run, tree):
                continue
            _add_dmn(parser, path, data, tree, where, run)
            continue
        if not run.wants(path) and _shadowed(parser, tree):
            continue
        errors = xsd_errors(tree, str(path)) + _static_problems(tree, where)
        for e in errors:
            run.report(path, e)
        if errors:
            continue
        if run.wants(path):
            for warning in lint(tree, where):
                run.report(path, warning)
        try:
            parser.add_bpmn_xml(tree, filename=path.name)
        except Exception as exc:  # noqa: BLE001
            run.report(path, problem_from_exception(exc, where))
            continue
        loaded.append((path, tree, data, where))
    for path, tree, data, where in loaded:
        _check_processes(parser, path, tree, data, where, run)


class _Located(Exception):
    def __init__(self, elements: list, message: str):
        super().__init__(message)
        self.elements, self.message = elements, message


def _build(parser, proc):
    """Spec and subprocess specs of one process; a workflow is created once to catch what only shows then."""
    pid = proc.get("id")
    for call in proc.iterfind(".//bpmn:callActivity", NS):
        if call.get("calledElement") not in parser.process_parsers:
            raise _Located([call], f"called process not found: {call.get('calledElement')}")
    spec = parser.get_spec(pid)
    subs = parser.get_subprocess_specs(pid)
    missing = sorted(name for name, s in subs.items() if s is None)
    if missing:
        raise _Located([proc], f"called process not found: {', '.join(missing)}")
    for s in subs.values():
        if not getattr(s, "_ow_annotated", False):
            parser.annotate(s)
            s._ow_annotated = True
    BpmnWorkflow(spec, subs)  # catches ids that clash with internal specs, missing connections
    return spec, subs


def _check_processes(parser, path: Path, tree, data: bytes, where: Locator, run: _Run) -> None:
    processes = tree.getroot().findall("bpmn:process", NS)
    executable = [p for p in processes if (p.get("isExecutable") or "").lower() == "true"]
    if not processes:
        run.report(path, where.problem(None, "the file holds no process"))
        return
    if not executable:
        for p in processes:
            run.report(path, where.problem(p, "process is not executable (set isExecutable=\"true\")"))
        return
    ok = True
    for proc in executable:
        try:
            spec, subs = _build(parser, proc)
        except _Located as exc:
            for el in exc.elements:
                run.report(path, where.problem(el, exc.message))
            ok = False
            continue
        except Exception as exc:  # noqa: BLE001
            run.report(path, problem_from_exception(exc, where, fallback=proc))
            ok = False
            continue
        info = _process_info(parser, proc.get("id"), spec, subs, path.name)
        ok &= _check_tasks(spec, subs, path, where, run, info)
        ok &= _check_rules(proc, spec, subs, path, where, run)
        for problem in check_guide(proc, str(path), {k: el.sourceline for k, el in where.by_id.items()}):
            run.report(path, problem)
            ok &= problem.severity == "warning"
        run.result.processes[info.process_id] = info
        if run.wants(path):
            run.result.guides[info.process_id] = guide_of(proc)
    if ok:
        run.result.files[path.name] = data


def _check_rules(proc, spec, subs, path: Path, where: Locator, run: _Run) -> bool:
    """The one-window rules the tasks declare, and the tasks a matter under those rules must have."""
    problems = [where.problem(where.by_id.get(element), msg)
                for element, msg in rulecheck.task_problems(_own_task_specs(spec, subs, path.name))]
    problems += [where.problem(proc, f"window rules: {msg}")
                 for msg in rulecheck.matter_problems(proc.get("id"), spec, subs, guide_of(proc))]
    for problem in problems:
        run.report(path, problem)
    return not problems


def _check_tasks(spec, subs, path: Path, where: Locator, run: _Run, info: ProcessInfo) -> bool:
    """Forms the user tasks (and the start event) name must exist (tasks without a group: engine.model.lint)."""
    ok = True
    for ts in _own_task_specs(spec, subs, path.name):
        if not getattr(ts, "manual", False):
            continue
        meta, el = task_meta(ts), where.by_id.get(getattr(ts, "bpmn_id", None))
        if meta.form and meta.form not in run.result.forms:
            run.report(path, where.problem(el, f"form '{meta.form}' not found in forms/"))
            ok = False
    if info.start_form and info.start_form not in run.result.forms:
        start = _start_element(where, info.process_id)
        run.report(path, where.problem(start, f"start form '{info.start_form}' not found in forms/"))
        ok = False
    return ok


def _start_element(where: Locator, pid: str):
    """The start event of process `pid` (or the process element itself)."""
    proc = where.by_id.get(pid)
    start = proc.find("bpmn:startEvent", NS) if proc is not None else None
    return start if start is not None else proc
