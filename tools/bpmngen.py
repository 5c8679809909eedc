"""Write BPMN 2.0 files with diagram interchange from a compact Python description.

A designer normally draws processes in Camunda Modeler or SpiffArena; this tool lets us keep the
sample and catalogue files consistent (ids, lanes, DI layout) and regenerate them after a change.
The output is ordinary BPMN that both modelers open.

Usage from Python:
    p = Process("matter_x", "某某事项", dialect="camunda")
    p.lane("front_desk", "综合窗口") ...
    p.start("start", "申请"); p.user("intake", "综合受理", group="front_desk", form="intake_x") ...
    p.flow("start", "intake"); p.write("processes/matter_x.bpmn")
"""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

GAP = 12  # the least room between two shapes (bpmnlint's no-overlapping-elements counts touching as overlapping)
SIZES = {"startEvent": (36, 36), "endEvent": (36, 36), "exclusiveGateway": (50, 50), "parallelGateway": (50, 50),
         "inclusiveGateway": (50, 50), "intermediateCatchEvent": (36, 36), "boundaryEvent": (36, 36)}
TASK = (110, 80)
GATEWAYS = ("exclusiveGateway", "parallelGateway", "inclusiveGateway")


def _label_size(text: str) -> tuple[int, int]:
    """Width and height of an outside label at the modelers' 11px font: CJK characters count full width."""
    units = sum(1.0 if ord(c) > 0x2E7F else 0.55 for c in text)
    lines = max(1, -(-int(units * 11) // 150))
    return min(150, int(units * 11) + 8), 14 * lines


class Process:
    def __init__(self, pid: str, name: str, dialect: str = "camunda", guide: dict | None = None):
        self.pid, self.name, self.dialect, self.guide = pid, name, dialect, guide
        self.nodes: list[dict] = []
        self.flows: list[dict] = []
        self.lanes: list[tuple[str, str]] = []
        self.col = 0
        self.extra_xml: list[str] = []

    # ---- nodes -------------------------------------------------------------------------
    def _add(self, kind, nid, name, col=None, row=0, lane=None, **attrs):
        col = self.col if col is None else col
        self.col = col + 1
        node = dict(kind=kind, id=nid, name=name, col=col, row=row, lane=lane, **attrs)
        self.nodes.append(node)
        return node

    def start(self, nid="start", name="开始", **kw):
        return self._add("startEvent", nid, name, **kw)

    def end(self, nid="end", name="结束", **kw):
        return self._add("endEvent", nid, name, **kw)

    def user(self, nid, name, group=None, form=None, due=None, props=None, **kw):
        return self._add("userTask", nid, name, group=group, form=form, due=due, props=props, **kw)

    def script(self, nid, name, script, props=None, **kw):
        return self._add("scriptTask", nid, name, script=script, props=props, **kw)

    def rule(self, nid, name, decision, **kw):
        return self._add("businessRuleTask", nid, name, decision=decision, **kw)

    def call(self, nid, name, called, mi=None, **kw):
        return self._add("callActivity", nid, name, called=called, mi=mi, **kw)

    def xor(self, nid, name="", default=None, **kw):
        return self._add("exclusiveGateway", nid, name, default=default, **kw)

    def par(self, nid, name="", **kw):
        return self._add("parallelGateway", nid, name, **kw)

    def timer(self, nid, name, duration, props=None, **kw):
        return self._add("intermediateCatchEvent", nid, name, timer=duration, props=props, **kw)

    def boundary(self, nid, name, attached, duration, interrupting=True, props=None, slot=0):
        """A timer on the edge of task `attached` (interrupting: the task is cancelled when it fires); `slot`
        places several timers of one task side by side."""
        host = next(n for n in self.nodes if n["id"] == attached)
        node = dict(kind="boundaryEvent", id=nid, name=name, col=host["col"], row=host["row"], lane=host.get("lane"),
                    attached=attached, timer=duration, interrupting=interrupting, props=props, slot=slot)
        self.nodes.append(node)
        return node

    def flow(self, src, tgt, cond=None, fid=None, name=None):
        if cond and not (name or "").strip():  # a reader of the diagram sees the label, not the expression
            raise ValueError(f"{self.pid}: the conditional flow {src} -> {tgt} needs a name saying its condition")
        self.flows.append(dict(id=fid or f"Flow_{src}_{tgt}", src=src, tgt=tgt, cond=cond, name=name))

    def chain(self, *ids):
        for a, b in zip(ids, ids[1:]):
            self.flow(a, b)

    def lane(self, lid, name):
        self.lanes.append((lid, name))

    # ---- merges ------------------------------------------------------------------------
    def merge_joins(self) -> None:
        """Draw the merge a reader should see: where several flows enter a task or an event, they enter an unnamed
        exclusive gateway `merge_<target>` drawn in a new column just before it (the same behaviour: each arriving
        token passes on alone, as into the task itself). A flow keeping its generated id is renamed after its new
        target, and a split's `default` follows the rename. Idempotent; `xml()` calls it."""
        for target in [n for n in self.nodes if n["kind"] not in GATEWAYS]:
            entering = [f for f in self.flows if f["tgt"] == target["id"]]
            if len(entering) < 2:
                continue
            mid = f"merge_{target['id']}"
            if any(n["id"] == mid for n in self.nodes):
                raise ValueError(f"{self.pid}: cannot draw the merge before {target['id']}: {mid} is taken")
            col = target["col"]
            for n in self.nodes:  # a new column for the merge: what stood in the target's column or right of it moves
                if n["col"] >= col:
                    n["col"] += 1
            merge = dict(kind="exclusiveGateway", id=mid, name="", col=col, row=target["row"],
                         lane=target.get("lane"), default=None)
            self.nodes.insert(self.nodes.index(target), merge)
            renamed = {}
            for f in entering:
                f["tgt"] = mid
                if f["id"] == f"Flow_{f['src']}_{target['id']}":
                    renamed[f["id"]] = f["id"] = f"Flow_{f['src']}_{mid}"
            for n in self.nodes:
                if n.get("default") in renamed:
                    n["default"] = renamed[n["default"]]
            self.flows.append(dict(id=f"Flow_{mid}_{target['id']}", src=mid, tgt=target["id"], cond=None, name=None))

    # ---- layout ------------------------------------------------------------------------
    def _forward(self) -> list[tuple[str, str]]:
        """The flows that go forward (source, target): all but those closing a loop, found by a depth-first walk
        from the start events in the order the flows were written."""
        out: dict[str, list[str]] = {}
        for f in self.flows:
            out.setdefault(f["src"], []).append(f["tgt"])
        state: dict[str, int] = {}
        forward: list[tuple[str, str]] = []
        starts = [n["id"] for n in self.nodes if n["kind"] == "startEvent"] + [n["id"] for n in self.nodes]
        for s in starts:
            if s in state:
                continue
            stack = [(s, iter(out.get(s, [])))]
            state[s] = 1
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    state[node] = 2
                    stack.pop()
                elif state.get(nxt) != 1:  # not on the current path: not a loop back
                    forward.append((node, nxt))
                    if nxt not in state:
                        state[nxt] = 1
                        stack.append((nxt, iter(out.get(nxt, []))))
        return forward

    def _collision(self):
        """The first two shapes (in the order they were added) closer than GAP, or None; a boundary event counts
        as its task, which it sits on."""
        drawn = [n for n in self.nodes if n["kind"] != "boundaryEvent"]
        boxes = [(n, self._bounds(n)) for n in drawn]
        boundary = [(n, self._bounds(n)) for n in self.nodes if n["kind"] == "boundaryEvent"]
        for i, (a, (x, y, w, h)) in enumerate(boxes):
            for b, (ox, oy, ow, oh) in boxes[:i]:
                if x < ox + ow + GAP and ox < x + w + GAP and y < oy + oh + GAP and oy < y + h + GAP:
                    return b, a
            for e, (ox, oy, ow, oh) in boundary:
                if e["attached"] != a["id"] and x < ox + ow + GAP and ox < x + w + GAP and \
                        y < oy + oh + GAP and oy < y + h + GAP:
                    return e, a
        return None

    def layout(self) -> None:
        """Move shapes apart until none overlap: of two colliding shapes the one added later moves one column
        right, and the shapes after it on its paths move with it when an arrow would otherwise point back.
        Rows and lanes stay as written; columns the author gave are where a shape starts."""
        forward = self._forward()
        by_id = {n["id"]: n for n in self.nodes}
        strict = {(s, t) for s, t in forward if by_id[t]["col"] > by_id[s]["col"]}  # arrows drawn pointing right
        for _ in range(10 * len(self.nodes) + 10):
            hit = self._collision()
            if hit is None:
                return
            mover = hit[1]
            mover["col"] += 1
            todo = [mover["id"]]
            while todo:
                src = todo.pop()
                for s, t in strict:
                    if s == src and by_id[t]["col"] <= by_id[s]["col"]:
                        by_id[t]["col"] = by_id[s]["col"] + 1
                        todo.append(t)
        raise ValueError(f"{self.pid}: cannot lay out the shapes without overlap")

    # ---- output ------------------------------------------------------------------------
    def _ext(self, n) -> str:
        """extensionElements of a node: its properties (`props`, e.g. the one-window rule and its parameters) in
        the dialect's own form, plus, for SpiffArena, a user task's form and due date."""
        props = dict(n.get("props") or {})
        if self.dialect == "spiff" and n["kind"] == "userTask":
            if n.get("form"):
                props = {"formJsonSchemaFilename": f'{n["form"]}.json', **props}
            if n.get("due"):
                props["dueDate"] = n["due"]
        if not props:
            return ""
        ns = "spiffworkflow" if self.dialect == "spiff" else "camunda"
        items = "".join(f'<{ns}:property name={quoteattr(str(k))} value={quoteattr(str(v))} />' for k, v in props.items())
        return f"<bpmn:extensionElements><{ns}:properties>{items}</{ns}:properties></bpmn:extensionElements>"

    def _attrs_user(self, n) -> str:
        if self.dialect != "camunda":
            return ""
        out = ""
        if n.get("group"):
            out += f' camunda:candidateGroups="{n["group"]}"'
        if n.get("form"):
            out += f' camunda:formKey="{n["form"]}"'
        if n.get("due"):
            out += f' camunda:dueDate="{n["due"]}"'
        return out

    def _node_xml(self, n) -> str:
        inc = "".join(f"<bpmn:incoming>{f['id']}</bpmn:incoming>" for f in self.flows if f["tgt"] == n["id"])
        out = "".join(f"<bpmn:outgoing>{f['id']}</bpmn:outgoing>" for f in self.flows if f["src"] == n["id"])
        kind, name = n["kind"], quoteattr(n["name"])
        head = f'<bpmn:{kind} id="{n["id"]}" name={name}'
        ext = self._ext(n)
        if kind == "userTask":
            return f"{head}{self._attrs_user(n)}>{ext}{inc}{out}</bpmn:userTask>"
        if kind == "scriptTask":
            return (f'{head} scriptFormat="python">{ext}{inc}{out}<bpmn:script>{escape(n["script"])}</bpmn:script>'
                    "</bpmn:scriptTask>")
        if kind == "businessRuleTask":
            ext = (f' camunda:decisionRef="{n["decision"]}">' if self.dialect == "camunda" else
                   f'><bpmn:extensionElements><spiffworkflow:calledDecisionId>{n["decision"]}'
                   "</spiffworkflow:calledDecisionId></bpmn:extensionElements>")
            return f"{head}{ext}{inc}{out}</bpmn:businessRuleTask>"
        if kind == "callActivity":
            mi = ""
            if n.get("mi"):
                coll, item = n["mi"]
                mi = (f'<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>{coll}</bpmn:loopDataInputRef>'
                      f'<bpmn:inputDataItem id="{item}" name="{item}" /></bpmn:multiInstanceLoopCharacteristics>')
            return f'{head} calledElement="{n["called"]}">{inc}{out}{mi}</bpmn:callActivity>'
        if kind == "exclusiveGateway" and n.get("default"):
            return f'{head} default="{n["default"]}">{inc}{out}</bpmn:{kind}>'
        if kind in ("intermediateCatchEvent", "boundaryEvent") and n.get("timer"):
            if kind == "boundaryEvent":
                head += f' attachedToRef="{n["attached"]}"' + ("" if n["interrupting"] else ' cancelActivity="false"')
            return (f"{head}>{ext}{inc}{out}<bpmn:timerEventDefinition><bpmn:timeDuration>"
                    f"{escape(n['timer'])}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:{kind}>")
        return f"{head}>{ext}{inc}{out}</bpmn:{kind}>"

    def _flow_xml(self, f) -> str:
        name = f" name={quoteattr(f['name'])}" if f.get("name") else ""
        if f["cond"]:
            return (f'<bpmn:sequenceFlow id="{f["id"]}"{name} sourceRef="{f["src"]}" targetRef="{f["tgt"]}">'
                    f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(f["cond"])}'
                    "</bpmn:conditionExpression></bpmn:sequenceFlow>")
        return f'<bpmn:sequenceFlow id="{f["id"]}"{name} sourceRef="{f["src"]}" targetRef="{f["tgt"]}" />'

    def _lane_layout(self) -> dict[str, tuple[float, float, float]]:
        """Per lane: (top, height, y of row 0); a lane grows to hold the rows its nodes use."""
        out, top = {}, 20.0
        for lid, _ in self.lanes or [("", "")]:
            rows = [n["row"] for n in self.nodes if (n.get("lane") or "") == lid] or [0]
            height = max(200.0, (max(rows) - min(rows)) * 110 + 200)
            out[lid] = (top, height, top + 100 - min(rows) * 110)
            top += height
        return out

    def _bounds(self, n):
        w, h = SIZES.get(n["kind"], TASK)
        if n["kind"] == "boundaryEvent":  # on the lower edge of its task
            hx, hy, hw, hh = self._bounds(next(m for m in self.nodes if m["id"] == n["attached"]))
            return hx + 20 + n.get("slot", 0) * 45, hy + hh - h / 2, w, h
        layout = self._lane_layout()
        _, _, row0 = layout.get(n.get("lane") or "", next(iter(layout.values())))
        cx = 180 + n["col"] * 160
        cy = row0 + n["row"] * 110
        return cx - w / 2, cy - h / 2, w, h

    @staticmethod
    def _route(src, tgt, split: bool, join: bool, obstacles=()):
        """Waypoints of a flow and where its label goes (the left end of the line it sits on): straight when the
        two shapes share a row and nothing stands between them, else round what does, above or below, whichever
        is nearer; out of a split gateway's top or bottom, then across into the target; into a join gateway's
        top or bottom after running along the source's row; a loop back runs below both."""
        sx, sy, sw, sh = src
        tx, ty, tw, th = tgt
        a, b = (sx + sw, sy + sh / 2), (tx, ty + th / 2)
        scx, tcx = sx + sw / 2, tx + tw / 2
        down = b[1] > a[1]
        if split and tx <= scx <= tx + tw and abs(a[1] - b[1]) > 1:  # straight down (or up) into the target under it
            start, end = (scx, sy + sh if down else sy), (scx, ty if down else ty + th)
            return [start, end], (scx + 6, (start[1] + end[1]) / 2 + 7)
        if b[0] < a[0]:  # a loop back: go below
            low = max(sy + sh, ty + th) + 30
            pts = [(scx, sy + sh), (scx, low), (tcx, low), (tcx, ty + th)]
            return pts, (scx + 6, low - 2)
        if abs(a[1] - b[1]) <= 1:
            between = [o for o in obstacles if o not in (src, tgt) and o[0] < b[0] and o[0] + o[2] > a[0]]
            if not any(o[1] < a[1] < o[1] + o[3] for o in between):
                return [a, b], (a[0] + 6, a[1] - 3)
            below = max(o[1] + o[3] for o in between) + 24
            above = min(o[1] for o in between) - 24
            if below - a[1] <= a[1] - above:
                return [(scx, sy + sh), (scx, below), (tcx, below), (tcx, ty + th)], (scx + 6, below - 3)
            return [(scx, sy), (scx, above), (tcx, above), (tcx, ty)], (scx + 6, above - 3)
        if split:
            start = (sx + sw / 2, sy + sh if down else sy)
            return [start, (start[0], b[1]), b], (start[0] + 6, b[1] - 3)
        if join:
            cx = tx + tw / 2
            return [a, (cx, a[1]), (cx, ty if down else ty + th)], (a[0] + 6, a[1] - 3)
        return [a, (a[0] + 20, a[1]), (a[0] + 20, b[1]), b], (a[0] + 26, b[1] - 3)

    def _lane_xml(self) -> str:
        if not self.lanes:
            return ""
        parts = []
        for lid, lname in self.lanes:
            refs = "".join(f"<bpmn:flowNodeRef>{n['id']}</bpmn:flowNodeRef>" for n in self.nodes if n.get("lane") == lid)
            parts.append(f'<bpmn:lane id="{lid}" name={quoteattr(lname)}>{refs}</bpmn:lane>')
        return f'<bpmn:laneSet id="LaneSet_{self.pid}">{"".join(parts)}</bpmn:laneSet>'

    def xml(self) -> str:
        self.merge_joins()
        self.layout()
        body = self._lane_xml() + "".join(self._node_xml(n) for n in self.nodes) + "".join(self._flow_xml(f) for f in self.flows)
        guide = ""
        if self.guide is not None:
            import json
            guide = ("<bpmn:extensionElements><ow:guide xmlns:ow=\"https://onewindow.example/bpmn/guide\">"
                     f"{escape(json.dumps(self.guide, ensure_ascii=False, indent=1))}</ow:guide></bpmn:extensionElements>")
        bounds = {n["id"]: self._bounds(n) for n in self.nodes}
        shapes, edges = [], []
        width = 180 + (max(n["col"] for n in self.nodes) + 1) * 160
        has_lanes = bool(self.lanes)
        if has_lanes:
            layout = self._lane_layout()
            total = sum(h for _, h, _ in layout.values())
            shapes.append(f'<bpmndi:BPMNShape id="Participant_{self.pid}_di" bpmnElement="Participant_{self.pid}" isHorizontal="true">'
                          f'<dc:Bounds x="40" y="20" width="{width}" height="{total:.0f}" /></bpmndi:BPMNShape>')
            for lid, _ in self.lanes:
                top, height, _ = layout[lid]
                shapes.append(f'<bpmndi:BPMNShape id="{lid}_di" bpmnElement="{lid}" isHorizontal="true">'
                              f'<dc:Bounds x="70" y="{top:.0f}" width="{width - 30}" height="{height:.0f}" /></bpmndi:BPMNShape>')
        for n in self.nodes:
            x, y, w, h = bounds[n["id"]]
            label = ""
            if n["name"] and n["kind"] in GATEWAYS:  # above left: flows leave a gateway by its top, right and bottom
                lw, lh = _label_size(n["name"])
                label = (f'<bpmndi:BPMNLabel><dc:Bounds x="{x + w / 2 - lw - 4:.0f}" y="{y - lh - 2:.0f}" '
                         f'width="{lw}" height="{lh}" /></bpmndi:BPMNLabel>')
            elif n["name"] and n["kind"] in SIZES:  # events: below
                lw, lh = _label_size(n["name"])
                label = (f'<bpmndi:BPMNLabel><dc:Bounds x="{x + w / 2 - lw / 2:.0f}" y="{y + h + 4:.0f}" '
                         f'width="{lw}" height="{lh}" /></bpmndi:BPMNLabel>')
            shapes.append(f'<bpmndi:BPMNShape id="{n["id"]}_di" bpmnElement="{n["id"]}"><dc:Bounds x="{x:.0f}" y="{y:.0f}" '
                          f'width="{w}" height="{h}" />{label}</bpmndi:BPMNShape>')
        outs = {n["id"]: sum(f["src"] == n["id"] for f in self.flows) for n in self.nodes}
        ins = {n["id"]: sum(f["tgt"] == n["id"] for f in self.flows) for n in self.nodes}
        kinds = {n["id"]: n["kind"] for n in self.nodes}
        obstacles = [bounds[n["id"]] for n in self.nodes if n["kind"] != "boundaryEvent"]
        for f in self.flows:
            pts, label = self._route(bounds[f["src"]], bounds[f["tgt"]],
                                     split=outs[f["src"]] > 1 and kinds[f["src"]] in GATEWAYS,
                                     join=ins[f["tgt"]] > 1 and kinds[f["tgt"]] in GATEWAYS, obstacles=obstacles)
            if len(pts) == 4 and pts[1][1] == pts[2][1] and pts[0][0] == pts[1][0]:  # a detour: later ones go round it
                obstacles.append((min(pts[1][0], pts[2][0]), pts[1][1] - 6, abs(pts[2][0] - pts[1][0]), 12))
            wps = "".join(f'<di:waypoint x="{x:.0f}" y="{y:.0f}" />' for x, y in pts)
            if f.get("name"):
                w, h = _label_size(f["name"])
                wps += (f'<bpmndi:BPMNLabel><dc:Bounds x="{label[0]:.0f}" y="{label[1] - h:.0f}" width="{w}" '
                        f'height="{h}" /></bpmndi:BPMNLabel>')
            edges.append(f'<bpmndi:BPMNEdge id="{f["id"]}_di" bpmnElement="{f["id"]}">{wps}</bpmndi:BPMNEdge>')
        plane_el = f"Collaboration_{self.pid}" if has_lanes else self.pid
        collab = (f'<bpmn:collaboration id="Collaboration_{self.pid}"><bpmn:participant id="Participant_{self.pid}" '
                  f'name={quoteattr(self.name)} processRef="{self.pid}" /></bpmn:collaboration>') if has_lanes else ""
        ns_extra = ('xmlns:camunda="http://camunda.org/schema/1.0/bpmn"' if self.dialect == "camunda"
                    else 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"')
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
            'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'{ns_extra} id="Definitions_{self.pid}" targetNamespace="http://bpmn.io/schema/bpmn">\n'
            f"{collab}\n"
            f'<bpmn:process id="{self.pid}" name={quoteattr(self.name)} isExecutable="true">{guide}\n'
            + body.replace("><bpmn:", ">\n<bpmn:") +
            f'\n</bpmn:process>\n<bpmndi:BPMNDiagram id="Diagram_{self.pid}"><bpmndi:BPMNPlane id="Plane_{self.pid}" '
            f'bpmnElement="{plane_el}">\n' + "\n".join(shapes + edges) + "\n</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>\n"
            "</bpmn:definitions>\n"
        )

    def write(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.xml())
