"""What each member of a case came to, and which certificates are due — read off the ledger, never stored twice.

A member is one matter of the case: the matter itself, or each matter of a bundle (一件事). Its outcome is
refused at intake, approved, rejected (by a reviewer, a failed joint inspection or the rules), not handled (a
prerequisite was not approved and the case went on without it), or pending.
"""
from __future__ import annotations

from ..messages import Message
from . import ledger as L

STATUS_TEXT = {"approved": "准予", "rejected": "不予许可", "not_handled": "未办理", "pending": "办理中",
               "refused_at_intake": "不予受理"}


def member_ids(guide: dict, process_id: str) -> list[str]:
    """The members of a case: a bundle's matters, else the matter itself (m_<id> is matter <id>)."""
    return list(guide.get("members") or [process_id[2:] if process_id.startswith("m_") else process_id])


def member_infos(guide: dict, process_id: str) -> dict[str, dict]:
    """member id -> {name, department, certificate} from the guide."""
    infos = guide.get("member_guides")
    if infos:
        return infos
    mid = member_ids(guide, process_id)[0]
    return {mid: {"name": guide.get("name"), "department": guide.get("department"),
                  "certificate": guide.get("certificate")}}


def chosen_members(guide: dict, data: dict) -> list[str] | None:
    """For a bundle whose applicant chooses optional members: the chosen ones (None when nothing is chosen)."""
    choose = guide.get("choose")
    if not choose:
        return None
    return [m for m in data.get(choose["field"]) or [] if m in choose.get("options", [])]


def active_members(guide: dict, process_id: str, data: dict) -> list[str]:
    """Members actually applied for: optional members the applicant did not choose drop out."""
    choose, chosen = guide.get("choose"), chosen_members(guide, data)
    options = set(choose.get("options", [])) if choose else set()
    return [m for m in member_ids(guide, process_id) if m not in options or m in (chosen or [])]


def applied_for(guide: dict, process_id: str, ledger: dict) -> list[str]:
    """The members of this case, as the ledger recorded them when it started."""
    active = ledger.get("active")
    return list(active) if active is not None else member_ids(guide, process_id)


def outcomes(guide: dict, process_id: str, ledger: dict, finished: bool) -> list[dict]:
    """One entry per member applied for. `finished`: the case ended or waits only at pickup (undecided = not
    handled)."""
    infos = member_infos(guide, process_id)
    refused = (ledger.get("intake") or {}).get("accepted") is False
    out = []
    for mid in applied_for(guide, process_id, ledger):
        info, rec = infos.get(mid) or {}, L.member(ledger, mid)
        decision = rec.get("decision")
        status = ("refused_at_intake" if refused else "approved" if decision == "approve" else
                  "rejected" if decision == "reject" else "not_handled" if finished else "pending")
        name = info.get("name") or mid
        why = rec.get("opinion", "")
        notice = {"approved": Message(f"准予：{name}", f"Approved: {name}"),
                  "rejected": Message(f"不予许可决定书：{name}。理由：{why}", f"Refused: {name}. Reason: {why}"),
                  "not_handled": Message(f"未办理：{name}（前置事项未获准予）",
                                         f"Not handled: {name} (an earlier matter was not approved)"),
                  "pending": Message(f"办理中：{name}", f"In progress: {name}"),
                  "refused_at_intake": Message(f"不予受理：{name}", f"Not accepted: {name}")}[status]
        out.append({"matter": mid, "name": name, "department": info.get("department"), "status": status,
                    "opinion": rec.get("opinion"), "source": rec.get("source"), "level": rec.get("level"),
                    "notice": notice, "certificate": info.get("certificate")})
    return out


def certificates_due(guide: dict, process_id: str, ledger: dict, issued: dict) -> list[dict]:
    """Certificates to issue now: approved members with a certificate not issued yet, once nothing is owed
    (容缺 materials block every certificate of the case until supplied). `issued`: member -> certificate."""
    if L.owed(ledger):
        return []
    infos = member_infos(guide, process_id)
    return [{"matter": mid, "certificate": infos[mid]["certificate"]}
            for mid in applied_for(guide, process_id, ledger)
            if L.decided(ledger, mid) == "approve" and (infos.get(mid) or {}).get("certificate") and mid not in issued]


def revocations_due(ledger: dict, issued: dict) -> list[dict]:
    """Certificates to revoke now: a failed post-approval check (告知承诺不实) voids what the commitment won."""
    check = ledger.get("post_check") or {}
    if check.get("result") != "violation":
        return []
    reason = f"告知承诺不实（事后核查）：{check.get('remark') or '承诺内容与实际不符'}"
    return [{"number": cert["number"], "matter": mid, "reason": reason} for mid, cert in sorted(issued.items())
            if cert.get("status") == "valid" and L.member(ledger, mid).get("source") == "commitment"]
