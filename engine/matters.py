"""Rules at the window and in the back office, on top of `engine.services.Services`.

Why a layer and not BPMN alone: 一次性告知, 容缺, 告知承诺 and 数据共享 are judged against the matter's service
guide (engine.guide) and the holder's earlier cases and certificates, which the diagram cannot see. The diagram
still enforces what it can: a case with deferred materials cannot reach pickup until the 补齐 task is done, a
department may return a case for 补正 only once, and each member's decision is kept under its own key.

Conventions of the catalogue (tools/catalogue.py): a matter applied for alone is process `m_<id>`, a
department's review of it `rv_<id>` (decision in results['rv_<id>']['review']), a bundle `b_<id>`.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from SpiffWorkflow.util.task import TaskState

from .certificates import Certificates, holder_key
from .db import Blob, Case, Event, ProcessVersion, WorkItem
from .errors import Conflict, Invalid, NotFound
from .guide import guide_from_bpmn
from .services import SYSTEM, Actor

# Shared government records (数据共享) a material may be replaced by: name -> test on (applicant, form data).
RECORDS = {
    "population": lambda a, d: bool(a.get("id_number") or d.get("id_number")),  # 人口库 (identity checked online)
    "enterprise": lambda a, d: bool(a.get("credit_code")),                      # 法人库
    "hospital": lambda a, d: bool(d.get("baby_name")),                          # 出生信息 pushed by the hospital
    "employment": lambda a, d: bool(d.get("leaving_reason") in ("dismissed", "contract_ended")),  # 用工备案
}
DECIDED = {"approve": "approved", "reject": "rejected"}


class Matters:
    def __init__(self, services, certificates: Certificates | None = None, records: dict | None = None):
        self.sv = services
        self.certs = certificates or Certificates(services)
        self.records = dict(RECORDS, **(records or {}))
        self._guides: dict[int, dict] = {}

    # ------------------------------------------------------------------ guide and materials
    def guide(self, process_id: str, s=None) -> dict:
        if s is None:
            with self.sv.uow() as s2:
                return self.guide(process_id, s2)
        version = self.sv.latest_version(s, process_id)
        return self._version_guide(s, version)

    def _version_guide(self, s, version: ProcessVersion) -> dict:
        if version.id not in self._guides:
            blob = s.get(Blob, json.loads(version.files)[version.file_name])
            self._guides[version.id] = guide_from_bpmn(blob.content, version.process_id)
        return self._guides[version.id]

    def prepare(self, process_id: str, applicant: dict, data: dict | None = None) -> dict:
        """What this holder must still bring: each material with status 'shared' (免提交, and from what) or
        'needed'; and form fields filled in from the holder's earlier applications."""
        data = data or {}
        with self.sv.uow() as s:
            version = self.sv.latest_version(s, process_id)
            guide = self._version_guide(s, version)
            form = self.sv.form_schema(s, version, json.loads(version.meta or "{}").get("start_form")) or {}
            fields = set(form.get("properties", {})) - {"materials", "owed", "commitment"}
            holder = holder_key(applicant)
            certs = {c.cert_type for c in self.certs.valid_for(s, holder)}
            earlier = self._earlier(s, holder)
            provided_before = set().union(*(set(k for k, v in e["materials"].items() if v in ("provided", "shared"))
                                            for e in earlier)) if earlier else set()
            prefill = {}
            for e in earlier:  # oldest first; later applications win
                prefill.update({k: v for k, v in e["data"].items() if k in fields})
        out = []
        for m in _active_materials(guide, dict(prefill, **data)):
            source = self._substitute(m, certs, provided_before, applicant, dict(prefill, **data))
            out.append(dict(m, status="shared" if source else "needed", source=source))
        return {"guide": guide, "materials": out, "prefill": prefill}

    def _substitute(self, m, certs, provided_before, applicant, data) -> str | None:
        for sub in m.get("substitutes") or []:
            kind, _, name = sub.partition(":")
            if (kind == "cert" and name in certs) or (kind == "case" and name in provided_before) or \
                    (kind == "record" and name in self.records and self.records[name](applicant, data)):
                return sub
        return None

    def _earlier(self, s, holder: str) -> list[dict]:
        """Materials and form data of the holder's earlier ACCEPTED applications (oldest first)."""
        rows = s.execute(select(Event.payload, Case.applicant).join(Case, Case.id == Event.case_id)
                         .where(Event.type == "intake_accepted", Case.applicant.contains(holder))
                         .order_by(Event.id)).all()
        return [json.loads(p) for p, a in rows if holder and holder_key(json.loads(a)) == holder]

    # ------------------------------------------------------------------ intake
    def apply(self, actor: Actor, process_id: str, applicant: dict, data: dict, provided=(), deferred=(),
              commitments=(), channel: str = "window") -> dict:
        """Intake at the window: refuse with ONE notice of everything missing, or accept (with 容缺/告知承诺)."""
        prep = self.prepare(process_id, applicant, data)
        guide = prep["guide"]
        statuses, missing = {}, []
        for m in prep["materials"]:
            mid = m["id"]
            if mid in provided:
                statuses[mid] = "provided"
            elif m["status"] == "shared":
                statuses[mid] = "shared"
            elif mid in deferred and m.get("deferrable"):
                statuses[mid] = "deferred"
            elif mid in commitments and m.get("commitment_allowed"):
                statuses[mid] = "commitment"
            elif m.get("required", True):
                missing.append(m["name"] + ("（不可容缺）" if mid in deferred else "（不适用告知承诺）" if mid in commitments else ""))
        owed = [k for k, v in statuses.items() if v == "deferred"]
        commitment = "commitment" in statuses.values()
        if owed and commitment:
            raise Invalid("容缺受理与告知承诺不能同时适用于一个办件", {"deferred": "请二选一"})
        if guide.get("handling") == "即办件" and owed:
            raise Invalid("即办件不适用容缺受理", {"deferred": "即办件须材料齐全"})
        payload = dict(prep["prefill"], **data, materials=statuses, owed=owed, commitment=commitment)
        notice = _missing_notice(guide, missing) if missing else None
        if notice and channel == "online":
            raise Invalid(notice["text"], {"materials": "；".join(missing)})
        case = self.sv.start_case(actor, process_id, applicant, payload, channel=channel)
        intake = _task(case, "intake", required=False)
        if intake is None:  # online-only matters have no window intake
            return self._after(case["id"], accepted=True, statuses=statuses, data=payload)
        if notice:
            case = self.sv.complete(actor, intake["id"], {"accepted": False, "missing": missing,
                                                          "reason": notice["text"]})
            self._record(case["id"], actor, "intake_refused", {"kind": "一次性告知", "missing": missing,
                                                                 "notice": notice["text"]})
            return dict(self.view(case["id"]), notice=notice)
        case = self.sv.complete(actor, intake["id"], {"accepted": True,
                                                      "remark": "容缺受理" if owed else "告知承诺" if commitment else "受理"})
        return self._after(case["id"], accepted=True, statuses=statuses, data=payload, actor=actor)

    def refuse(self, actor: Actor, process_id: str, applicant: dict, data: dict, reason: str) -> dict:
        """不予受理 (not our matter, not eligible...): the case is recorded and closed with the written reason."""
        if not reason.strip():
            raise Invalid("不予受理须写明理由", {"reason": "必填 (required)"})
        case = self.sv.start_case(actor, process_id, applicant, dict(data, materials=data.get("materials", {}),
                                                                      owed=[], commitment=False))
        case = self.sv.complete(actor, _task(case, "intake")["id"], {"accepted": False, "reason": reason})
        self._record(case["id"], actor, "intake_refused", {"kind": "不予受理", "reason": reason})
        return dict(self.view(case["id"]), notice={"kind": "不予受理", "text": f"不予受理决定：{reason}"})

    def on_spot(self, actor: Actor, process_id: str, applicant: dict, data: dict, provided=(), decision="approve",
                opinion="材料齐全，当场办结") -> dict:
        """即办件: the front desk accepts and decides at once; the case ends at the window (one visit)."""
        case = self.apply(actor, process_id, applicant, data, provided=provided)
        if "notice" in case:
            return case
        self.sv.complete(actor, _task(case, "onsite")["id"], {"decision": decision, "opinion": opinion})
        return self.settle(case["id"])

    def _after(self, case_id: int, accepted: bool, statuses: dict, data: dict, actor: Actor = SYSTEM) -> dict:
        self._record(case_id, actor, "intake_accepted", {"materials": statuses, "data": data})
        return self.settle(case_id)

    # ------------------------------------------------------------------ back office
    def review(self, actor: Actor, task_id: str, decision: str, opinion: str, corrections: list[str] | None = None) -> dict:
        """A department's decision; 补正 (return to the applicant with a list) is allowed once per review."""
        with self.sv.uow() as s:
            item = s.get(WorkItem, task_id)
            if item is None:
                raise NotFound(f"no ready task {task_id}")
            case_id, pid = item.case_id, item.process_id
        if decision == "correct" and "correction" in self.results(case_id).get(pid, {}):
            raise Invalid("补正只能退回一次，请作出准予或不予的决定", {"decision": "已补正过一次"})
        data = {"decision": decision, "opinion": opinion}
        if corrections:
            data["corrections"] = list(corrections)
        self.sv.complete(actor, task_id, data)
        return self.settle(case_id)

    def supplement(self, actor: Actor, case_id: int, supplied: list[str], remark: str = "") -> dict:
        """The applicant's supplement: answers a 补正 request, or brings the deferred (容缺) materials."""
        case = self.sv.get_case(case_id)
        task = _task(case, "correction", required=False) or _task(case, "supply", required=False)
        if task is None:
            raise Conflict("这个办件现在不需要补充材料")
        if task["element_id"] == "supply":
            still = [m for m in self.owed(case_id) if m["id"] not in supplied]
            if still:
                raise Invalid("容缺材料尚未补齐", {m["id"]: f"仍欠：{m['name']}" for m in still})
        self.sv.complete(actor, task["id"], {"supplied": list(supplied), "remark": remark})
        return self.settle(case_id)

    def post_check(self, actor: Actor, case_id: int, result: str, remark: str = "") -> dict:
        """事后核查 of a 告知承诺 approval; a false commitment revokes the certificate."""
        case = self.sv.complete(actor, _task(self.sv.get_case(case_id), "post_check")["id"],
                                {"result": result, "remark": remark})
        if result == "violation":
            for c in self.certs.for_case(case_id):
                if c["status"] == "valid":
                    self.certs.revoke(actor, c["number"], f"告知承诺不实（事后核查）：{remark}")
        return self.view(case["id"])

    # ------------------------------------------------------------------ pickup
    def pickup(self, actor: Actor, case_id: int, method: str = "window", tracking_no: str | None = None) -> dict:
        """统一出件: hand out every approval (with its e-certificate) and every refusal notice."""
        case = self.sv.get_case(case_id)
        task = _task(case, "pickup", required=False)
        if task is None:
            owed = self.owed(case_id)
            if owed:
                raise Conflict("容缺材料未补齐，不能出件：" + "、".join(m["name"] for m in owed))
            raise Conflict("这个办件现在不能出件")
        data = {"method": method}
        if tracking_no:
            data["tracking_no"] = tracking_no
        self.sv.complete(actor, task["id"], data)
        if method == "window":
            with self.sv.uow() as s:
                self.sv._lock_case(s, case_id).visits += 1
        return self.settle(case_id)

    # ------------------------------------------------------------------ views
    def results(self, case_id: int) -> dict:
        """results[process][element] merged over every task of the case (parallel branches each keep theirs)."""
        with self.sv.uow() as s:
            case = s.get(Case, case_id)
            if case is None:
                raise NotFound(f"no such case: {case_id}")
            wf, _ = self.sv._load(s, case, s.get(ProcessVersion, case.version_id))
        tasks = [t for w in [wf, *wf.subprocesses.values()] for t in w.tasks.values()
                 if t.state & (TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED)]
        merged: dict = {}
        for t in sorted(tasks, key=lambda t: t.last_state_change):
            for pid, elements in (t.data.get("results") or {}).items():
                merged.setdefault(pid, {}).update(elements)
        return merged

    def start_data(self, case_id: int) -> dict:
        with self.sv.uow() as s:
            ev = s.scalar(select(Event).where(Event.case_id == case_id, Event.type == "case_started"))
            return json.loads(ev.payload)["data"] if ev else {}

    def owed(self, case_id: int) -> list[dict]:
        """Deferred (容缺) materials not yet supplied."""
        case = self.sv.get_case(case_id)
        guide = self.guide_of_case(case_id)
        supplied = set((self.results(case_id).get(case["process_id"], {}).get("supply") or {}).get("supplied", []))
        names = {m["id"]: m["name"] for m in guide.get("materials", [])}
        return [{"id": m, "name": names.get(m, m)} for m in self.start_data(case_id).get("owed", []) if m not in supplied]

    def guide_of_case(self, case_id: int) -> dict:
        with self.sv.uow() as s:
            case = s.get(Case, case_id)
            return self._version_guide(s, s.get(ProcessVersion, case.version_id))

    def outcomes(self, case_id: int) -> list[dict]:
        """Per member: approved / refused / pending / not handled (a prerequisite failed) / not chosen."""
        case = self.sv.get_case(case_id)
        guide, results, data = self.guide_of_case(case_id), self.results(case_id), self.start_data(case_id)
        pid = case["process_id"]
        refused_at_intake = (results.get(pid, {}).get("intake") or {}).get("accepted") is False
        choose = guide.get("choose") or {}
        chosen = set(data.get(choose.get("field"), [])) if choose else set()
        members = guide.get("members") or [pid[2:] if pid.startswith("m_") else pid]
        infos = guide.get("member_guides") or {members[0]: {"name": guide.get("name"), "department": guide.get("department"),
                                                            "certificate": guide.get("certificate")}}
        out = []
        for mid in members:
            info = infos.get(mid, {})
            if choose and mid in choose.get("options", []) and mid not in chosen:
                continue
            d = _member_decision(results, pid, mid)
            status = ("refused_at_intake" if refused_at_intake else DECIDED[d["decision"]] if d and d.get("decision") in DECIDED
                      else "not_handled" if case["status"] == "completed" or _task(case, "pickup", required=False)
                      else "pending")
            text = {"approved": f"准予：{info.get('name')}", "rejected": f"不予许可决定书：{info.get('name')}。理由：{(d or {}).get('opinion', '')}",
                    "not_handled": f"未办理：{info.get('name')}（前置事项未获准予）", "pending": f"办理中：{info.get('name')}",
                    "refused_at_intake": f"不予受理：{info.get('name')}"}[status]
            out.append({"matter": mid, "name": info.get("name"), "department": info.get("department"), "status": status,
                        "opinion": (d or {}).get("opinion"), "notice": text, "certificate": info.get("certificate")})
        return out

    def settle(self, case_id: int) -> dict:
        """Issue the e-certificates of approved members once the result may be handed out (pickup done, or the
        case ended without a pickup: 即办件, 秒批). Idempotent, so a retry after a failure completes the job."""
        case = self.sv.get_case(case_id)
        handed_out = case["status"] == "completed" or "pickup" in self.results(case_id).get(case["process_id"], {})
        if handed_out:
            outcomes = self.outcomes(case_id)
            with self.sv.uow() as s:
                row = self.sv._lock_case(s, case_id)
                have = {c.matter for c in s.scalars(select(_Cert).where(_Cert.case_id == case_id))}
                applicant = json.loads(row.applicant)
                for o in outcomes:
                    if o["status"] == "approved" and o["certificate"] and o["matter"] not in have:
                        c = self.certs.issue(s, row, o["matter"], o["certificate"], applicant)
                        self.sv._append(s, row, SYSTEM, "", "certificate_issued", None, None,
                                        {"number": c["number"], "matter": o["matter"], "verify_code": c["verify_code"]},
                                        self.sv.clock())
        return self.view(case_id)

    def view(self, case_id: int) -> dict:
        case = self.sv.get_case(case_id)
        return dict(case, owed=self.owed(case_id), outcomes=self.outcomes(case_id),
                    certificates=self.certs.for_case(case_id))

    def visit_stats(self) -> dict:
        """最多跑一次: share of finished cases with at most one visit."""
        with self.sv.uow() as s:
            visits = s.scalars(select(Case.visits).where(Case.status == "completed")).all()
        one = sum(1 for v in visits if v <= 1)
        return {"cases": len(visits), "at_most_one_visit": one, "share": round(one / len(visits), 4) if visits else None}

    def _record(self, case_id: int, actor: Actor, type_: str, payload: dict) -> None:
        with self.sv.uow() as s:
            case = self.sv._lock_case(s, case_id)
            self.sv._append(s, case, actor, "", type_, None, None, payload, self.sv.clock())


from .certificates import Certificate as _Cert  # noqa: E402


def _member_decision(results: dict, pid: str, mid: str) -> dict | None:
    for proc, element in ((f"rv_{mid}", "review"), (pid, "onsite"), (pid, "auto"), (pid, "commit")):
        d = (results.get(proc) or {}).get(element)
        if d:
            return d
    return None


def _active_materials(guide: dict, data: dict) -> list[dict]:
    """A bundle's materials of the members actually applied for (unchosen optional members drop out)."""
    choose = guide.get("choose")
    if not choose:
        return list(guide.get("materials", []))
    chosen = set(data.get(choose["field"], []))
    active = {m for m in guide.get("members", []) if m not in choose["options"] or m in chosen}
    return [m for m in guide.get("materials", []) if not m.get("members") or set(m["members"]) & active]


def _missing_notice(guide: dict, missing: list[str]) -> dict:
    lines = "\n".join(f"{i}. {name}" for i, name in enumerate(missing, 1))
    return {"kind": "一次性告知", "missing": missing,
            "text": f"《一次性告知书》您申请的“{guide.get('name')}”尚缺以下材料，请一次备齐后再来办理：\n{lines}"}


def _task(case: dict, element_id: str, required: bool = True) -> dict | None:
    for t in case["tasks"]:
        if t["element_id"] == element_id:
            return t
    if required:
        raise Conflict(f"办件 {case.get('number')} 当前没有“{element_id}”待办")
    return None
