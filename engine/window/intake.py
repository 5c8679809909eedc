"""综合受理: the front desk's verdict on an application, judged against the matter's service guide.

One complete notice of everything missing (一次性告知) instead of accepting; 容缺 (accept while non-key materials
are owed, to be supplied before any result is handed out); 告知承诺 (a written commitment instead of a proof);
不予受理 with a written reason; and 数据共享 — a material the government already holds (a valid certificate of the
holder, a material handed in with an earlier accepted case, a shared register) is not asked for again.

`lookup` finds what is shared for this holder (database reads); `judge` is pure, so a replay given the recorded
submission and lookup reaches the same verdict.
"""
from __future__ import annotations

import json

from sqlalchemy import select

from ..db import Case, Event
from ..errors import Invalid
from ..files.registry import file_refs
from ..messages import Message
from . import ledger as L
from .certificates import holder_key
from .outcomes import active_members
from .base import RESERVED, Call, Rule

# Shared government registers (数据共享) a material may be replaced by: name -> test on (applicant, form data).
RECORDS = {
    "population": lambda a, d: bool(a.get("id_number") or d.get("id_number")),  # 人口库 (identity checked online)
    "enterprise": lambda a, d: bool(a.get("credit_code")),                      # 法人库
    "hospital": lambda a, d: bool(d.get("baby_name")),                          # 出生信息 pushed by the hospital
    "employment": lambda a, d: bool(d.get("leaving_reason") in ("dismissed", "contract_ended")),  # 用工备案
}
STATUSES = ("provided", "deferred", "commitment")


def active_materials(guide: dict, process_id: str, data: dict) -> list[dict]:
    """A guide's materials for the members actually applied for (unchosen optional members drop out)."""
    active = set(active_members(guide, process_id, data))
    return [m for m in guide.get("materials") or [] if isinstance(m, dict) and m.get("id")
            and (not m.get("members") or set(m["members"]) & active)]


def application(data: dict) -> dict:
    """The applicant's form data inside a task's data (what the platform and the rules add left out)."""
    return {k: v for k, v in data.items() if k not in RESERVED}


def shared_materials(s, certs, guide: dict, process_id: str, applicant: dict, data: dict) -> dict[str, str]:
    """material id -> where it is already held for this holder, naming what holds it: `cert:TYPE:NUMBER` (a valid
    certificate), `case:MATERIAL:CASE NUMBER` (handed in with an earlier accepted case), `record:NAME` (a shared
    register). The holder is recognised by credit code, else ID number (certificates.holder_key)."""
    holder = holder_key(applicant)
    held: dict[str, str] = {}
    if holder and certs is not None:
        for c in certs.valid_for(s, holder):
            held.setdefault(c.cert_type, c.number)
    before: dict[str, str] = {}
    for e in earlier_applications(s, holder):
        for k, v in (e.get("materials") or {}).items():
            if v in ("provided", "shared"):
                before[k] = e.get("case") or ""  # the latest case that holds it
    out = {}
    for m in active_materials(guide, process_id, data):
        for sub in m.get("substitutes") or []:
            kind, _, name = sub.partition(":")
            if kind == "cert" and name in held:
                out[m["id"]] = f"{sub}:{held[name]}"
            elif kind == "case" and name in before:
                out[m["id"]] = f"{sub}:{before[name]}" if before[name] else sub
            elif kind == "record" and name in RECORDS and RECORDS[name](applicant, data):
                out[m["id"]] = sub
            else:
                continue
            break
    return out


def source_parts(source: str | None) -> tuple[str, str, str]:
    """(kind, name, reference) of a 数据共享 source: ('cert', 'business_licence', 'BUSINESS_LICE-…'),
    ('case', 'lease', 'OW…'), ('record', 'population', '')."""
    kind, name, ref = (str(source or "").split(":", 2) + ["", ""])[:3]
    return kind, name, ref


def earlier_applications(s, holder: str) -> list[dict]:
    """Materials and form data of the holder's earlier ACCEPTED applications (oldest first), each with its case
    number under `case`."""
    if not holder:
        return []
    rows = s.execute(select(Event.payload, Case.applicant, Case.number).join(Case, Case.id == Event.case_id)
                     .where(Event.type == "intake_accepted", Case.applicant.contains(holder))
                     .order_by(Event.id)).all()
    return [dict(json.loads(p), case=n) for p, a, n in rows if holder_key(json.loads(a)) == holder]


def judge(guide: dict, process_id: str, data: dict, submission: dict, shared: dict, online_start: bool = False,
          files: dict | None = None) -> dict:
    """The verdict on an application: accepted or refused (一次性告知 / 不予受理), each material's status and
    source, what is owed (容缺), whether a commitment (告知承诺) stands in for a proof. Raises Invalid for a
    submission the window cannot take (容缺 with 告知承诺, 容缺 on a 即办件, a refusal without a reason, an online
    application with materials missing, a file for a material not handed in). `files`: material id -> hashes of
    the files handed in with it."""
    asked = submission.get("materials") or {}
    reason = str(submission.get("reason") or "").strip()
    remark = str(submission.get("remark") or "").strip()
    if submission.get("accepted") is False:
        if not (reason or remark):
            raise Invalid("不予受理须写明理由", {"reason": "不予受理须写明理由"})
        _check_files(guide, process_id, data, files, None)
        return {"accepted": False, "kind": "不予受理", "materials": {}, "sources": {}, "owed": [], "missing": [],
                "commitment": False, "reason": reason or remark, "remark": remark}
    statuses, sources, missing = {}, {}, []
    for m in active_materials(guide, process_id, data):
        mid, want = m["id"], asked.get(m["id"])
        if want == "provided":
            statuses[mid] = "provided"
        elif mid in shared:
            statuses[mid], sources[mid] = "shared", shared[mid]
        elif want == "deferred" and m.get("deferrable"):
            statuses[mid] = "deferred"
        elif want == "commitment" and m.get("commitment_allowed"):
            statuses[mid] = "commitment"
        elif m.get("required", True):
            missing.append(m["name"] + ("（不可容缺）" if want == "deferred" else
                                        "（不适用告知承诺）" if want == "commitment" else ""))
    _check_files(guide, process_id, data, files, statuses)
    owed = [k for k, v in statuses.items() if v == "deferred"]
    commitment = "commitment" in statuses.values()
    if owed and commitment:
        raise Invalid("容缺受理与告知承诺不能同时适用于一个办件", {"materials": "容缺受理与告知承诺请二选一"})
    if guide.get("handling") == "即办件" and owed:
        raise Invalid("即办件不适用容缺受理", {"materials": "即办件须材料齐全，不能容缺"})
    if missing:
        notice = missing_notice(guide, missing)
        if online_start:
            raise Invalid(notice, {"materials": "；".join(missing)})
        return {"accepted": False, "kind": "一次性告知", "materials": statuses, "sources": sources, "owed": [],
                "missing": missing, "commitment": False, "reason": notice, "remark": remark}
    kind = "容缺受理" if owed else "告知承诺" if commitment else "受理"
    return {"accepted": True, "kind": kind, "materials": statuses, "sources": sources, "owed": owed, "missing": [],
            "commitment": commitment, "reason": "", "remark": remark or kind}


def _check_files(guide: dict, process_id: str, data: dict, files: dict | None, statuses: dict | None) -> None:
    """Files go with a material of this application that was handed in (收取), nothing else."""
    ids = {m["id"] for m in active_materials(guide, process_id, data)}
    for mid in files or {}:
        if mid not in ids:
            raise Invalid(Message("文件对应的材料不在本申请的材料清单中", "the files name a material this application "
                                  "does not list"), {f"files.{mid}": Message("不是本事项的材料", "not a material of this matter")})
        if statuses is not None and statuses.get(mid) != "provided":
            raise Invalid(Message("只能为已收取的材料附文件", "files go with a material that was handed in"),
                          {f"files.{mid}": Message("该材料未标为已收取", "this material is not marked as handed in")})


def missing_notice(guide: dict, missing: list[str]) -> str:
    lines = "\n".join(f"{i}. {name}" for i, name in enumerate(missing, 1))
    return f"《一次性告知书》您申请的“{guide.get('name')}”尚缺以下材料，请一次备齐后再来办理：\n{lines}"


def verdict_effects(verdict: dict, data: dict) -> list[tuple[str, dict]]:
    if verdict["accepted"]:
        return [("intake_accepted", {"kind": verdict["kind"], "materials": verdict["materials"],
                                     "sources": verdict["sources"], "owed": verdict["owed"],
                                     "commitment": verdict["commitment"], "data": application(data)})]
    return [("intake_refused", {"kind": verdict["kind"], "missing": verdict["missing"], "reason": verdict["reason"]})]


class IntakeRule(Rule):
    """`rule=intake` on the front desk's first task (or on the start event of a matter applied for online only)."""

    name = "intake"
    takes_files = True

    def __init__(self, certificates=None):
        self.certs = certificates

    def lookup(self, tx, call: Call) -> dict:
        applicant = call.wf.data.get("applicant") or {}
        return {"shared": shared_materials(tx.s, self.certs, call.guide, call.process_id, applicant,
                                           application(call.task.data)), "edition": L.EDITION}

    def apply(self, call: Call) -> dict:
        data = application(call.task.data)
        refs = file_refs(call.data.get("files"))
        submission = call.data
        submitted = L.read(call.wf).get("submitted")  # 网上预审: what the applicant handed in online
        if submitted and "materials" not in submission:
            submission = dict(submission, materials=submitted.get("materials") or {})
        verdict = judge(call.guide, call.process_id, data, submission, call.context.get("shared") or {}, files=refs)
        L.write(call.wf, intake=dict(verdict, by=call.actor))
        if call.context.get("edition"):
            L.write(call.wf, edition=call.context["edition"])
        L.add_files(call.wf, "intake", refs, call.context.get("files") or {}, call.actor)
        for type_, payload in verdict_effects(verdict, data):
            call.emit(type_, payload)
        return {"accepted": verdict["accepted"], "materials": verdict["materials"], "owed": verdict["owed"],
                "commitment": verdict["commitment"], "missing": verdict["missing"], "reason": verdict["reason"],
                "remark": verdict["remark"], "kind": verdict["kind"]}
