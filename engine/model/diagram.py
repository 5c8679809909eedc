"""Render BPMN 2.0 diagram interchange (BPMNDI) as a standalone SVG string.

Why server-side: approval pages must show where a request stands without
shipping a JavaScript modeler, and the result must be safe to inline.  The SVG
is built as an lxml tree (never by string concatenation) so that a name such as
``<script>`` always ends up as escaped text.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Set as AbstractSet

from lxml import etree

from ..messages import Message

SVG_NS = "http://www.w3.org/2000/svg"
FONT = '"Noto Sans CJK SC", "Microsoft YaHei", sans-serif'
PLACEHOLDER = "无图形信息 (no diagram information)"
MARGIN, BAND, TITLE_H, LINE = 20.0, 30.0, 30.0, 1.2  # BAND: pool/lane name strip

SUBPROCESSES = frozenset({"subProcess", "transaction", "adHocSubProcess"})
TASKS = SUBPROCESSES | {"task", "userTask", "serviceTask", "scriptTask", "manualTask",
                        "businessRuleTask", "sendTask", "receiveTask", "callActivity"}
EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent",
                    "intermediateThrowEvent", "boundaryEvent"})
GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway",
                      "eventBasedGateway", "complexGateway"})
DATA = frozenset({"dataObjectReference", "dataObject", "dataInput", "dataOutput",
                  "dataStoreReference"})
CONTAINERS = frozenset({"participant", "lane"})
EXTERNAL_LABEL = EVENTS | GATEWAYS | DATA

# Later rules win at equal specificity: failed > active > done.
STYLE = """
text{font-family:%s;fill:#222}
.outline{fill:#fff;stroke:#333;stroke-width:1.5}
.container .outline,.group .outline,.textAnnotation .outline{fill:none}
.thick .outline{stroke-width:4}
.dashed .outline{stroke-dasharray:6 3} .glyph{fill:none;stroke:#333;stroke-width:1.5}
.glyph.filled{fill:#333} .gateway .glyph{stroke-width:3} .glyph.thin{stroke-width:1.2}
.edge{fill:none;stroke:#333;stroke-width:1.5} .messageFlow .edge{stroke-dasharray:8 5}
.association .edge,.dataInputAssociation .edge,.dataOutputAssociation .edge{stroke-dasharray:2 4}
.taken .edge{stroke:#2e7d32;stroke-width:2.5}
.done .outline{stroke:#2e7d32;fill:#e8f5e9} .done .glyph{stroke:#2e7d32}
.active .outline{stroke:#ef6c00;fill:#fff3e0;stroke-width:3} .active .glyph{stroke:#ef6c00}
.failed .outline{stroke:#c62828;fill:#ffebee;stroke-width:3} .failed .glyph{stroke:#c62828}
""" % FONT

# What the colours of a case's diagram say, for the legend beside it: (state, label, fill, stroke) as STYLE draws
# them ('pending' is how an element no path has reached yet looks).
LEGEND = (("done", Message("已完成", "completed"), "#e8f5e9", "#2e7d32"),
          ("active", Message("进行中", "in progress"), "#fff3e0", "#ef6c00"),
          ("pending", Message("未到达", "not reached"), "#fff", "#333"))

# Constant markup (no user text): filled/open/line arrowheads and a circle tail.
MARKERS = """<defs xmlns="%s">%s
<marker id="bpmn-circle" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="8" markerHeight="8"
 markerUnits="userSpaceOnUse"><circle cx="5" cy="5" r="4" fill="#fff" stroke="#333"/></marker>
</defs>""" % (SVG_NS, "".join(
    f'<marker id="bpmn-{mid}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="10" '
    f'markerHeight="10" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
    f'<path d="M0,0L10,5L0,10{close}" fill="{fill}" stroke="#333"/></marker>'
    for mid, fill, close in (("arrow", "#333", "Z"), ("arrow-taken", "#2e7d32", "Z"),
                             ("arrow-open", "#fff", "Z"), ("arrow-line", "none", ""))))

_INVALID_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
Box = tuple[float, float, float, float]


def render_svg(bpmn_xml: bytes, process_id: str | None = None, *,
               completed: AbstractSet[str] = frozenset(),
               active: AbstractSet[str] = frozenset(),
               failed: AbstractSet[str] = frozenset(),
               title: str | None = None) -> str:
    """Render the diagram of *process_id* (default: the first diagram) as SVG.

    Raises ValueError for malformed XML or a DOCTYPE (entity attacks).
    """
    root = _parse(bpmn_xml)
    index = _index(root)
    plane = _pick_plane(root, index, process_id)
    shapes, edges = _collect(plane, index) if plane is not None else ([], [])
    if not shapes and not edges:
        return _placeholder(title)
    return _Renderer(index, completed, active, failed).render(shapes, edges, title)


# ---------------------------------------------------------------- reading BPMN

def _parse(data: bytes | str) -> etree._Element:
    """Parse untrusted XML without entities, network or DTDs."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not well-formed BPMN XML: {exc}") from exc
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise ValueError("DOCTYPE is not allowed in BPMN input")
    return root


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _index(root) -> dict[str, etree._Element]:
    """Map ids to semantic elements, skipping DI so shapes never shadow them."""
    index: dict[str, etree._Element] = {}
    for top in root:
        if isinstance(top.tag, str) and _local(top.tag) != "BPMNDiagram":
            for el in top.iter(etree.Element):
                if el.get("id"):
                    index.setdefault(el.get("id"), el)
    return index


def _lookup(index: dict, ref: str | None):
    """Resolve an id reference; some tools write QNames like ``ns:Task_1``."""
    if not ref:
        return None
    el = index.get(ref)
    return index.get(ref.rpartition(":")[2]) if el is None else el


def _pick_plane(root, index, process_id):
    """Find the plane drawing the process, directly or via its collaboration."""
    planes = [p for d in root.iter("{*}BPMNDiagram") for p in d.iterfind("{*}BPMNPlane")]
    if not planes or process_id is None:
        return planes[0] if planes else None
    wanted = {process_id}
    for part in root.iter("{*}participant"):
        ref = (part.get("processRef") or "").rpartition(":")[2]
        if process_id in (ref, part.get("id")) and part.getparent() is not None:
            wanted.add(part.getparent().get("id"))
    for plane in planes:
        if (plane.get("bpmnElement") or "").rpartition(":")[2] in wanted:
            return plane
    proc = index.get(process_id)
    if proc is not None:  # no plane names it: take one that draws its nodes
        ids = {e.get("id") for e in proc.iter(etree.Element)} - {None}
        for plane in planes:
            if any((s.get("bpmnElement") or "").rpartition(":")[2] in ids
                   for s in plane.iter("{*}BPMNShape")):
                return plane
    return None


def _floats(el, *names) -> tuple[float, ...] | None:
    """Read finite numeric attributes; broken exports must not crash rendering."""
    if el is None:
        return None
    try:
        vals = tuple(float(el.get(n, "0")) for n in names)
    except ValueError:
        return None
    return vals if all(math.isfinite(v) for v in vals) else None


def _box(el) -> Box | None:
    box = _floats(el, "x", "y", "width", "height")
    return box if box and box[2] >= 0 and box[3] >= 0 else None


def _collect(plane, index):
    """Pair each DI shape/edge with its semantic element, kind and geometry."""
    shapes, edges = [], []
    for di in plane.iter("{*}BPMNShape"):
        box = _box(di.find("{*}Bounds"))
        if box:
            sem = _lookup(index, di.get("bpmnElement"))
            shapes.append((di, sem, _kind(sem), box))
    for di in plane.iter("{*}BPMNEdge"):
        pts = [p for p in (_floats(w, "x", "y") for w in di.iterfind("{*}waypoint")) if p]
        if len(pts) >= 2:
            sem = _lookup(index, di.get("bpmnElement"))
            edges.append((di, sem, _kind(sem), pts))
    return shapes, edges


def _kind(sem) -> str:
    return _local(sem.tag) if sem is not None else "unknown"


def _name(sem, index) -> str:
    """Display name; annotations, groups and data refs keep it elsewhere."""
    if sem is None:
        return ""
    kind = _local(sem.tag)
    if kind == "textAnnotation":
        return sem.findtext("{*}text") or ""
    ref = {"group": "categoryValueRef", "dataObjectReference": "dataObjectRef",
           "dataStoreReference": "dataStoreRef"}.get(kind)
    target = _lookup(index, sem.get(ref)) if ref and not sem.get("name") else None
    if target is not None:
        return target.get("value" if kind == "group" else "name") or ""
    return sem.get("name") or ""


def _label_box(di, kind: str, box: Box | None, name: str) -> Box | None:
    """Outside label area: BPMNLabel bounds (widened, exporters size them for
    their own narrower font), else below the shape."""
    given = _box(di.find("{*}BPMNLabel/{*}Bounds"))
    if given and given[2] > 0:
        wide = max(given[2] + 10, 90.0)
        return (given[0] + (given[2] - wide) / 2, given[1], wide, given[3])
    if name and box and kind in EXTERNAL_LABEL:
        return (box[0] + box[2] / 2 - 50, box[1] + box[3] + 4, 100.0, 30.0)
    return None


def _expanded(di, box: Box) -> bool:
    """isExpanded when given; otherwise large sub-processes count as expanded."""
    flag = di.get("isExpanded")
    return flag == "true" if flag else (box[2] >= 200 and box[3] >= 120)


# ---------------------------------------------------------------- SVG helpers

def _wide(ch: str) -> bool:
    return ch >= "\u1100" and unicodedata.east_asian_width(ch) in ("W", "F")


def _width(text: str, fs: float) -> float:
    """Estimated rendered width; CJK glyphs are about one em wide."""
    return sum(fs if _wide(ch) else fs * 0.6 for ch in text)


def _tokens(line: str) -> list[str]:
    """Break points: after spaces, and around every CJK (wide) character."""
    out, cur = [], ""
    for ch in line:
        if _wide(ch) or ch.isspace():
            out += [cur + " "] if ch.isspace() else ([cur, ch] if cur else [ch])
            cur = ""
        else:
            cur += ch
    return out + [cur] if cur else out


def _wrap(text: str, max_w: float, fs: float, max_lines: int) -> list[str]:
    """Greedy wrap; CJK names (no spaces) wrap per character, overflow gets '…'."""
    lines: list[str] = []
    for para in text.splitlines():
        cur, cur_w = "", 0.0
        for tok in _tokens(para):
            for piece in [tok] if _width(tok.rstrip(), fs) <= max_w else list(tok):
                if cur.strip() and cur_w + _width(piece.rstrip(), fs) > max_w:
                    lines.append(cur.strip())
                    cur, cur_w = "", 0.0
                cur, cur_w = cur + piece, cur_w + _width(piece, fs)
        if cur.strip():
            lines.append(cur.strip())
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


def _fmt(v) -> str:
    if isinstance(v, float):
        s = f"{v:.2f}".rstrip("0").rstrip(".")
        return "0" if s in ("", "-0") else s
    return str(v)


def _d(template: str, *nums: float) -> str:
    """Fill ``{}`` slots of a path/points template with compact numbers."""
    return template.format(*map(_fmt, nums))


def _sub(parent, tag: str, text: str | None = None, **attrs):
    """Append an SVG element; ``cls`` -> class, ``a_b`` -> ``a-b``; text is escaped."""
    el = etree.SubElement(parent, f"{{{SVG_NS}}}{tag}")
    for key, value in attrs.items():
        if value is not None:
            value = _INVALID_XML.sub("", value) if isinstance(value, str) else _fmt(value)
            el.set("class" if key == "cls" else key.replace("_", "-"), value)
    if text:
        el.text = _INVALID_XML.sub("", text)
    return el


def _text_block(parent, text, box: Box, fs: float, align="middle", valign="middle",
                max_lines: int | None = None) -> None:
    """Wrap *text* into *box*, one tspan per line."""
    x, y, w, h = box
    lh = fs * LINE
    lines = _wrap(text, max(w, fs), fs, max_lines or max(1, int(h // lh)))
    if lines:
        top = y + (h - lh * len(lines)) / 2 if valign == "middle" else y
        tx = x + w / 2 if align == "middle" else x
        node = _sub(parent, "text", cls="label", x=tx, y=top + fs, font_size=fs,
                    text_anchor=align)
        for i, line in enumerate(lines):
            _sub(node, "tspan", line, x=tx, y=top + lh * i + fs * 0.95)


def _add_class(el, cls: str) -> None:
    el.set("class", f"{el.get('class', '')} {cls}".strip())


def _svg_root(x, y, w, h, title):
    """Root <svg> with style, markers and a white background."""
    svg = etree.Element(f"{{{SVG_NS}}}svg", nsmap={None: SVG_NS}, version="1.1",
                        viewBox=_d("{} {} {} {}", x, y, w, h), width=_fmt(w),
                        height=_fmt(h), role="img", **{"class": "bpmn-diagram",
                                                        "font-family": FONT})
    if title:
        _sub(svg, "title", title)
    _sub(svg, "style", STYLE)
    svg.append(etree.fromstring(MARKERS))
    _sub(svg, "rect", cls="background", x=x, y=y, width=w, height=h, fill="#fff")
    return svg


def _placeholder(title: str | None) -> str:
    """Small SVG telling the user there is nothing to draw."""
    svg = _svg_root(0, 0, 320, 60, title)
    _sub(svg, "text", PLACEHOLDER, x=160, y=34, font_size=14, text_anchor="middle")
    return etree.tostring(svg, encoding="unicode")


# ---------------------------------------------------------------- drawing

class _Renderer:
    """Holds the document index and run state while shapes are drawn."""

    def __init__(self, index, completed, active, failed):
        self.index, self.completed, self.active = index, completed, active
        self.states = (("done", completed), ("active", active), ("failed", failed))

    def render(self, shapes, edges, title) -> str:
        """Containers first, then flows, then nodes so arrows stay visible."""
        boxes = [b for di, sem, kind, box in shapes
                 for b in (box, _label_box(di, kind, box, _name(sem, self.index))) if b]
        boxes += [_label_box(di, kind, None, "") for di, _sem, kind, _pts in edges]
        xs = [v for b in boxes if b for v in (b[0], b[0] + b[2])]
        ys = [v for b in boxes if b for v in (b[1], b[1] + b[3])]
        xs += [p[0] for *_, pts in edges for p in pts]
        ys += [p[1] for *_, pts in edges for p in pts]
        x0, y0 = min(xs) - MARGIN, min(ys) - MARGIN - (TITLE_H if title else 0)
        svg = _svg_root(x0, y0, max(xs) + MARGIN - x0, max(ys) + MARGIN - y0, title)
        if title:
            _sub(svg, "text", title, cls="diagram-title", x=x0 + 10, y=y0 + 22,
                 font_size=16, font_weight="bold")
        big = sorted((s for s in shapes if _is_container(s)), key=lambda s: -s[3][2] * s[3][3])
        small = [s for s in shapes if not _is_container(s)]
        for layer, items, draw in (("containers", big, self._shape),
                                   ("edges", edges, self._edge), ("nodes", small, self._shape)):
            group = _sub(svg, "g", cls=layer)
            for item in items:
                draw(group, *item)
        return etree.tostring(svg, encoding="unicode")

    def _group(self, parent, di, sem, classes):
        """Group with data-element-id, state classes and a tooltip <title>."""
        eid = sem.get("id") if sem is not None else (di.get("bpmnElement") or di.get("id") or "")
        name = _name(sem, self.index)
        classes += [c for c, ids in self.states if eid in ids]
        g = _sub(parent, "g", cls=" ".join(dict.fromkeys(classes)), data_element_id=eid)
        _sub(g, "title", f"{name} ({eid})" if name else eid)
        return g, name

    def _shape(self, parent, di, sem, kind, box):
        category = ("activity" if kind in TASKS else "event" if kind in EVENTS else
                    "gateway" if kind in GATEWAYS else "data" if kind in DATA else
                    "container" if kind in CONTAINERS else "other")
        g, name = self._group(parent, di, sem, ["shape", category, kind])
        draw = {"activity": _task, "event": _event, "gateway": _gateway,
                "data": _data, "container": _container}.get(category, _other)
        draw(g, di, sem, kind, box, name)
        label = _label_box(di, kind, box, name) if kind in EXTERNAL_LABEL else None
        if label and name:
            _text_block(g, name, label, 11, valign="top", max_lines=6)

    def _taken(self, sem, eid) -> bool:
        """A flow was taken if its source completed and its target was reached."""
        src, tgt = (_lookup(self.index, sem.get(a)) for a in ("sourceRef", "targetRef"))
        sid = src.get("id") if src is not None else None
        tid = tgt.get("id") if tgt is not None else None
        return eid in self.completed or (
            sid in self.completed and (tid in self.completed or tid in self.active))

    def _edge(self, parent, di, sem, kind, pts):
        """Polyline; sequence flows arrowed (green when taken), messages dashed."""
        g, name = self._group(parent, di, sem, ["shape", "connection", kind])
        eid, start, end = g.get("data-element-id"), None, None
        if kind == "sequenceFlow":
            taken = self._taken(sem, eid)
            if taken:
                _add_class(g, "taken")
            end = "url(#bpmn-arrow-taken)" if taken else "url(#bpmn-arrow)"
        elif kind == "messageFlow":
            start, end = "url(#bpmn-circle)", "url(#bpmn-arrow-open)"
        elif kind in ("dataInputAssociation", "dataOutputAssociation"):
            end = "url(#bpmn-arrow-line)"
        _sub(g, "polyline", cls="edge", marker_start=start, marker_end=end,
             points=" ".join(_d("{},{}", x, y) for x, y in pts))
        label = _label_box(di, kind, None, name)
        if name and label:
            _text_block(g, name, label, 11, valign="top", max_lines=6)
        elif name:  # no label bounds: centre on the middle segment
            (ax, ay), (bx, by) = pts[(len(pts) - 1) // 2: (len(pts) - 1) // 2 + 2]
            _text_block(g, name, ((ax + bx) / 2 - 50, (ay + by) / 2 - 24, 100.0, 20.0), 11,
                        max_lines=4)


def _is_container(item) -> bool:
    di, _sem, kind, box = item
    return kind in CONTAINERS or (kind in SUBPROCESSES and _expanded(di, box))


def _task(g, di, sem, kind, box, name):
    """Rounded rect; call activities thick, event sub-processes dashed."""
    x, y, w, h = box
    _sub(g, "rect", cls="outline", x=x, y=y, width=w, height=h, rx=10, ry=10)
    if kind == "callActivity":
        _add_class(g, "thick")
    if sem.get("triggeredByEvent") == "true":
        _add_class(g, "dashed")
    if kind not in SUBPROCESSES:
        _text_block(g, name, (x + 4, y + 4, w - 8, h - 8), 12)
    elif _expanded(di, box):  # expanded: name top-left, children drawn inside
        _text_block(g, name, (x + 8, y + 4, w - 16, 30), 12, align="start", valign="top")
    else:  # collapsed: boxed plus at the bottom
        _text_block(g, name, (x + 4, y + 4, w - 8, h - 24), 12)
        cx, by = x + w / 2, y + h - 3
        _sub(g, "rect", cls="glyph", x=cx - 7, y=by - 14, width=14, height=14)
        _sub(g, "path", cls="glyph", d=_d("M{},{}h8M{},{}v8", cx - 4, by - 7, cx, by - 11))


def _event(g, di, sem, kind, box, name):
    """Start thin, end thick, intermediate/boundary double; glyph per definition."""
    x, y, w, h = box
    cx, cy, r = x + w / 2, y + h / 2, min(w, h) / 2
    _sub(g, "circle", cls="outline", cx=cx, cy=cy, r=r)
    if kind == "endEvent":
        _add_class(g, "thick")
    elif kind != "startEvent":
        _sub(g, "circle", cls="glyph", cx=cx, cy=cy, r=max(r - 3, 0))
    if "false" in (sem.get("cancelActivity"), sem.get("isInterrupting")):
        _add_class(g, "dashed")
    defs = [_local(d.tag) for d in sem if isinstance(d.tag, str)]
    defs = [d for d in defs if d.endswith("EventDefinition")]
    if defs:
        _event_glyph(g, defs[0], cx, cy, r * 0.55, kind in ("endEvent", "intermediateThrowEvent"))


def _event_glyph(g, definition, cx, cy, s, filled):
    """Clock for timers, envelope for messages, dot for terminate."""
    if definition == "timerEventDefinition":
        _sub(g, "circle", cls="glyph clock", cx=cx, cy=cy, r=s * 1.1)
        angles = [i * math.pi / 6 for i in range(12)]
        ticks = "".join(_d("M{},{}L{},{}", cx + s * .85 * math.cos(a), cy + s * .85 * math.sin(a),
                           cx + s * 1.1 * math.cos(a), cy + s * 1.1 * math.sin(a)) for a in angles)
        _sub(g, "path", cls="glyph thin clock-hands",
             d=ticks + _d("M{},{}V{}M{},{}l{},{}", cx, cy, cy - s * .8, cx, cy, s * .55, s * .2))
    elif definition == "messageEventDefinition":
        envelope = _d("M{},{}h{}v{}h{}ZL{},{}L{},{}", cx - s, cy - s * .7, 2 * s, 1.4 * s,
                      -2 * s, cx, cy, cx + s, cy - s * .7)
        _sub(g, "path", cls="glyph filled" if filled else "glyph", d=envelope)
    elif definition == "terminateEventDefinition":
        _sub(g, "circle", cls="glyph filled", cx=cx, cy=cy, r=s)


def _gateway(g, di, sem, kind, box, name):
    """Diamond with X (exclusive), + (parallel), O (inclusive), event-based, complex."""
    x, y, w, h = box
    cx, cy, s = x + w / 2, y + h / 2, min(w, h) * 0.22
    _sub(g, "polygon", cls="outline", points=_d("{},{} {},{} {},{} {},{}",
                                                cx, y, x + w, cy, cx, y + h, x, cy))
    cross = _d("M{},{}L{},{}M{},{}L{},{}", cx - s, cy - s, cx + s, cy + s,
               cx + s, cy - s, cx - s, cy + s)
    plus = _d("M{},{}H{}M{},{}V{}", cx - 1.3 * s, cy, cx + 1.3 * s, cx, cy - 1.3 * s, cy + 1.3 * s)
    if kind in ("exclusiveGateway", "parallelGateway", "complexGateway"):
        d = {"exclusiveGateway": cross, "parallelGateway": plus}.get(kind, cross + plus)
        _sub(g, "path", cls="glyph gateway-marker", d=d)
    elif kind == "inclusiveGateway":
        _sub(g, "circle", cls="glyph gateway-marker", cx=cx, cy=cy, r=s * 1.2)
    elif kind == "eventBasedGateway":
        for rr in (s * 1.4, s * 1.15):
            _sub(g, "circle", cls="glyph thin", cx=cx, cy=cy, r=rr)
        angles = [i * 2 * math.pi / 5 for i in range(5)]
        _sub(g, "polygon", cls="glyph thin gateway-marker", points=" ".join(
            _d("{},{}", cx + s * .75 * math.sin(a), cy - s * .75 * math.cos(a)) for a in angles))


def _data(g, di, sem, kind, box, name):
    """Data objects as folded pages, data stores as cylinders."""
    x, y, w, h = box
    if kind == "dataStoreReference":
        rx, e = w / 2, h * 0.12
        _sub(g, "path", cls="outline", d=_d("M{},{}A{},{} 0 0 1 {},{}V{}A{},{} 0 0 1 {},{}Z",
                                            x, y + e, rx, e, x + w, y + e, y + h - e,
                                            rx, e, x, y + h - e))
        _sub(g, "path", cls="glyph thin", d=_d("M{},{}A{},{} 0 0 0 {},{}",
                                               x, y + e, rx, e, x + w, y + e))
        return
    f = min(w, h) * 0.25
    _sub(g, "path", cls="outline",
         d=_d("M{},{}H{}L{},{}V{}H{}Z", x, y, x + w - f, x + w, y + f, y + h, x))
    _sub(g, "path", cls="glyph thin", d=_d("M{},{}V{}H{}", x + w - f, y, y + f, x + w))


def _container(g, di, sem, kind, box, name):
    """Pools and lanes: rect with the name written vertically on the left band."""
    x, y, w, h = box
    _sub(g, "rect", cls="outline", x=x, y=y, width=w, height=h)
    pool = kind == "participant"
    if pool and sem.get("processRef") is None:  # black-box pool: name in the middle
        _text_block(g, name, (x + 4, y + 2, w - 8, h - 4), 12)
    else:
        if pool:
            _sub(g, "path", cls="glyph thin", d=_d("M{},{}v{}", x + BAND, y, h))
        cx, cy = x + BAND / 2, y + h / 2
        band = _sub(g, "g", transform=_d("rotate(-90 {} {})", cx, cy))
        _text_block(band, name, (cx - (h - 8) / 2, cy - (BAND - 4) / 2, h - 8, BAND - 4), 12)


def _other(g, di, sem, kind, box, name):
    """Text annotations as an open bracket; everything else as a dashed box."""
    x, y, w, h = box
    if kind == "textAnnotation":
        _sub(g, "path", cls="outline", d=_d("M{},{}H{}V{}H{}", x + min(15.0, w), y, x, y + h,
                                            x + min(15.0, w)))
        _text_block(g, name, (x + 5, y + 3, w - 8, h - 6), 11, align="start", valign="top")
    else:  # groups and anything unknown: dashed box, name at the top
        _add_class(g, "dashed")
        _sub(g, "rect", cls="outline", x=x, y=y, width=w, height=h, rx=4, ry=4)
        _text_block(g, name, (x + 4, y + 3, w - 8, h - 6), 11, valign="top")
