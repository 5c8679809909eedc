"""Reading BPMN files safely and turning them into SpiffWorkflow specs.

One parser family (SpiffWorkflow's `spiff` dialect) reads files from the designers we support:
SpiffArena's `spiffworkflow:*` extensions are read natively; the Camunda 7 attributes the library
ignores (`camunda:candidateGroups`, `candidateUsers`, `assignee`, `dueDate`, `formKey`,
`camunda:properties`) and their Camunda 8 counterparts (the `zeebe:*` extension elements Camunda
Modeler 5 writes by default) are read here from the XML and normalised into
`task_spec.extensions['ow']`, so the rest of the platform sees one shape whatever tool drew the file.

Expressions are read in the language the file declares (expressions.dialect): before the library sees
a file, each JUEL or FEEL expression is tagged with its language, so conditions, timers and decision
table cells reach the sandbox as written, here and in every rebuild of the specs (replay, verify).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from ..errors import BpmnProblem
from .dmn import CellParser, TableEngine
from .expressions.dialect import mark_bpmn, mark_dmn

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"  # Camunda 8 ("Camunda Cloud" in Camunda Modeler 5)
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "spiffworkflow": SPIFF_NS, "zeebe": ZEEBE_NS}

# Ids the engine uses for its own internal task specs; a BPMN element with one of them breaks
# workflow creation later ("No output task connected"), so we refuse them up front.
RESERVED_IDS = {"Start", "End", "Root"}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_xml(data: bytes, file: str) -> etree._ElementTree:
    """Parse untrusted XML: no entities, no network, no DOCTYPE at all."""
    upper = data.upper()
    for needle in (b"<!DOCTYPE", b"<!ENTITY"):
        if needle in upper:
            raise BpmnProblem(file, _line_of(upper, needle), None, "DOCTYPE/ENTITY declarations are not allowed")
    try:
        tree = etree.ElementTree(etree.fromstring(data, _PARSER))
    except etree.XMLSyntaxError as exc:
        raise BpmnProblem(file, exc.lineno or 1, None, one_line(f"not well-formed XML: {exc.msg}")) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:  # e.g. UTF-16 input the byte scan missed
        raise BpmnProblem(file, 1, None, "DOCTYPE/ENTITY declarations are not allowed")
    return tree


def _line_of(data: bytes, needle: bytes) -> int:
    pos = data.find(needle)
    return data.count(b"\n", 0, max(pos, 0)) + 1


def one_line(text: str) -> str:
    """Collapse all whitespace (newlines included) so a message fits on one output line."""
    return " ".join(str(text).split())


def id_lines(tree) -> dict[str, int]:
    """Map every element id to its source line, to locate problems the library reports by id."""
    return {el.get("id"): el.sourceline for el in tree.iter() if isinstance(el.tag, str) and el.get("id")}


def _printable(element_id: str | None) -> bool:
    return bool(element_id) and not any(c.isspace() for c in element_id)


class Locator:
    """Turns an element (or an id, or a message) of one parsed file into a located BpmnProblem."""

    def __init__(self, tree, file: str):
        self.root, self.file = tree.getroot(), file
        self.by_id: dict[str, object] = {}
        self.by_line: dict[int, object] = {}
        for el in tree.iter():
            if isinstance(el.tag, str):
                self.by_line.setdefault(el.sourceline, el)
                if el.get("id"):
                    self.by_id.setdefault(el.get("id"), el)

    def problem(self, el, message: str, severity: str = "error", line: int | None = None) -> BpmnProblem:
        """Report at `el`'s nearest element with a printable id (itself or an ancestor), else the root."""
        el = self.root if el is None else el
        while el is not None and not _printable(el.get("id") if isinstance(el.tag, str) else None):
            el = el.getparent()
        element_id = el.get("id") if el is not None else None
        line = line or (el if el is not None else self.root).sourceline or 1
        return BpmnProblem(self.file, line, element_id, one_line(message), severity)

    def mentioned(self, message: str):
        """The element a library message names by id (or, failing that, by name), if any."""
        words = set(re.findall(r"[\w.:-]+", message))
        for element_id, el in self.by_id.items():
            if element_id in words:
                return el
        named = [el for el in self.root.iter() if isinstance(el.tag, str) and len(el.get("name") or "") > 1]
        return next((el for el in named if el.get("name") in message), None)


_VALIDATOR: BpmnValidator | None = None


def xsd_errors(tree, file: str, limit: int = 5) -> list[BpmnProblem]:
    """Check the file against the BPMN 2.0 XSD shipped with SpiffWorkflow (at most `limit` problems)."""
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = BpmnValidator()
    schema = _VALIDATOR.validator
    if schema.validate(tree):
        return []
    where = Locator(tree, file)
    return [where.problem(where.by_line.get(err.line), f"BPMN schema: {err.message}", line=err.line)
            for err in list(schema.error_log)[:limit]]


@dataclass
class TaskMeta:
    """What the platform needs to know about a user task, whatever dialect declared it."""

    form: str | None = None
    groups: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    due: str | None = None
    properties: dict = field(default_factory=dict)


def form_name(ref: str | None) -> str | None:
    """`forms/intake.json`, `intake.schema.json`, `camunda-forms:intake` all name the form `intake`."""
    if not ref:
        return None
    ref = ref.strip()
    for prefix in ("camunda-forms:deployment:", "camunda-forms:", "embedded:deployment:", "deployment:"):
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
    ref = os.path.basename(ref)
    for suffix in (".schema.json", ".json", ".form"):
        if ref.endswith(suffix):
            ref = ref[: -len(suffix)]
    return ref or None


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _zeebe(node, name: str):
    """A Camunda 8 extension element of a task (`zeebe:<name>` under extensionElements), or None."""
    return node.find(f"bpmn:extensionElements/zeebe:{name}", NS)


def _zeebe_attr(node, element: str, attr: str) -> str | None:
    el = _zeebe(node, element)
    return el.get(attr) if el is not None else None


def read_task_meta(node, lane: str | None, spiff_ext: dict) -> TaskMeta:
    """Normalise the designer's declarations on one task element (SpiffArena, Camunda 7 or Camunda 8).

    Camunda 8 counterparts: `zeebe:assignmentDefinition` (candidateGroups, candidateUsers, assignee) for
    `camunda:candidateGroups`/`candidateUsers`/`assignee`; `zeebe:formDefinition` (formKey or formId) for
    `camunda:formKey`; `zeebe:taskSchedule dueDate` for `camunda:dueDate`; `zeebe:taskHeaders` and
    `zeebe:properties` for `camunda:properties`. An assignee is offered the task as a candidate user.
    """
    camunda = lambda name: node.get(f"{{{CAMUNDA_NS}}}{name}")  # noqa: E731
    assignment = lambda attr: _zeebe_attr(node, "assignmentDefinition", attr)  # noqa: E731
    props = dict(spiff_ext.get("properties") or {})
    for header in node.iterfind("bpmn:extensionElements/zeebe:taskHeaders/zeebe:header", NS):
        if header.get("key"):
            props[header.get("key")] = header.get("value", "")
    for xpath in ("bpmn:extensionElements/camunda:properties/camunda:property",
                  "bpmn:extensionElements/zeebe:properties/zeebe:property"):
        for prop in node.iterfind(xpath, NS):
            if prop.get("name"):
                props[prop.get("name")] = prop.get("value", "")
    form = form_name(camunda("formKey") or _zeebe_attr(node, "formDefinition", "formKey")
                     or _zeebe_attr(node, "formDefinition", "formId")
                     or props.get("formJsonSchemaFilename") or props.get("form"))
    groups = (_split(camunda("candidateGroups")) or _split(assignment("candidateGroups"))
              or _split(props.get("candidateGroups")) or ([lane] if lane else []))
    users = (_split(camunda("candidateUsers")) or _split(assignment("candidateUsers"))
             or _split(props.get("candidateUsers")))
    assignee = (camunda("assignee") or assignment("assignee") or "").strip()
    if assignee and assignee not in users:
        users = [assignee, *users]
    due = camunda("dueDate") or _zeebe_attr(node, "taskSchedule", "dueDate") or props.get("dueDate")
    return TaskMeta(form=form, groups=groups, users=users, due=due, properties=props)


# Camunda 8 attributes that name groups, users, forms and called processes; they may be FEEL expressions
# (a leading `=`), which are evaluated per case by Zeebe and which we cannot honour statically.
_ZEEBE_STATIC = [("assignmentDefinition", ("candidateGroups", "candidateUsers", "assignee")),
                 ("formDefinition", ("formKey", "formId")), ("calledElement", ("processId",))]


def dialect_problems(tree, where: "Locator") -> list[BpmnProblem]:
    """Camunda 8 declarations we cannot run: a FEEL expression where we need a static name."""
    out = []
    for element, attrs in _ZEEBE_STATIC:
        for el in tree.getroot().iterfind(f".//zeebe:{element}", NS):
            for attr in attrs:
                value = (el.get(attr) or "").strip()
                if value.startswith("="):
                    out.append(where.problem(el.getparent().getparent(), f"zeebe:{element} {attr} is a FEEL "
                                             f"expression ({value}); give a static value (e.g. a group name)"))
    return out


def normalise_calls(tree) -> None:
    """Give Camunda 8 call activities (`zeebe:calledElement processId`) the `calledElement` attribute the
    library reads, so a called process is found whatever dialect named it."""
    root = tree.getroot() if hasattr(tree, "getroot") else tree
    for call in root.iterfind(".//bpmn:callActivity", NS):
        if not call.get("calledElement"):
            process_id = _zeebe_attr(call, "calledElement", "processId")
            if process_id and not process_id.strip().startswith("="):
                call.set("calledElement", process_id.strip())


class OneWindowParser(SpiffBpmnParser):
    """SpiffBpmnParser that also keeps the Camunda 7 and 8 declarations the library drops, and reads every
    expression (BPMN and DMN) in the language its file declares."""

    def add_bpmn_xml(self, bpmn, filename=None):
        normalise_calls(bpmn)
        mark_bpmn(bpmn.getroot() if hasattr(bpmn, "getroot") else bpmn)
        super().add_bpmn_xml(bpmn, filename)

    def add_dmn_xml(self, node, filename=None):
        """The library's add_dmn_xml, with cells tagged by language and a parser that keeps them."""
        mark_dmn(node)
        namespaces = self.namespaces.copy()
        namespaces.update(node.nsmap)
        if None in namespaces:
            namespaces["dmn"] = namespaces.pop(None)
        schema = self.dmn_schemas.get(namespaces.get("dmn"))
        if self.validator and schema is not None:
            BpmnValidator(schema).validate(node, filename)
        dmn_parser = CellParser(self, node, namespaces, filename=filename)
        self.dmn_parsers[dmn_parser.bpmn_id] = dmn_parser
        self.dmn_parsers_by_name[dmn_parser.get_name()] = dmn_parser

    def get_engine(self, decision_ref, node):
        engine = super().get_engine(decision_ref, node)
        return TableEngine(engine.decision_table)

    def annotate(self, spec) -> None:
        """Attach normalised TaskMeta (as a dict) to every task spec that came from a BPMN element."""
        parser = self.get_process_parser(spec.name)
        if parser is None:
            return
        nodes = {el.get("id"): el for el in parser.node.iter() if isinstance(el.tag, str) and el.get("id")}
        for ts in spec.task_specs.values():
            node = nodes.get(getattr(ts, "bpmn_id", None))
            if node is None:
                continue
            meta = read_task_meta(node, getattr(ts, "lane", None), getattr(ts, "extensions", None) or {})
            ts.extensions = dict(getattr(ts, "extensions", None) or {})
            ts.extensions["ow"] = meta.__dict__

    def get_spec(self, process_id, required=True):
        spec = super().get_spec(process_id, required)
        if spec is not None and not getattr(spec, "_ow_annotated", False):
            self.annotate(spec)
            spec._ow_annotated = True
        return spec


def task_meta(task_spec) -> TaskMeta:
    data = (getattr(task_spec, "extensions", None) or {}).get("ow")
    return TaskMeta(**data) if data else TaskMeta()


@dataclass
class SpecBundle:
    """A top process spec plus every process it calls, ready to start workflows."""

    process_id: str
    spec: object
    subprocess_specs: dict

    def new_workflow(self, script_engine) -> BpmnWorkflow:
        return BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=script_engine)


def build_specs(files: dict[str, bytes], process_id: str) -> SpecBundle:
    """Parse the given files (BPMN and DMN, by name) and return the specs for one process."""
    parser = OneWindowParser()
    for name, data in files.items():
        tree = parse_xml(data, name)
        if name.endswith(".dmn"):
            parser.add_dmn_xml(tree.getroot(), filename=name)
        else:
            parser.add_bpmn_xml(tree, filename=name)
    spec = parser.get_spec(process_id)
    subs = parser.get_subprocess_specs(process_id)
    for sub in subs.values():
        if sub is not None and not getattr(sub, "_ow_annotated", False):
            parser.annotate(sub)
            sub._ow_annotated = True
    for process in (spec, *subs.values()):
        if process is not None:
            wire_loops(process)
    return SpecBundle(process_id, spec, subs)


def wire_loops(process_spec) -> None:
    """Connect each loop or multi-instance task to the completion of its instances, as the library's spec
    deserializer does.

    The parser leaves that connection to `create_child`, i.e. to the process that started the instances. A case
    restored in another process (the next request on another gunicorn worker, a timer worker) would then finish its
    instances without merging them: the multi-instance never completes and its outputs are lost."""
    for task_spec in process_spec.task_specs.values():
        if isinstance(task_spec, LoopTask):
            child = process_spec.task_specs.get(task_spec.task_spec)
            if child is not None and not child.completed_event.is_connected(task_spec.merge_child):
                child.completed_event.connect(task_spec.merge_child)


def problem_from_exception(exc: Exception, where: Locator, fallback=None) -> BpmnProblem:
    """Locate a library exception by the element id it names (its own line number is always empty).

    Falls back to an element the message mentions, then to `fallback` (the process), then the root.
    """
    element_id = getattr(exc, "id", None) or getattr(exc, "bpmn_id", None)
    task_spec = getattr(exc, "task_spec", None)
    if not element_id and task_spec is not None:
        element_id = getattr(task_spec, "bpmn_id", None)
    msg = one_line(getattr(exc, "error", None) or exc) or type(exc).__name__
    if isinstance(exc, ValidationException):
        msg = msg.split(". Source Details")[0].strip()
    el = where.by_id.get(element_id) if element_id else None
    if el is None:
        el = where.mentioned(msg)
    return where.problem(el if el is not None else fallback, msg or type(exc).__name__)
