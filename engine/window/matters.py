"""Rules at the window and in the back office, on top of `engine.runtime.services.Services`.

Why a layer and not BPMN alone: 一次性告知, 容缺, 告知承诺 and 数据共享 are judged against the matter's service
guide (engine.model.guide) and the holder's earlier cases and certificates, which the diagram cannot see. The diagram
still enforces what it can: a case with deferred materials cannot reach pickup until the 补齐 task is done, a
department may return a case for 补正 only once, and each member's decision is kept under its own key.

Conventions of the catalogue (tools/catalogue.py): a matter applied for alone is process `m_<id>`, a
department's review of it `rv_<id>` (decision in results['rv_<id>']['review']), a bundle `b_<id>`.
"""
from __future__ import annotations

import json

from sqlalchemy import select

from .certificates import Certificates, holder_key
from ..db import Blob, Case, Event, ProcessVersion
from ..errors import Conflict, Invalid, NotFound
from ..model.guide import guide_from_bpmn
from ..runtime.services import SYSTEM, Actor, merged_results

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
        """Intake at the window: refuse with ONE notice of everything missing, or accept (with 容缺/告知承诺).
        The case is started, accepted or refused, and (for matters decided at once) certified in ONE transaction."""
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
        with self.sv.new_case(actor, process_id, applicant, payload, channel=channel) as tx:
            intake = tx.open_item("intake")
            if intake is not None and notice:
                tx.complete(actor, intake.id, {"accepted": False, "missing": missing, "reason": notice["text"]})
                tx.append(actor, "intake_refused", {"kind": "一次性告知", "missing": missing, "notice": notice["text"]})
            else:
                if intake is not None:  # online-only matters have no window intake
                    tx.complete(actor, intake.id, {"accepted": True, "remark": "容缺受理" if owed else
                                                   "告知承诺" if commitment else "受理"})
                tx.append(actor, "intake_accepted", {"materials": statuses, "data": payload})
                self._settle(tx)
        out = self.view(tx.case.id)
        return dict(out, notice=notice) if notice else out

    def refuse(self, actor: Actor, process_id: str, applicant: dict, data: dict, reason: str) -> dict:
        """不予受理 (not our matter, not eligible...): the case is recorded and closed with the written reason."""
        if not reason.strip():
            raise Invalid("不予受理须写明理由", {"reason": "必填 (required)"})
        start = dict(data, materials=data.get("materials", {}), owed=[], commitment=False)
        with self.sv.new_case(actor, process_id, applicant, start) as tx:
            tx.complete(actor, _open(tx, "intake").id, {"accepted": False, "reason": reason})
            tx.append(actor, "intake_refused", {"kind": "不予受理", "reason": reason})
        return dict(self.view(tx.case.id), notice={"kind": "不予受理", "text": f"不予受理决定：{reason}"})

    def on_spot(self, actor: Actor, process_id: str, applicant: dict, data: dict, provided=(), decision="approve",
                opinion="材料齐全，当场办结") -> dict:
        """即办件: the front desk accepts and decides at once; the case ends at the window (one visit)."""
        case = self.apply(actor, process_id, applicant, data, provided=provided)
        if "notice" in case:
            return case
        with self.sv.case_action(case["id"]) as tx:
            tx.complete(actor, _open(tx, "onsite").id, {"decision": decision, "opinion": opinion})
            self._settle(tx)
        return self.view(case["id"])

    # ------------------------------------------------------------------ back office
    def review(self, actor: Actor, task_id: str, decision: str, opinion: str, corrections: list[str] | None = None) -> dict:
        """A department's decision; 补正 (return to the applicant with a list) is allowed once per review."""
        with self.sv.case_action(task_id=task_id) as tx:
            item = tx.item(task_id)
            if decision == "correct" and "correction" in _results(tx).get(item.process_id, {}):
                raise Invalid("补正只能退回一次，请作出准予或不予的决定", {"decision": "已补正过一次"})
            data = {"decision": decision, "opinion": opinion}
            if corrections:
                data["corrections"] = list(corrections)
            tx.complete(actor, task_id, data)
            self._settle(tx)
        return self.view(tx.case.id)

    def supplement(self, actor: Actor, case_id: int, supplied: list[str], remark: str = "") -> dict:
        """The applicant's supplement: answers a 补正 request, or brings the deferred (容缺) materials."""
        with self.sv.case_action(case_id) as tx:
            item = tx.open_item("correction") or tx.open_item("supply")
            if item is None:
                raise Conflict("这个办件现在不需要补充材料")
            if item.element_id == "supply":
                still = [m for m in self._owed(tx) if m["id"] not in supplied]
                if still:
                    raise Invalid("容缺材料尚未补齐", {m["id"]: f"仍欠：{m['name']}" for m in still})
            tx.complete(actor, item.id, {"supplied": list(supplied), "remark": remark})
            self._settle(tx)
        return self.view(case_id)

    def post_check(self, actor: Actor, case_id: int, result: str, remark: str = "") -> dict:
        """事后核查 of a 告知承诺 approval; a false commitment revokes the certificate in the same transaction."""
        with self.sv.case_action(case_id) as tx:
            tx.complete(actor, _open(tx, "post_check").id, {"result": result, "remark": remark})
            if result == "violation":
                for c in tx.s.scalars(select(_Cert).where(_Cert.case_id == case_id, _Cert.status == "valid")).all():
                    self.certs.revoke_in(tx, actor, c, f"告知承诺不实（事后核查）：{remark}")
        return self.view(case_id)

    # ------------------------------------------------------------------ pickup
    def pickup(self, actor: Actor, case_id: int, method: str = "window", tracking_no: str | None = None) -> dict:
        """统一出件: hand out every approval (with its e-certificate) and every refusal notice, in one transaction."""
        with self.sv.case_action(case_id) as tx:
            item = tx.open_item("pickup")
            if item is None:
                owed = self._owed(tx)
                if owed:
                    raise Conflict("容缺材料未补齐，不能出件：" + "、".join(m["name"] for m in owed))
                raise Conflict("这个办件现在不能出件")
            data = {"method": method}
            if tracking_no:
                data["tracking_no"] = tracking_no
            tx.complete(actor, item.id, data)
            if method == "window":
                tx.case.visits += 1
            self._settle(tx)
        return self.view(case_id)

    # ------------------------------------------------------------------ views (each its own read transaction)
    def results(self, case_id: int) -> dict:
        """results[process][element] merged over every task of the case (parallel branches each keep theirs)."""
        with self.sv.case_view_tx(case_id) as tx:
            return _results(tx)

    def start_data(self, case_id: int) -> dict:
        with self.sv.uow() as s:
            return _start_data(s, case_id)

    def owed(self, case_id: int) -> list[dict]:
        """Deferred (容缺) materials not yet supplied."""
        with self.sv.case_view_tx(case_id) as tx:
            return self._owed(tx)

    def guide_of_case(self, case_id: int) -> dict:
        with self.sv.uow() as s:
            case = s.get(Case, case_id)
            if case is None:
                raise NotFound(f"no such case: {case_id}")
            return self._version_guide(s, self.sv.version(s, case.version_id))

    def outcomes(self, case_id: int) -> list[dict]:
        """Per member: approved / refused / pending / not handled (a prerequisite failed) / not chosen."""
        with self.sv.case_view_tx(case_id) as tx:
            return self._outcomes(tx)

    def settle(self, case_id: int) -> dict:
        """Issue any certificate still due (idempotent; every action above already settles in its own transaction)."""
        with self.sv.case_action(case_id) as tx:
            self._settle(tx)
        return self.view(case_id)

    def view(self, case_id: int) -> dict:
        with self.sv.case_view_tx(case_id) as tx:
            out = dict(self.sv._case_view(tx.s, tx.case), owed=self._owed(tx), outcomes=self._outcomes(tx))
        return dict(out, certificates=self.certs.for_case(case_id))

    def visit_stats(self) -> dict:
        """最多跑一次: share of finished cases with at most one visit."""
        with self.sv.uow() as s:
            visits = s.scalars(select(Case.visits).where(Case.status == "completed")).all()
        one = sum(1 for v in visits if v <= 1)
        return {"cases": len(visits), "at_most_one_visit": one, "share": round(one / len(visits), 4) if visits else None}

    # ------------------------------------------------------------------ inside a transaction
    def _owed(self, tx) -> list[dict]:
        guide = self._version_guide(tx.s, tx.version)
        supplied = set((_results(tx).get(tx.case.process_id, {}).get("supply") or {}).get("supplied", []))
        names = {m["id"]: m["name"] for m in guide.get("materials", [])}
        return [{"id": m, "name": names.get(m, m)} for m in _start_data(tx.s, tx.case.id).get("owed", [])
                if m not in supplied]

    def _outcomes(self, tx) -> list[dict]:
        guide, results, data = self._version_guide(tx.s, tx.version), _results(tx), _start_data(tx.s, tx.case.id)
        pid = tx.case.process_id
        refused_at_intake = (results.get(pid, {}).get("intake") or {}).get("accepted") is False
        choose = guide.get("choose") or {}
        chosen = set(data.get(choose.get("field"), [])) if choose else set()
        members = guide.get("members") or [pid[2:] if pid.startswith("m_") else pid]
        infos = guide.get("member_guides") or {members[0]: {"name": guide.get("name"), "department": guide.get("department"),
                                                            "certificate": guide.get("certificate")}}
        at_pickup = tx.open_item("pickup") is not None
        out = []
        for mid in members:
            info = infos.get(mid, {})
            if choose and mid in choose.get("options", []) and mid not in chosen:
                continue
            d = _member_decision(results, pid, mid)
            status = ("refused_at_intake" if refused_at_intake else DECIDED[d["decision"]] if d and d.get("decision") in DECIDED
                      else "not_handled" if tx.case.status == "completed" or at_pickup else "pending")
            text = {"approved": f"准予：{info.get('name')}", "rejected": f"不予许可决定书：{info.get('name')}。理由：{(d or {}).get('opinion', '')}",
                    "not_handled": f"未办理：{info.get('name')}（前置事项未获准予）", "pending": f"办理中：{info.get('name')}",
                    "refused_at_intake": f"不予受理：{info.get('name')}"}[status]
            out.append({"matter": mid, "name": info.get("name"), "department": info.get("department"), "status": status,
                        "opinion": (d or {}).get("opinion"), "notice": text, "certificate": info.get("certificate")})
        return out

    def _settle(self, tx) -> None:
        """Issue the e-certificates of approved members once the result may be handed out (pickup done, or the
        case ended without a pickup: 即办件, 秒批), inside the action's own transaction."""
        handed_out = tx.case.status == "completed" or "pickup" in _results(tx).get(tx.case.process_id, {})
        if not handed_out:
            return
        have = {c.matter for c in tx.s.scalars(select(_Cert).where(_Cert.case_id == tx.case.id))}
        applicant = json.loads(tx.case.applicant)
        for o in self._outcomes(tx):
            if o["status"] == "approved" and o["certificate"] and o["matter"] not in have:
                c = self.certs.issue(tx.s, tx.case, o["matter"], o["certificate"], applicant)
                tx.append(SYSTEM, "certificate_issued",
                          {"number": c["number"], "matter": o["matter"], "verify_code": c["verify_code"]})

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

def _open(tx, element_id: str):
    item = tx.open_item(element_id)
    if item is None:
        raise Conflict(f"办件 {tx.case.number} 当前没有“{element_id}”待办")
    return item

def _results(tx) -> dict:
    return merged_results(tx.wf)

def _start_data(s, case_id: int) -> dict:
    ev = s.scalar(select(Event).where(Event.case_id == case_id, Event.type == "case_started"))
    return json.loads(ev.payload)["data"] if ev else {}
