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

SIZES = {"startEvent": (36, 36), "endEvent": (36, 36), "exclusiveGateway": (50, 50), "parallelGateway": (50, 50),
         "inclusiveGateway": (50, 50), "intermediateCatchEvent": (36, 36), "boundaryEvent": (36, 36)}
TASK = (110, 80)


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
        self.flows.append(dict(id=fid or f"Flow_{src}_{tgt}", src=src, tgt=tgt, cond=cond, name=name))

    def chain(self, *ids):
        for a, b in zip(ids, ids[1:]):
            self.flow(a, b)

    def lane(self, lid, name):
        self.lanes.append((lid, name))

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

    def _lane_xml(self) -> str:
        if not self.lanes:
            return ""
        parts = []
        for lid, lname in self.lanes:
            refs = "".join(f"<bpmn:flowNodeRef>{n['id']}</bpmn:flowNodeRef>" for n in self.nodes if n.get("lane") == lid)
            parts.append(f'<bpmn:lane id="{lid}" name={quoteattr(lname)}>{refs}</bpmn:lane>')
        return f'<bpmn:laneSet id="LaneSet_{self.pid}">{"".join(parts)}</bpmn:laneSet>'

    def xml(self) -> str:
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
            shapes.append(f'<bpmndi:BPMNShape id="{n["id"]}_di" bpmnElement="{n["id"]}"><dc:Bounds x="{x:.0f}" y="{y:.0f}" '
                          f'width="{w}" height="{h}" /></bpmndi:BPMNShape>')
        for f in self.flows:
            sx, sy, sw, sh = bounds[f["src"]]
            tx, ty, tw, th = bounds[f["tgt"]]
            a = (sx + sw, sy + sh / 2)
            b = (tx, ty + th / 2)
            pts = [a, (a[0] + 20, a[1]), (a[0] + 20, b[1]), b] if abs(a[1] - b[1]) > 1 else [a, b]
            if b[0] < a[0]:  # a loop back: go below
                low = max(sy + sh, ty + th) + 30
                pts = [(sx + sw / 2, sy + sh), (sx + sw / 2, low), (tx + tw / 2, low), (tx + tw / 2, ty + th)]
            wps = "".join(f'<di:waypoint x="{x:.0f}" y="{y:.0f}" />' for x, y in pts)
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
