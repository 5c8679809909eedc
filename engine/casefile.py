"""The case file (卷宗) as a reviewer, the pickup window and the case page read it: the application rendered from its
form with labels, each material with its status, source and files, every opinion given so far, the documents and
certificates issued, and what the pickup window hands over. Read only; pages and the API show the same.
"""
from __future__ import annotations

import json

from .clock import iso_utc
from .db import Case, User
from .errors import NotFound
from .messages import Message
from .model.bpmn import task_meta
from .model.forms import choices, members_of
from .window import ledger as L
from .window.handover import handover_items
from .window.notices import materials_rows, owed_deadline
from .window.outcomes import applied_for, member_infos, outcomes

DECISION_TEXT = {"approve": "准予", "reject": "不予", "correct": "退回补正", "return": "退回上一级"}
LEVEL_NAMES = {1: {1: "审查"}, 2: {1: "审查", 2: "审核"}, 3: {1: "承办", 2: "审核", 3: "审批"}}
LEVEL_EN = {"审查": "review", "审核": "second review", "审批": "approval", "承办": "first review"}
RULE_TEXT = {"intake": "综合受理", "review": "审查", "on_spot": "窗口即办", "inspection": "联合踏勘",
             "correction": "补正", "supply": "补齐容缺材料", "post_check": "事后核查", "pickup": "出件"}


def _display(value, prop: dict) -> str:
    labels = {str(v): t for v, t in choices(prop) or choices(prop.get("items")) if t}
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(labels.get(str(v), v)) for v in value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(labels.get(str(value), value))


def application_rows(schema: dict | None, data: dict, prefix: str = "") -> list[dict]:
    """The application as people read it: each field of the form in its order, by its title (not its key), with
    enum values by their labels; `members`: which members of a bundle the field serves."""
    rows, members = [], members_of(schema)
    for key, prop in ((schema or {}).get("properties") or {}).items():  # the fields typed in, not $defs/system
        value = data.get(key)
        if prop.get("type") == "object" and prop.get("properties"):
            rows += application_rows(prop, value if isinstance(value, dict) else {}, f"{prefix}{key}.")
            continue
        if value is None or value == "" or value == []:
            continue
        rows.append({"key": prefix + key, "label": prop.get("title") or key, "value": value,
                     "display": _display(value, prop), "members": members.get(key, [])})
    return rows


APPLICANT_LABELS = (("name", Message("申请人名称", "Applicant name")),
                    ("credit_code", Message("统一社会信用代码", "Unified credit code")),
                    ("id_number", Message("身份证号", "ID number")), ("phone", Message("联系电话", "Phone")))


def applicant_rows(applicant: dict) -> list[dict]:
    """The applicant block at the head of the application: the form does not ask these again (one field per fact)."""
    return [{"key": f"applicant.{key}", "label": label, "value": applicant[key], "display": str(applicant[key]),
             "members": []} for key, label in APPLICANT_LABELS if applicant.get(key)]


def _names(s, usernames) -> dict[str, str]:
    from sqlalchemy import select

    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    return dict(s.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all())


def _spec_props(bundle, process_id: str, element_id: str) -> dict:
    spec = bundle.spec if process_id == bundle.process_id else bundle.subprocess_specs.get(process_id)
    ts = (spec.task_specs.get(element_id) if spec is not None else None)
    return task_meta(ts).properties if ts is not None else {}


def opinions(services, s, version, guide: dict, process_id: str, ledger: dict, events: list[dict]) -> list[dict]:
    """Every decision and opinion so far, oldest first: each review level of each member (with who and when),
    joint inspections, the window's decisions, 补正 requests and answers; automatic decisions from the ledger."""
    bundle = services.spec_bundle(s, version)
    infos = member_infos(guide, process_id)
    out = []
    for e in events:
        p = e["payload"] or {}
        rule = p.get("rule")
        if e["type"] != "task_completed" or rule not in ("review", "on_spot", "inspection", "correction", "supply",
                                                         "post_check"):
            continue
        props = _spec_props(bundle, p.get("process_id") or "", e["element_id"] or "")
        data = p.get("data") or {}
        member = props.get("member") or (applied_for(guide, process_id, ledger) or [None])[0]
        level, levels = int(props.get("level") or 1), int(props.get("levels") or 1)
        row = {"at": e["at"], "rule": rule, "step": p.get("name") or RULE_TEXT.get(rule, rule), "actor": e["actor"],
               "group": e["group"], "member": member, "member_name": (infos.get(member) or {}).get("name") or member,
               "department": (infos.get(member) or {}).get("department"), "level": None, "level_name": "",
               "decision": data.get("decision"), "decision_text": DECISION_TEXT.get(data.get("decision"), ""),
               "opinion": data.get("opinion") or data.get("findings") or data.get("remark") or "", "entries": []}
        if rule == "review":
            name = LEVEL_NAMES.get(levels, {}).get(level, "")
            row.update(level=level, level_name=Message(f"第{level}级 · {name}".rstrip(" ·"),
                                                       f"level {level} · {LEVEL_EN.get(name, name)}".rstrip(" ·")))
            row["entries"] = list(data.get("corrections") or [])
        elif rule == "inspection":
            row.update(decision="approve" if data.get("passed") else "reject",
                       decision_text="现场符合要求" if data.get("passed") else "现场不符合要求",
                       member=None, member_name=str(props.get("members") or ""))
        elif rule in ("correction", "supply"):
            row["entries"] = list(data.get("supplied") or [])
            row["decision_text"] = "已补正" if rule == "correction" else "已补齐"
        elif rule == "post_check":
            row["decision_text"] = {"ok": "承诺属实", "violation": "承诺不实"}.get(data.get("result"), "")
        out.append(row)
    for mid in applied_for(guide, process_id, ledger):
        rec = L.member(ledger, mid)
        if rec.get("by") == "system" and rec.get("decision"):
            out.append({"at": None, "rule": "auto_decision", "step": "系统自动审批" if rec.get("source") == "auto"
                        else "告知承诺当场准予", "actor": "system", "group": "", "member": mid,
                        "member_name": (infos.get(mid) or {}).get("name") or mid,
                        "department": (infos.get(mid) or {}).get("department"), "level": None, "level_name": "",
                        "decision": rec["decision"], "decision_text": DECISION_TEXT.get(rec["decision"], ""),
                        "opinion": rec.get("opinion") or "", "entries": []})
    names = _names(s, [o["actor"] for o in out])
    for o in out:
        o["actor_name"] = names.get(o["actor"], o["actor"])
    return out


def case_file(services, case_id: int, events: list[dict] | None = None) -> dict:
    """The case file of one case (see the module's docstring)."""
    events = services.events(case_id) if events is None else events
    with services.case_view_tx(case_id) as tx:
        wf, s = tx.wf, tx.s
        version = tx.version
        guide, pid = tx.guide, tx.case.process_id
        ledger = L.read(wf)
        last = wf.last_task.data if wf.last_task is not None else {}
        data = {**wf.data, **last}
        meta = json.loads(version.meta or "{}")
        schema = services.form_schema(s, version, meta.get("start_form")) or {}
        finished = tx.case.status == "completed" or tx.open_item(rule="pickup") is not None
        rules = services.rules
        certificates = rules.certs.for_case_in(s, case_id) if rules is not None and rules.certs is not None else []
        documents = rules.docs.for_case_in(s, case_id) if rules is not None and rules.docs is not None else []
        deadline = owed_deadline(guide, tx.case.created_at) if L.owed(ledger) else None
        out = {
            "application": applicant_rows(json.loads(tx.case.applicant or "{}")) + application_rows(schema, data),
            "application_title": schema.get("title") or guide.get("name") or pid,
            "materials": materials_rows(guide, pid, ledger) if ledger else [],
            "owed": [{"id": m, "name": next((r["name"] for r in materials_rows(guide, pid, ledger) if r["id"] == m), m),
                      "deadline": iso_utc(deadline)} for m in L.owed(ledger)],
            "opinions": opinions(services, s, version, guide, pid, ledger, events) if ledger else [],
            "outcomes": outcomes(guide, pid, ledger, finished) if ledger else [],
            "corrections": {mid: L.member(ledger, mid).get("corrections") or []
                            for mid in applied_for(guide, pid, ledger) if L.member(ledger, mid).get("corrections")},
            "documents": [{k: d[k] for k in ("number", "kind", "key", "title", "issued_at", "verify_code")}
                          for d in documents],
            "certificates": [{k: c[k] for k in ("number", "type", "name", "matter", "status", "verify_code",
                                                  "issued_at", "valid_until", "revoke_reason")} for c in certificates],
            "handover": handover_items(guide, pid, ledger) if ledger else [],
            "pickup": ledger.get("pickup"),
            "edition": int(ledger.get("edition") or 1),
            "derived": bool(guide.get("derived")),  # no service guide: members and outcomes are the diagram's
            "guide": {"name": guide.get("name"), "department": guide.get("department"),
                      "legal_basis": guide.get("legal_basis") or [], "promised_days": guide.get("promised_days")},
        }
        return out


def open_task(services, actor, task_id: str) -> dict:
    """An open task the actor may work on (404 when it is not open, 403 when it is not theirs)."""
    with services.uow() as s:
        item = services._item(s, task_id)
        if item is None:
            raise NotFound(f"no open task {task_id}")
        services._check_may_work(actor, item)
        case = s.get(Case, item.case_id)
        return {"id": item.id, "case_id": item.case_id, "case_number": case.number, "name": item.name,
                "element_id": item.element_id, "process_id": item.process_id, "group": item.group_name,
                "assignee": item.assignee, "status": item.status, "form": item.form, "rule": item.rule,
                "created_at": iso_utc(item.created_at), "due": iso_utc(item.due_at),
                "version_id": case.version_id, "applicant": json.loads(case.applicant)}


def decides(services, task: dict, schema: dict | None) -> dict:
    """What the task's holder decides: the rule, the member and review level, and the choices of the form."""
    with services.uow() as s:
        version = services.version(s, task["version_id"])
        bundle = services.spec_bundle(s, version)
        props = _spec_props(bundle, task["process_id"], task["element_id"])
        guide = services.guide(version)
    infos = member_infos(guide, version.process_id)
    mid = props.get("member")
    level, levels = int(props.get("level") or 1), int(props.get("levels") or 1)
    choice = ((schema or {}).get("properties") or {}).get("decision") or {}
    labels = {v: t for v, t in choices(choice) if t}
    return {"rule": props.get("rule"), "member": mid, "member_name": (infos.get(mid) or {}).get("name") if mid else None,
            "department": (infos.get(mid) or {}).get("department") if mid else None,
            "level": level if props.get("rule") == "review" else None,
            "levels": levels if props.get("rule") == "review" else None,
            "level_name": LEVEL_NAMES.get(levels, {}).get(level, "") if props.get("rule") == "review" else "",
            "options": [{"value": v, "label": labels.get(v, DECISION_TEXT.get(v, v))} for v, _ in choices(choice)]}


def task_desk(services, actor, task_id: str) -> dict:
    """Everything a reviewer needs on one open task: the task, its case, the case file, and what they decide."""
    task = open_task(services, actor, task_id)
    with services.uow() as s:
        version = services.version(s, task["version_id"])
        schema = services.form_schema(s, version, task["form"])
    case = services.case_view(task["case_id"])
    events = services.events(task["case_id"])
    return {"task": task, "case": case, "file": case_file(services, task["case_id"], events),
            "decides": decides(services, task, schema), "form": schema, "events": events}


def file_of_case(services, case_id: int, sha256: str) -> dict:
    """The registry entry of a file the case's ledger names (NotFound otherwise: a hash alone gives nothing)."""
    with services.case_view_tx(case_id) as tx:
        entries = [f for f in L.files_of(L.read(tx.wf)) if f.get("sha256") == sha256]
    if not entries:
        raise NotFound("this case has no such file")
    return entries[0]
