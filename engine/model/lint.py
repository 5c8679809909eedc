"""Lint: diagrams that run but are easy to misread or likely wrong, reported by `onewindow check` as warnings
(`--strict` makes them errors). Each finding names its rule, e.g. `lint: ... [no-default-flow]`.

Why separate from the errors: a file with an implicit split or an overlapping shape still runs exactly as drawn,
so deploying it must stay possible; but a clerk reading the diagram, or the next designer changing it, is misled.
The rules read the parsed XML only (semantics and diagram interchange), never the library's specs.
"""
from __future__ import annotations

from collections import defaultdict

from .bpmn import NS, SPIFF_NS, Locator, read_task_meta
from ..errors import BpmnProblem

BPMN = "{%s}" % NS["bpmn"]
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"

ACTIVITIES = frozenset({"task", "userTask", "serviceTask", "scriptTask", "manualTask", "businessRuleTask", "sendTask",
                        "receiveTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"})
EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"})
GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
                      "complexGateway"})
FLOW_NODES = ACTIVITIES | EVENTS | GATEWAYS
CONTAINERS = frozenset({"process", "subProcess", "transaction", "adHocSubProcess"})
SHAPED = FLOW_NODES | {"dataObjectReference", "dataStoreReference"}  # shapes that must not overlap

RULES = {
    "implicit-split": "an activity or event with several outgoing flows splits without a gateway",
    "implicit-join": "an activity or event with several incoming flows joins without a gateway",
    "parallel-split-without-join": "the branches of a parallel split never meet at a join",
    "no-default-flow": "an exclusive or inclusive split without a default flow",
    "unlabelled-condition": "a conditional flow without a name",
    "no-group": "a user task nobody is offered (no candidate group, user or lane)",
    "unreachable": "an element no path from a start event reaches",
    "no-diagram": "a process, lane, element or flow without diagram data",
    "overlapping-shapes": "shapes that overlap in the diagram, or lie outside their pool",
}
DIAGRAM_RULES = {"overlapping-shapes": "overlapping shape(s)", "unlabelled-condition": "unlabelled condition(s)",
                 "no-diagram": "element(s) without diagram data"}


def tally(findings) -> dict[str, int]:
    """How many findings of each diagram rule (`onewindow check` prints them, so a clean catalogue says 0)."""
    return {rule: sum(str(f).endswith(f"[{rule}]") for f in findings) for rule in DIAGRAM_RULES}


def local_name(el) -> str:
    """The local name of a BPMN element ('' for extensions such as `zeebe:userTask`, comments, DI)."""
    tag = el.tag if isinstance(el.tag, str) else ""
    return tag[len(BPMN):] if tag.startswith(BPMN) else ""


class _Graph:
    """The sequence-flow graph of one container (a process or a subprocess): its own nodes and flows."""

    def __init__(self, container):
        self.container = container
        self.nodes = {el.get("id"): el for el in container if local_name(el) in FLOW_NODES and el.get("id")}
        self.flows = [el for el in container if local_name(el) == "sequenceFlow"]
        self.outgoing: dict[str, list] = defaultdict(list)
        self.incoming: dict[str, list] = defaultdict(list)
        for f in self.flows:
            self.outgoing[f.get("sourceRef")].append(f)
            self.incoming[f.get("targetRef")].append(f)

    def successors(self, node_id: str) -> list[str]:
        return [f.get("targetRef") for f in self.outgoing.get(node_id, [])]


def _containers(process) -> list:
    """The process and every subprocess in it (each has its own flows)."""
    return [process] + [el for el in process.iter() if local_name(el) in CONTAINERS and el is not process]


def lint(tree, where: Locator) -> list[BpmnProblem]:
    """Every lint finding of one parsed BPMN file, in document order per rule."""
    root = tree.getroot()
    processes = root.findall("bpmn:process", NS)
    out: list[BpmnProblem] = []
    warn = lambda el, rule, text: out.append(where.problem(el, f"lint: {text} [{rule}]", "warning"))  # noqa: E731
    for process in processes:
        graphs = [_Graph(c) for c in _containers(process)]
        for g in graphs:
            _gateways_and_flows(g, warn)
        _user_tasks(process, warn)
        _unreachable(process, graphs, warn)
    _diagram(root, processes, where, warn)
    return out


def lint_dmn(tree, where: Locator) -> list[BpmnProblem]:
    """A DMN file's diagram data: every decision (and input, knowledge source, model) drawn in a DMNDI diagram,
    so bpmn.io's DMN editor opens it with its requirements diagram."""
    root = tree.getroot()
    drawn = {s.get("dmnElementRef") for s in root.iter("{*}DMNShape")}
    return [where.problem(el, f"lint: this {el.tag.split('}')[-1]} has no shape in the decision requirements "
                              "diagram (DMNDI) [no-diagram]", "warning")
            for el in root
            if isinstance(el.tag, str) and el.tag.split("}")[-1] in DRG_ELEMENTS and el.get("id") not in drawn]


DRG_ELEMENTS = frozenset({"decision", "inputData", "knowledgeSource", "businessKnowledgeModel"})


# ---------------------------------------------------------------- structure
def _gateways_and_flows(g: _Graph, warn) -> None:
    for node_id, el in g.nodes.items():
        kind = local_name(el)
        outs, ins = g.outgoing.get(node_id, []), g.incoming.get(node_id, [])
        if kind not in GATEWAYS:
            if len(outs) > 1:
                warn(el, "implicit-split", f"{len(outs)} flows leave this {kind} without a gateway (implicit split); "
                                           "split with a gateway so the diagram says how")
            if len(ins) > 1:
                warn(el, "implicit-join", f"{len(ins)} flows enter this {kind} without a gateway (implicit join); "
                                          "merge them with a gateway")
            continue
        if kind == "parallelGateway" and len(outs) > 1 and not _joined(g, node_id):
            warn(el, "parallel-split-without-join", "parallel split whose branches never meet at a join gateway; "
                                                    "each branch runs to its own end")
        if kind in ("exclusiveGateway", "inclusiveGateway") and len(outs) > 1 and not el.get("default"):
            what = "exclusive" if kind == "exclusiveGateway" else "inclusive"
            warn(el, "no-default-flow", f"{what} split without a default flow; a case matching no condition stops "
                                        "here with an error")
    for f in g.flows:
        cond = f.find("bpmn:conditionExpression", NS)
        if cond is not None and (cond.text or "").strip() and not (f.get("name") or "").strip():
            warn(f, "unlabelled-condition", "conditional flow without a name; label it with the condition in words")


def _reach(g: _Graph, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        todo.extend(g.successors(n))
    return seen


def _joined(g: _Graph, split_id: str) -> bool:
    """True when at least two branches of the split reach one joining gateway (parallel, inclusive or complex)."""
    reached = [_reach(g, f.get("targetRef")) for f in g.outgoing.get(split_id, [])]
    kinds = ("parallelGateway", "inclusiveGateway", "complexGateway")
    joins = {n for n, el in g.nodes.items() if local_name(el) in kinds and len(g.incoming.get(n, [])) > 1}
    return any(sum(j in r for r in reached) >= 2 for j in joins)


def _user_tasks(process, warn) -> None:
    lanes = {ref.text.strip(): lane.get("name") or lane.get("id")
             for lane in process.iter(BPMN + "lane") for ref in lane.iterfind("bpmn:flowNodeRef", NS) if ref.text}
    for task in process.iter(BPMN + "userTask"):
        props = {p.get("name"): p.get("value", "") for p in task.iterfind(
            f"bpmn:extensionElements/{{{SPIFF_NS}}}properties/{{{SPIFF_NS}}}property", NS) if p.get("name")}
        meta = read_task_meta(task, lanes.get(task.get("id")), {"properties": props})
        if not meta.groups and not meta.users:
            warn(task, "no-group", "user task with no candidate group, no candidate user and no lane: nobody's inbox "
                                   "shows it")


def _unreachable(process, graphs: list[_Graph], warn) -> None:
    """Flow nodes no path reaches: from the process's start events, through subprocesses to their starts, to
    boundary events of reached activities, from link throws to link catches of the same name."""
    by_container = {id(g.container): g for g in graphs}
    nodes = {n: el for g in graphs for n, el in g.nodes.items()}
    links: dict[str, list[str]] = defaultdict(list)  # link name -> catching event ids
    boundary: dict[str, list[str]] = defaultdict(list)  # activity id -> its boundary events
    for n, el in nodes.items():
        link = el.find("bpmn:linkEventDefinition", NS)
        if local_name(el) == "intermediateCatchEvent" and link is not None:
            links[link.get("name") or ""].append(n)
        if local_name(el) == "boundaryEvent":
            boundary[el.get("attachedToRef")].append(n)

    def starts(container) -> list[str]:
        g = by_container.get(id(container))
        out = [n for n, el in g.nodes.items() if local_name(el) == "startEvent"] if g else []
        # event subprocesses are started by their events, not by a flow
        out += [n for n, el in (g.nodes.items() if g else []) if local_name(el) in CONTAINERS
                and el.get("triggeredByEvent") == "true"]
        # compensation handlers are reached by association, not by a flow
        out += [n for n, el in (g.nodes.items() if g else []) if el.get("isForCompensation") == "true"]
        return out

    seen: set[str] = set()
    todo = starts(process)
    while todo:
        n = todo.pop()
        if n in seen or n not in nodes:
            continue
        seen.add(n)
        el = nodes[n]
        g = by_container[id(el.getparent())]
        todo.extend(g.successors(n))
        todo.extend(boundary.get(n, []))
        if local_name(el) in CONTAINERS:
            todo.extend(starts(el))
        link = el.find("bpmn:linkEventDefinition", NS)
        if local_name(el) == "intermediateThrowEvent" and link is not None:
            todo.extend(links.get(link.get("name") or "", []))
    for n, el in nodes.items():
        if n not in seen and not _inside_unreached(el, seen, process):
            warn(el, "unreachable", "no path from a start event reaches this element")


def _inside_unreached(el, seen: set[str], process) -> bool:
    """True inside a subprocess that is itself unreached (reported once, at the subprocess)."""
    parent = el.getparent()
    while parent is not None and parent is not process:
        if local_name(parent) in CONTAINERS and parent.get("id") not in seen:
            return True
        parent = parent.getparent()
    return False


# ---------------------------------------------------------------- diagram interchange
def _bounds(shape) -> tuple[float, float, float, float] | None:
    b = shape.find(DC + "Bounds")
    try:
        return tuple(float(b.get(k)) for k in ("x", "y", "width", "height")) if b is not None else None
    except (TypeError, ValueError):
        return None


def _diagram(root, processes, where: Locator, warn) -> None:
    planes = list(root.iter(BPMNDI + "BPMNPlane"))
    drawn = {el.get("bpmnElement") for p in planes for el in p if el.get("bpmnElement")}
    drawn |= {p.get("bpmnElement") for p in planes}
    participants = {p.get("processRef") for p in root.iter(BPMN + "participant") if p.get("id") in drawn}
    for process in processes:
        if process.get("id") not in drawn and process.get("id") not in participants:
            warn(process, "no-diagram", "the process has no diagram (no BPMNDI plane): nobody sees a picture of it")
            continue
        for el in process.iter():
            kind = local_name(el)
            if (kind in FLOW_NODES or kind in ("sequenceFlow", "lane")) and el.get("id") not in drawn:
                what = "edge" if kind == "sequenceFlow" else "shape"
                warn(el, "no-diagram", f"this {kind} has no {what} in the diagram")
    for plane in planes:
        _overlaps(plane, where, warn)
        _outside_pools(root, plane, where, warn)


def _outside_pools(root, plane, where: Locator, warn) -> None:
    """A flow element drawn (even partly) outside the pool of its process reads as belonging to no one."""
    shapes = {s.get("bpmnElement"): _bounds(s) for s in plane.iter(BPMNDI + "BPMNShape")}
    for participant in root.iter(BPMN + "participant"):
        pool = shapes.get(participant.get("id"))
        process = where.by_id.get(participant.get("processRef") or "")
        if pool is None or process is None:
            continue
        px, py, pw, ph = pool
        for el in process:
            box = shapes.get(el.get("id")) if local_name(el) in SHAPED else None
            if box is None:
                continue
            x, y, w, h = box
            if x < px - 1 or y < py - 1 or x + w > px + pw + 1 or y + h > py + ph + 1:
                warn(el, "overlapping-shapes", f"its shape lies outside its pool {participant.get('id')} in the "
                                               "diagram")


def _overlaps(plane, where: Locator, warn) -> None:
    shapes = []
    for shape in plane.iter(BPMNDI + "BPMNShape"):
        el = where.by_id.get(shape.get("bpmnElement"))
        box = _bounds(shape)
        if el is not None and box is not None and local_name(el) in SHAPED:
            shapes.append((el, box))
    for i, (el, (x, y, w, h)) in enumerate(shapes):
        for other, (ox, oy, ow, oh) in shapes[:i]:
            dx = min(x + w, ox + ow) - max(x, ox)
            dy = min(y + h, oy + oh) - max(y, oy)
            if dx > 1 and dy > 1 and not _may_overlap(el, other):
                warn(el, "overlapping-shapes", f"its shape overlaps the shape of {other.get('id')} in the diagram")
                break


def _may_overlap(a, b) -> bool:
    """A boundary event sits on its activity's border; an expanded subprocess contains its own elements."""
    for x, y in ((a, b), (b, a)):
        if local_name(x) == "boundaryEvent" and x.get("attachedToRef") == y.get("id"):
            return True
        if local_name(y) in CONTAINERS and any(p is y for p in x.iterancestors()):
            return True
    return False
