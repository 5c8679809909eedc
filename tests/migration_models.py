"""Versions of a small matter in which a case can wait at every kind of element: a user task, a parallel branch
(one branch done, the other still open), a timer, a call activity (a task of the called process) and an
embedded subprocess. Versions:

  v1  start -> intake -> split -> [a] | [wait (timer) -> b] -> join -> call (mig_sub: sub_task) -> emb (emb_task) -> end
  v2  v1 plus a `final` user task before the end, a new optional field on form mig_review, a renamed intake
  v3  v2 where `a` is reviewed by group market instead of front_desk
  v4  v2 where form mig_review requires a new field `score` (data already filled no longer fits)
  v5  v2 without the timer `wait`

The timer waits an hour, or no time at all when the case started with `fast` true (the worker then fires it).
"""
from __future__ import annotations

import json
from pathlib import Path

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'id="defs_{pid}" targetNamespace="http://example.com/migration">\n')
TIMER = '"PT0S" if fast else "PT1H"'


def _task(tid, name, group="front_desk", form=None):
    form = f' camunda:formKey="{form}"' if form else ""
    return f'<bpmn:userTask id="{tid}" name="{name}" camunda:candidateGroups="{group}"{form} />'


def _flows(*chain):
    return [(a, b) for a, b in zip(chain, chain[1:])]


def kinds_bpmn(version: str) -> str:
    intake_name = "综合受理" if version == "v1" else "综合受理（新）"
    group_a = "market" if version == "v3" else "front_desk"
    timer = version != "v5"
    nodes = ['<bpmn:startEvent id="start" />', _task("intake", intake_name, form="intake"),
             '<bpmn:parallelGateway id="split" />', _task("a", "审查A", group_a, form="mig_review"),
             _task("b", "审查B", form="mig_review"), '<bpmn:parallelGateway id="join" />',
             '<bpmn:callActivity id="call" name="调用" calledElement="mig_sub" />',
             '<bpmn:subProcess id="emb" name="内嵌"><bpmn:startEvent id="emb_start" />'
             + _task("emb_task", "内嵌任务") + '<bpmn:endEvent id="emb_end" />'
             '<bpmn:sequenceFlow id="ef1" sourceRef="emb_start" targetRef="emb_task" />'
             '<bpmn:sequenceFlow id="ef2" sourceRef="emb_task" targetRef="emb_end" /></bpmn:subProcess>',
             '<bpmn:endEvent id="end" />']
    flows = _flows("start", "intake", "split") + [("split", "a"), ("a", "join"), ("join", "call"), ("call", "emb")]
    if not timer:
        flows += [("split", "b"), ("b", "join")]
    else:
        nodes.append('<bpmn:intermediateCatchEvent id="wait" name="公示期"><bpmn:timerEventDefinition>'
                     f'<bpmn:timeDuration>{TIMER}</bpmn:timeDuration></bpmn:timerEventDefinition>'
                     '</bpmn:intermediateCatchEvent>')
        flows += [("split", "wait"), ("wait", "b"), ("b", "join")]
    if version == "v1":
        flows += [("emb", "end")]
    else:
        nodes.append(_task("final", "复核"))
        flows += [("emb", "final"), ("final", "end")]
    body = "\n".join(nodes) + "\n" + "\n".join(
        f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}" />' for a, b in flows)
    return (HEAD.format(pid="mig_kinds") + '<bpmn:process id="mig_kinds" name="迁移测试事项" isExecutable="true">\n'
            + body + "\n</bpmn:process>\n</bpmn:definitions>\n")


def sub_bpmn() -> str:
    return (HEAD.format(pid="mig_sub") + '<bpmn:process id="mig_sub" name="被调用流程" isExecutable="true">\n'
            '<bpmn:startEvent id="sub_start" />\n' + _task("sub_task", "被调用任务") + "\n<bpmn:endEvent id=\"sub_end\" />\n"
            '<bpmn:sequenceFlow id="sf1" sourceRef="sub_start" targetRef="sub_task" />\n'
            '<bpmn:sequenceFlow id="sf2" sourceRef="sub_task" targetRef="sub_end" />\n'
            "</bpmn:process>\n</bpmn:definitions>\n")


def review_form(version: str) -> dict:
    props = {"decision": {"type": "string", "title": "结论", "enum": ["approve", "reject"]},
             "opinion": {"type": "string", "title": "意见"}}
    required = ["decision"]
    if version != "v1":
        props["note"] = {"type": "string", "title": "备注"}
    if version == "v4":
        props["score"] = {"type": "integer", "title": "评分"}
        required.append("score")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "审查", "type": "object",
            "properties": props, "required": required, "additionalProperties": False}


def write_version(directory: Path, version: str) -> tuple[Path, Path]:
    """Write one version's processes and forms; returns (processes dir, forms dir)."""
    procs, forms = directory / version / "processes", directory / version / "forms"
    procs.mkdir(parents=True, exist_ok=True)
    forms.mkdir(parents=True, exist_ok=True)
    (procs / "mig_kinds.bpmn").write_text(kinds_bpmn(version), encoding="utf-8")
    (procs / "mig_sub.bpmn").write_text(sub_bpmn(), encoding="utf-8")
    (forms / "mig_review.json").write_text(json.dumps(review_form(version), ensure_ascii=False), encoding="utf-8")
    root_forms = Path(__file__).resolve().parent.parent / "forms"
    (forms / "intake.json").write_bytes((root_forms / "intake.json").read_bytes())
    return procs, forms
