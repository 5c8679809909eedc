"""What each document of a case says (受理通知书, 一次性告知书, 不予受理决定书, 补正告知书, 准予/不予许可决定书).

Which documents a case is due is read off the ledger (`documents_due`, pure, so a replay implies the same ones);
what one says is composed when it is issued (`compose`), from the ledger, the guide, the case and the clock, and
then sealed and kept as it was issued (engine.window.documents). Every document has the same printable shape —
title, fields, sections, closing lines, issuing authority and date — so one template prints them all
(engine.printing).
"""
from __future__ import annotations

import os
from datetime import datetime

from ..clock import for_people, local_date, to_local
from ..messages import Message
from ..runtime.workcal import due_from
from . import ledger as L
from .intake import source_parts
from .outcomes import applied_for, member_infos

KINDS = {"receipt": "受理通知书", "notice": "一次性告知书", "refusal": "不予受理决定书", "correction": "补正告知书",
         "approval": "准予许可决定书", "rejection": "不予许可决定书"}
PREFIX = {"receipt": "SL", "notice": "GZ", "refusal": "BSL", "correction": "BZ", "approval": "ZY", "rejection": "BY"}
STATUS_TEXT = {"provided": "已收取", "deferred": "容缺后补", "commitment": "告知承诺", "shared": "免提交",
               "produced": "本件办理中核发", "submitted": "网上已提交（待预审）"}
RECORD_NAMES = {"population": Message("人口信息库", "population register"),
                "enterprise": Message("法人信息库", "legal-entity register"),
                "hospital": Message("医院出生医学信息", "hospital birth records"),
                "employment": Message("用工备案信息", "employment records")}
APPEAL = ("如对本决定不服，可以自收到本决定书之日起六十日内依法申请行政复议，"
          "或者自收到本决定书之日起六个月内依法向人民法院提起行政诉讼。")
REFUSAL_BASIS = "《中华人民共和国行政许可法》第三十二条"
SOURCE_TEXT = {"auto": "系统按规则自动审批（秒批）", "commitment": "告知承诺制审批，须接受事后核查",
               "inspection": "联合踏勘结论", "on_spot": "窗口即办", "review": "部门审查"}
APPLICANT_TYPES = {"person": "个人", "company": "企业"}


def hall_name() -> str:
    """The issuing hall: `ONEWINDOW_HALL_NAME`, default 政务服务中心."""
    return os.environ.get("ONEWINDOW_HALL_NAME") or "政务服务中心"


def edition(ledger: dict) -> int:
    return int(ledger.get("edition") or 1)


def case_materials(guide: dict, process_id: str, ledger: dict) -> list[dict]:
    """The guide's materials for the members this case applied for (as the ledger recorded them)."""
    active = set(applied_for(guide, process_id, ledger))
    return [m for m in guide.get("materials") or [] if isinstance(m, dict) and m.get("id")
            and (not m.get("members") or set(m["members"]) & active)]


def documents_due(guide: dict, process_id: str, ledger: dict) -> list[tuple[str, str]]:
    """(key, kind) of the documents the ledger calls for that are not issued yet, in the order they arise. An
    approval waits, like its certificate, until nothing is owed."""
    if edition(ledger) < 2:
        return []
    intake = ledger.get("intake") or {}
    wanted: list[tuple[str, str]] = []
    if intake.get("accepted") is True:
        wanted.append(("receipt", "receipt"))
    elif intake.get("accepted") is False:
        wanted.append(("notice", "notice") if intake.get("kind") == "一次性告知" else ("refusal", "refusal"))
    owed = L.owed(ledger)
    for mid in applied_for(guide, process_id, ledger):
        rec = L.member(ledger, mid)
        for n, _ in enumerate(rec.get("corrections") or [], 1):
            wanted.append((f"correction:{mid}:{n}", "correction"))
        if rec.get("decision") == "reject":
            wanted.append((f"decision:{mid}", "rejection"))
        elif rec.get("decision") == "approve" and not owed:
            wanted.append((f"decision:{mid}", "approval"))
    issued = ledger.get("documents") or {}
    return [(k, kind) for k, kind in wanted if k not in issued]


def source_text(source: str | None) -> str:
    """Where a 免提交 material is held, in words: the certificate, the earlier case or the shared register."""
    kind, name, ref = source_parts(source)
    if kind == "cert":
        return Message(f"电子证照 {ref}", f"e-certificate {ref}") if ref else Message("电子证照", "e-certificate")
    if kind == "case":
        return (Message(f"办件 {ref} 已收取", f"received with case {ref}") if ref
                else Message("以往办件已收取", "received with an earlier case"))
    if kind == "record":
        record = RECORD_NAMES.get(name)
        return Message(f"共享数据：{record or name}", f"shared data: {record.en if record else name}")
    return str(source or "")


def owed_deadline(guide: dict, accepted_at: datetime) -> datetime | None:
    """When deferred (容缺) materials are due: `deferral_days` working days of the guide, else its promised days
    (at least one), counted from acceptance."""
    days = guide.get("deferral_days") or guide.get("promised_days") or 1
    return due_from(f"P{max(int(days), 1)}D", accepted_at)


def promised_due(guide: dict, accepted_at: datetime) -> datetime | None:
    days = guide.get("promised_days")
    return due_from(f"P{int(days)}D", accepted_at) if days else None


def materials_rows(guide: dict, process_id: str, ledger: dict) -> list[dict]:
    """Each material of the application with its status (收取 / 容缺 / 承诺 / 免提交 / 未提交), where a shared one is
    held, and the files handed in with it (also later, at 补齐)."""
    intake = ledger.get("intake") or {}
    statuses, sources = intake.get("materials") or {}, intake.get("sources") or {}
    if not intake and ledger.get("submitted"):  # 网上预审: handed in online, until the front desk judges it
        statuses = {k: "submitted" for k, v in (ledger["submitted"].get("materials") or {}).items() if v == "provided"}
        statuses.update({k: v for k, v in (ledger["submitted"].get("materials") or {}).items() if v != "provided"})
    supplied = set(ledger.get("supplied") or [])
    rows = []
    for m in case_materials(guide, process_id, ledger):
        mid = m["id"]
        status = statuses.get(mid)
        if status is None and m.get("produced_by"):  # 一链办理: a member of this case issues it
            status = "produced"
        rows.append({"id": mid, "name": m.get("name", mid), "required": m.get("required", True),
                     "status": status or "missing",
                     "status_text": STATUS_TEXT.get(status, "未提交" if m.get("required", True) else "未提交（非必需）"),
                     "source": sources.get(mid), "source_text": source_text(sources.get(mid)) if mid in sources else "",
                     "supplied": mid in supplied, "produced_by": m.get("produced_by"),
                     "keep_original": bool(m.get("keep_original")),
                     "files": [{k: f.get(k) for k in ("sha256", "name", "size", "content_type", "step")}
                               for f in L.files_of(ledger, mid)]})
    return rows


def _applicant_fields(applicant: dict) -> list[list[str]]:
    ident = applicant.get("credit_code") or applicant.get("id_number") or ""
    label = "统一社会信用代码" if applicant.get("credit_code") else "身份证号码"
    out = [["申请人", applicant.get("name", "")]]
    if ident:
        out.append([label, ident])
    if applicant.get("phone"):
        out.append(["联系电话", applicant["phone"]])
    return out


def _day(at) -> str:
    return f"{local_date(at):%Y年%m月%d日}" if at else ""


def _numbered(lines: list[str]) -> list[str]:
    return [f"{i}. {line}" for i, line in enumerate(lines, 1)]


def compose(kind: str, key: str, *, case: dict, guide: dict, process_id: str, ledger: dict, now: datetime, accepted_at: datetime | None, names: dict[str, str]) -> dict:
    """The content of one document (without its number, which the registry gives). `case`: number and applicant;
    `names`: username -> display name of the people who acted; `accepted_at`: when the intake was taken."""
    applicant = case.get("applicant") or {}
    content = {"kind": kind, "key": key, "title": KINDS[kind], "case": case["number"],
               "matter": {"code": process_id, "name": guide.get("name") or process_id},
               "holder": {"name": applicant.get("name", ""), "type": applicant.get("type", ""),
                          "id": applicant.get("credit_code") or applicant.get("id_number") or ""},
               "issued": to_local(now).isoformat(timespec="seconds"), "authority": hall_name(),
               "fields": [["办件编号", case["number"]], ["申请事项", guide.get("name") or process_id],
                          *_applicant_fields(applicant)],
               "sections": [], "closing": [], "data": {}}
    intake = ledger.get("intake") or {}
    clerk = names.get(intake.get("by") or "", intake.get("by") or "")
    if kind in ("receipt", "notice", "refusal"):
        content["clerk"] = clerk
    build = {"receipt": _receipt, "notice": _notice, "refusal": _refusal, "correction": _correction,
             "approval": _decision, "rejection": _decision}[kind]
    build(content, key=key, guide=guide, process_id=process_id, ledger=ledger, now=now,
          accepted_at=accepted_at or now, names=names, clerk=clerk)
    return content


def _receipt(c, *, guide, process_id, ledger, now, accepted_at, names, clerk, key):
    intake = ledger.get("intake") or {}
    rows = materials_rows(guide, process_id, ledger)
    due = promised_due(guide, accepted_at)
    deadline = owed_deadline(guide, accepted_at) if intake.get("owed") else None
    c["fields"] += [["受理方式", intake.get("kind") or "受理"], ["受理时间", for_people(accepted_at)],
                    ["受理人", clerk]]
    if guide.get("promised_days"):
        c["fields"].append(["承诺时限", f"{guide['promised_days']} 个工作日，于 {_day(due)}前办结"])
    c["fields"].append(["结果领取", "办结后凭本通知书到统一出件窗口领取，或申请快递送达"])
    received = [f"{r['name']}：{r['status_text']}" + (f"（{r['source_text']}）" if r["source_text"] else "")
                + (f"，电子件 {len(r['files'])} 份" if r["files"] else "")
                for r in rows if r["status"] in ("provided", "shared", "commitment")]
    c["sections"].append({"heading": "已收取材料", "lines": _numbered(received) or ["（无）"]})
    owed = [r for r in rows if r["status"] == "deferred"]
    if owed:
        c["sections"].append({"heading": "容缺受理：尚需补齐的材料", "lines": _numbered(
            [f"{r['name']}，请于 {_day(deadline)}前补齐" for r in owed]) + [
            "容缺材料补齐前，不予出具办理结果。"]})
    if intake.get("commitment"):
        c["sections"].append({"heading": "告知承诺", "lines": [
            "申请人已书面承诺符合条件，审批机关将进行事后核查；承诺不实的，依法撤销相关决定。"]})
    if intake.get("remark") and intake.get("remark") != intake.get("kind"):
        c["sections"].append({"heading": "说明", "lines": [intake["remark"]]})
    c["closing"] = ["请凭本通知书查询办理进度、领取办理结果。", "扫描二维码可核验本通知书真伪。"]
    c["data"] = {"kind": intake.get("kind"), "promised_due": due.isoformat() if due else None,
                 "owed": [{"id": r["id"], "name": r["name"], "deadline": deadline.isoformat() if deadline else None}
                          for r in owed],
                 "materials": {r["id"]: r["status"] for r in rows}}


def _notice(c, *, guide, process_id, ledger, now, accepted_at, names, clerk, key):
    intake = ledger.get("intake") or {}
    missing = list(intake.get("missing") or [])
    c["fields"] += [["告知时间", for_people(now)], ["经办人", clerk]]
    c["sections"].append({"heading": "经审查，您的申请材料不齐全，请一次性补齐以下材料后再来办理",
                          "lines": _numbered(missing) or ["（无）"]})
    remark = str(intake.get("remark") or "").strip()
    if remark:
        c["sections"].append({"heading": "说明", "lines": [remark]})
    c["closing"] = ["本告知书一次性告知全部所缺材料，补齐后可再次申请。", "扫描二维码可核验本告知书真伪。"]
    c["data"] = {"missing": missing}


def _refusal(c, *, guide, process_id, ledger, now, accepted_at, names, clerk, key):
    intake = ledger.get("intake") or {}
    basis = list(guide.get("legal_basis") or []) + [REFUSAL_BASIS]
    c["fields"] += [["决定时间", for_people(now)], ["经办人", clerk]]
    c["sections"] += [{"heading": "经审查，决定不予受理，理由如下", "lines": [str(intake.get("reason") or "")]},
                      {"heading": "法律依据", "lines": basis},
                      {"heading": "救济途径", "lines": [APPEAL]}]
    c["closing"] = ["扫描二维码可核验本决定书真伪。"]
    c["data"] = {"reason": intake.get("reason"), "legal_basis": basis, "appeal": APPEAL}


def _member_head(c, guide, process_id, mid) -> dict:
    info = member_infos(guide, process_id).get(mid) or {}
    c["member"] = {"id": mid, "name": info.get("name") or mid}
    c["authority"] = info.get("department") or c["authority"]
    c["fields"][1] = ["申请事项", info.get("name") or mid]
    if info.get("name") and info.get("name") != guide.get("name"):
        c["fields"].insert(2, ["所属一件事", guide.get("name") or process_id])
    return info


def _correction(c, *, guide, process_id, ledger, now, accepted_at, names, clerk, key):
    _, mid, n = key.split(":")
    _member_head(c, guide, process_id, mid)
    rec = L.member(ledger, mid)
    ask = (rec.get("corrections") or [])[int(n) - 1]
    first = (rec.get("levels") or {}).get("1") or {}
    c["reviewer"] = names.get(ask.get("by") or "", ask.get("by") or "")
    c["fields"] += [["告知时间", for_people(now)], ["审查人", c["reviewer"]]]
    c["sections"].append({"heading": "经审查，您的申请需补正以下内容", "lines": _numbered(list(ask.get("requested") or []))})
    if first.get("decision") == "correct" and first.get("opinion"):
        c["sections"].append({"heading": "审查意见", "lines": [first["opinion"]]})
    c["closing"] = ["请将补正材料一次性交至综合窗口；补正期间不计入办理时限。", "扫描二维码可核验本告知书真伪。"]
    c["data"] = {"member": mid, "requested": list(ask.get("requested") or [])}


def _decision(c, *, guide, process_id, ledger, now, accepted_at, names, clerk, key):
    mid = key.split(":", 1)[1]
    info = _member_head(c, guide, process_id, mid)
    rec = L.member(ledger, mid)
    approve = rec.get("decision") == "approve"
    by = rec.get("by") or ""
    c["decider"] = "系统自动审批" if by == "system" else names.get(by, by)
    c["fields"] += [["决定机关", c["authority"]], ["决定", "准予" if approve else "不予许可"],
                    ["决定时间", for_people(now)], ["审批人", c["decider"]]]
    opinion = str(rec.get("opinion") or "")
    c["sections"].append({"heading": "审查意见" if approve else "不予许可的理由", "lines": [opinion or "（无）"]})
    if rec.get("source") in SOURCE_TEXT and rec.get("source") != "review":
        c["sections"].append({"heading": "审批方式", "lines": [SOURCE_TEXT[rec["source"]]]})
    basis = list(info.get("legal_basis") or (guide.get("legal_basis") if len(member_infos(guide, process_id)) == 1
                                            else []) or [])
    if basis:
        c["sections"].append({"heading": "法律依据", "lines": basis})
    cert = info.get("certificate")
    if approve and cert:
        c["sections"].append({"heading": "证照", "lines": [f"准予核发《{cert['name']}》（电子证照），"
                                                            "凭本决定书到统一出件窗口领取或快递送达。"]})
    if not approve:
        c["sections"].append({"heading": "救济途径", "lines": [APPEAL]})
    c["closing"] = ["扫描二维码可核验本决定书真伪。"]
    c["data"] = {"member": mid, "decision": rec.get("decision"), "opinion": opinion, "source": rec.get("source"),
                 "certificate": cert.get("name") if approve and cert else None}
