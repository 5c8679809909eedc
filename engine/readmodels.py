"""Read models the web pages and the JSON API share: the matter catalogue, case members, opinions, the diagram.

They only read (deployed versions, case views, events) through the service layer's session and helpers.
"""
from __future__ import annotations

import json

from lxml import etree
from sqlalchemy import func, select

from engine.model.bpmn import task_meta
from engine.model.deploy import kind_of
from engine.model.rulecheck import uses_window_rules
from engine.db import Blob, Case, ProcessVersion, User
from engine.errors import NotFound
from engine.messages import Message
from engine.titles import group_title

FRONT_GROUPS = {"front_desk", "pickup"}


def _latest_versions(s) -> list[ProcessVersion]:
    latest = select(func.max(ProcessVersion.id)).group_by(ProcessVersion.process_id)
    return list(s.scalars(select(ProcessVersion).where(ProcessVersion.id.in_(latest))
                          .order_by(ProcessVersion.process_id)).all())


def _user_tasks(services, s, version) -> list[tuple[str, object]]:
    """(process id, task spec) of every user task of a version, called processes included."""
    bundle = services.spec_bundle(s, version)
    out = []
    for spec in [bundle.spec, *[sp for sp in bundle.subprocess_specs.values() if sp is not None]]:
        for ts in spec.task_specs.values():
            if getattr(ts, "manual", False):
                out.append((spec.name, ts))
    return out


def guide_of(s, version) -> dict:
    """The version's service guide, pinned at deploy (engine.model.deploy); one the engine derived from the diagram
    alone is marked `derived`."""
    return json.loads(version.meta or "{}").get("guide") or {}


def _summary(services, s, version, names: dict | None = None) -> dict:
    """A catalogue row: what the guide says, by titles (departments, member matters, certificates), never codes."""
    meta, guide = json.loads(version.meta or "{}"), guide_of(s, version)
    real = {} if guide.get("derived") else guide
    calls = list(meta.get("calls") or [])
    members = real.get("member_guides") or {}
    if real.get("department"):
        departments = ([m.get("department") for m in members.values() if m.get("department")] if members
                       else [real["department"]])
    else:  # a diagram without a guide: the groups its tasks are offered to
        groups = sorted({g for _, ts in _user_tasks(services, s, version) for g in task_meta(ts).groups})
        departments = [str(group_title(g)) for g in groups if g not in FRONT_GROUPS]
    certs = ([(m.get("certificate") or {}).get("name") for m in members.values()] if members
             else [(real.get("certificate") or {}).get("name")])
    return {"code": version.process_id, "name": real.get("name") or version.name,
            "item_code": real.get("code"), "short_name": real.get("short_name"), "kind": kind_of(guide, calls),
            "departments": list(dict.fromkeys(departments)),
            "handling": real.get("handling"), "promised_days": real.get("promised_days"),
            "statutory_days": real.get("statutory_days"), "fees": list(real.get("fees") or []),
            "members": calls,
            "member_names": [(members.get(c) or {}).get("name") or (names or {}).get(c) or c for c in calls],
            "certificates": [c for c in certs if c],
            # a bundle is found by whatever finds one of its members
            "keywords": list(dict.fromkeys([*(real.get("keywords") or []), *(
                w for m in members.values() for w in [m.get("short_name"), *(m.get("keywords") or [])] if w)]))}


def _haystack(row: dict) -> str:
    """What a catalogue search looks in: code, names, short name, departments, members, certificates, keywords."""
    return "\n".join([row["code"], row.get("item_code") or "", row["name"], row.get("short_name") or "",
                      *row["departments"],
                      *row["member_names"], *row["certificates"], *row["keywords"]]).lower()


def matches(row: dict, q: str) -> bool:
    """Every word of `q` (split on spaces) is found in the row's haystack."""
    hay = _haystack(row)
    return all(word in hay for word in (q or "").lower().split())


def matters(services, q: str = "") -> list[dict]:
    """The public catalogue (latest versions of what one applies for), searched by `q`: names, short names,
    departments, member matters, certificates produced and keywords. Internal reviews, dispatchers and demo
    samples are left out (a sample still deploys and opens by its code)."""
    with services.uow() as s:
        versions = _latest_versions(s)
        called = {c for v in versions for c in json.loads(v.meta or "{}").get("calls") or []}
        names = {v.process_id: v.name for v in versions}
        rows = []
        for v in versions:
            guide = guide_of(s, v)
            hidden = guide.get("kind") in ("internal", "sample")
            if hidden or (v.process_id in called and (not guide or guide.get("derived"))):
                continue
            rows.append(_summary(services, s, v, names))
    return [m for m in rows if matches(m, q)]


def online_modes(services) -> dict[str, str]:
    """process id -> how its guide says it is applied for (全程网办 / 网上预审 / 窗口办理), latest versions."""
    with services.uow() as s:
        return {v.process_id: guide_of(s, v).get("online") or "窗口办理" for v in _latest_versions(s)}


# Case data the platform itself writes (engine.runtime.services PLATFORM_KEYS, the window rules' records)
PLATFORM_LABELS = {"applicant": Message("申请人", "applicant"), "channel": Message("渠道", "channel"),
                   "results": Message("办理结果", "results"), "decisions": Message("审查结论", "decisions"),
                   "window": Message("窗口规则记录", "window record"), "intake": Message("受理", "intake"),
                   "inspections": Message("联合踏勘", "joint inspections"), "owed": Message("容缺材料", "deferred materials"),
                   "commitment": Message("告知承诺", "commitment"), "reminded": Message("已催办", "reminded"),
                   "name": Message("名称", "name"), "type": Message("类型", "type"),
                   "credit_code": Message("统一社会信用代码", "unified credit code"),
                   "id_number": Message("身份证号", "ID number"), "phone": Message("联系电话", "phone"),
                   "documents": Message("文书", "documents"), "decision": Message("结论", "decision"),
                   "certificate": Message("证照", "certificate"), "certificates": Message("证照", "certificates"),
                   "correction": Message("补正", "correction"), "corrections": Message("补正", "corrections"),
                   "receipt": Message("受理通知书", "acceptance notice"), "notice": Message("一次性告知书", "one-time notice"),
                   "refusal": Message("不予受理决定书", "decision not to accept"), "members": Message("事项", "members"),
                   "materials": Message("材料", "materials"), "files": Message("电子件", "files"),
                   "sources": Message("来源", "sources"), "edition": Message("版次", "edition"),
                   "pickup": Message("出件", "pickup"), "accepted": Message("予以受理", "accepted"),
                   "opinion": Message("意见", "opinion"), "level": Message("审查层级", "level"),
                   "supplied": Message("已补交材料", "supplied"), "kind": Message("类别", "kind"),
                   "source": Message("来源", "source"), "deadline": Message("期限", "deadline"),
                   "active": Message("在办事项", "members in hand"), "by": Message("经办人", "by"),
                   "handed": Message("已交付", "handed over"), "missing": Message("缺少材料", "missing"),
                   "levels": Message("各级审查", "review levels"), "item": Message("当前事项", "current member"),
                   "permit": Message("许可事项", "permit")}


def data_label(services, version, key: str, _cache: dict | None = None) -> str:
    """A dotted case-data key (as the audit's step view names a change) in words: each part by its form field
    title, the platform's own names, or the member matter's name; a part nobody named stays as it is."""
    labels = _cache if _cache is not None else data_labels(services, version)
    if key in labels:
        return labels[key]
    parts = [bit for part in key.split(".") for bit in part.split(":")]
    words = [labels.get(p) or PLATFORM_LABELS.get(p) or p for p in parts]
    zh = " · ".join(str(w) for w in words)
    return Message(zh, " · ".join(getattr(w, "en", w) for w in words))


def data_labels(services, version) -> dict[str, str]:
    """Field titles of every form of a version (start form first), member matters' names and the names of the steps
    of its diagrams, by key."""
    meta = json.loads(version.meta or "{}")
    names = [meta.get("start_form")] + sorted(f[:-5] for f in json.loads(version.files) if f.endswith(".json"))
    out: dict[str, str] = {}
    with services.uow() as s:
        for name in names:
            schema = services.form_schema(s, version, name) or {}
            for key, prop in (schema.get("properties") or {}).items():
                if isinstance(prop, dict) and prop.get("title"):
                    out.setdefault(key, prop["title"])
        guide = guide_of(s, version)
        for m in guide.get("materials") or []:
            if isinstance(m, dict) and m.get("id"):
                out.setdefault(m["id"], m.get("name") or m["id"])
        for mid, info in (guide.get("member_guides") or {}).items():
            out.setdefault(mid, info.get("name") or mid)
        if guide.get("name") and not guide.get("derived"):
            out.setdefault(version.process_id, guide["name"])
        bundle = services.spec_bundle(s, version)  # steps by their names in the diagrams (results.<process>.<step>)
        for spec in (bundle.spec, *bundle.subprocess_specs.values()):
            for ts in (spec.task_specs.values() if spec is not None else ()):
                if ts.bpmn_id and ts.bpmn_name:
                    out.setdefault(ts.bpmn_id, ts.bpmn_name)
        for pid, pname in s.execute(select(ProcessVersion.process_id, ProcessVersion.name)).all():
            out.setdefault(pid, pname)
    return out


def actor_names(services, usernames) -> dict[str, str]:
    """Display names of the people who acted, for pages (events keep the user name)."""
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    with services.uow() as s:
        return dict(s.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all())


def negative_list(services) -> list[dict]:
    """负面清单: the matters that need more than one visit, each with the reason the public is given (from the guides
    of the latest versions)."""
    with services.read() as s:
        out = []
        for v in _latest_versions(s):
            guide = guide_of(s, v)
            if not guide.get("negative_list"):
                continue
            out.append({"code": v.process_id, "name": guide.get("name") or v.name,
                        "department": guide.get("department") or "", "visits": guide.get("visits") or 2,
                        "reason": guide["negative_list"].get("reason") or ""})
        return out


def exists(services, code: str) -> bool:
    with services.uow() as s:
        return s.scalar(select(ProcessVersion.id).where(ProcessVersion.process_id == code).limit(1)) is not None


def intake_form_name(services, s, version) -> str | None:
    """The form of the front desk's intake task (the first front-desk user task of the top process)."""
    bundle = services.spec_bundle(s, version)
    for ts in bundle.spec.task_specs.values():
        if getattr(ts, "manual", False) and "front_desk" in task_meta(ts).groups:
            return task_meta(ts).form
    return None


def matter(services, code: str) -> dict:
    """A matter's guide: summary, materials, start form schema, intake form schema and every group."""
    with services.uow() as s:
        version = services.latest_version(s, code)
        meta = json.loads(version.meta or "{}")
        guide = guide_of(s, version)
        out = _summary(services, s, version, {v.process_id: v.name for v in _latest_versions(s)})
        out.update({
            "version_id": version.id,
            "materials": list(guide.get("materials") or []),
            "form": services.form_schema(s, version, meta.get("start_form")) or {"type": "object", "properties": {}},
            "intake_form": services.form_schema(s, version, intake_form_name(services, s, version)),
            "groups": sorted({g for _, ts in _user_tasks(services, s, version) for g in task_meta(ts).groups}),
            "guide": guide,
            "rules": uses_window_rules(guide),
            "startable": services.startable(version),
        })
        return out


def material_id(m) -> str:
    return (m.get("id") or m.get("name", "")) if isinstance(m, dict) else str(m)


def material_name(m) -> str:
    return m.get("name", "") if isinstance(m, dict) else str(m)


def intake_record(events: list[dict]) -> dict:
    """What the window decided, from the case's events: accepted?, materials (id -> status), their sources,
    what is owed, missing names, the reason of a refusal, the remark."""
    out = {"accepted": None, "kind": None, "materials": {}, "sources": {}, "owed": [], "missing": [], "reason": "",
           "remark": ""}
    for e in events:
        p = e["payload"] or {}
        if e["type"] == "intake_accepted":
            out.update(accepted=True, kind=p.get("kind"), materials=dict(p.get("materials") or {}),
                       sources=dict(p.get("sources") or {}), owed=list(p.get("owed") or []))
        elif e["type"] == "intake_refused":
            out.update(accepted=False, kind=p.get("kind"), missing=list(p.get("missing") or []),
                       reason=p.get("reason") or "")
        elif e["type"] == "task_completed" and p.get("rule") == "intake":
            out["remark"] = (p.get("data") or {}).get("remark") or out["remark"]
    return out


def intake_preview(services, process_id: str, applicant: dict, data: dict | None = None) -> dict:
    """What the front desk sees before 受理: each material of the guide as `shared` (免提交, with where it is
    held) or `needed`, and the form fields the holder filled in before (一次填报)."""
    from engine.window.intake import active_materials, shared_materials

    data = data or {}
    with services.uow() as s:
        version = services.latest_version(s, process_id)
        guide = services.guide(version)
        certs = services.rules.certs if services.rules is not None else None
        shared = shared_materials(s, certs, guide, process_id, applicant, data)
        schema = services.form_schema(s, version, json.loads(version.meta or "{}").get("start_form")) or {}
        prefill = services.rules.prefill(s, guide, applicant, set(schema.get("properties") or {})) \
            if services.rules is not None else {}
    from engine.window.notices import source_text

    return {"materials": [dict(m, status="shared" if m["id"] in shared else "needed", source=shared.get(m["id"]),
                               source_text=source_text(shared[m["id"]]) if m["id"] in shared else "")
                          for m in active_materials(guide, process_id, dict(prefill, **data))],
            "prefill": prefill}


def intake_outcome(services, process_id: str, applicant: dict, data: dict, verdict: dict) -> dict | None:
    """The verdict the intake rule would reach now (with what is on file for this holder), before anything is
    stored: lets the front desk confirm a 受理 that will turn into a 一次性告知. None when the application itself
    has errors or the rule refuses the submission outright (the real attempt reports why)."""
    from engine.errors import Invalid
    from engine.model.forms import validate
    from engine.runtime.services import applicant_problems
    from engine.window.intake import judge, shared_materials

    with services.uow() as s:
        version = services.latest_version(s, process_id)
        guide = services.guide(version)
        form = json.loads(version.meta or "{}").get("start_form")
        schema = services.form_schema(s, version, form)
        if services.rules is not None and schema:  # as the service layer does: 一次填报 fills what it knows
            fields = set(schema.get("properties") or {}) - services.reserved()
            data = dict(services.rules.prefill(s, guide, applicant, fields), **data)
        try:
            validate(schema, data, form or "")
        except Invalid:
            return None
        if applicant_problems(applicant):
            return None
        certs = services.rules.certs if services.rules is not None else None
        shared = shared_materials(s, certs, guide, process_id, applicant, data) if services.rules is not None else {}
    if not guide.get("materials"):
        return None
    try:
        return judge(guide, process_id, data, {k: v for k, v in verdict.items() if k != "files"}, shared)
    except Invalid:
        return None


def visit_stats(services) -> dict:
    """最多跑一次: the share of finished cases that took at most one visit."""
    with services.uow() as s:
        visits = s.scalars(select(Case.visits).where(Case.status == "completed")).all()
    one = sum(1 for v in visits if v <= 1)
    return {"cases": len(visits), "at_most_one_visit": one, "share": round(one / len(visits), 4) if visits else None}


def task_form(services, process_version_id: int, form: str | None) -> dict | None:
    return services.form_of(process_version_id, form)


def completed_reviews(events: list[dict]) -> list[dict]:
    """Every completed task with its data, oldest first: the opinions later departments read."""
    return [{"process_id": e["payload"].get("process_id"), "element_id": e["element_id"],
             "name": e["payload"].get("name"), "actor": e["actor"], "group": e["group"], "at": e["at"],
             "data": e["payload"].get("data") or {}}
            for e in events if e["type"] == "task_completed"]


def members(services, case: dict, events: list[dict], results: dict | None = None) -> list[dict]:
    """One entry per called process of a bundle (or the matter itself): status and the decision it came to
    (for the diagram: which call activities are running or done)."""
    with services.uow() as s:
        meta = json.loads(s.get(ProcessVersion, case["version_id"]).meta or "{}")
    procs = list(meta.get("calls") or []) or [case["process_id"]]
    with services.uow() as s:
        names = dict(s.execute(select(ProcessVersion.process_id, ProcessVersion.name)
                               .where(ProcessVersion.process_id.in_(procs)).order_by(ProcessVersion.id)).all())
    done = completed_reviews(events)
    out = []
    for pid in procs:
        mine = [d for d in done if d["process_id"] == pid]
        open_ = [t for t in case["tasks"] if t["process_id"] == pid]
        status = case["status"] if pid == case["process_id"] else "running" if open_ else "completed" if mine else "pending"
        decisions = [d["data"]["decision"] for d in mine if "decision" in d["data"]]
        out.append({"matter": pid, "name": names.get(pid, pid), "status": status,
                    "outcome": decisions[-1] if decisions else None})
    return out


def case_detail(services, case_id: int, actor=None) -> dict:
    """The case as the API and the case page show it: its view (tasks, and under the window rules what is owed,
    each member's outcome, certificates, the notice of a refusal), events, the called processes."""
    case = services.case_view(case_id, actor)
    events = services.events(case_id, actor)
    intake = intake_record(events)
    return dict(case, matter=case["process_id"], members=members(services, case, events), events=events,
                accepted=intake["accepted"], intake=intake)


def diagram(services, case: dict, events: list[dict]) -> str:
    """SVG of the case's top process: completed and active elements highlighted (called processes shown
    through their call activities)."""
    from engine.model import diagram as dg

    with services.uow() as s:
        version = s.get(ProcessVersion, case["version_id"])
        files = json.loads(version.files)
        xml = s.get(Blob, files[version.file_name]).content.encode("utf-8")
    calls = _call_activities(xml, case["process_id"])
    completed = {e["element_id"] for e in events if e["type"] == "task_completed" and e["element_id"]
                 and e["payload"].get("process_id") == case["process_id"]}
    active = {t["element_id"] for t in case["tasks"] if t["process_id"] == case["process_id"]}
    for m in members(services, case, events):
        for el in calls.get(m["matter"], []):
            (active if m["status"] == "running" else completed if m["status"] == "completed" else set()).add(el)
    return dg.render_svg(xml, case["process_id"], completed=completed, active=active, title=case.get("title"))


def _call_activities(xml: bytes, process_id: str) -> dict[str, list[str]]:
    """calledElement -> call activity ids in the process."""
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    out: dict[str, list[str]] = {}
    for proc in root.iter("{*}process"):
        if proc.get("id") != process_id:
            continue
        for ca in proc.iter("{*}callActivity"):
            out.setdefault(ca.get("calledElement"), []).append(ca.get("id"))
    return out


def version_of_task(services, task: dict) -> int:
    return services.get_case(task["case_id"])["version_id"]


def find_task(services, actor, task_id: str) -> dict:
    """A ready task the actor may work on, with its case; NotFound when it is no longer open to them."""
    return services.task_for(actor, task_id)
