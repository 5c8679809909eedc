"""What people call the codes the platform keeps: groups (departments and desks), event types, channels, case and
task statuses, pickup methods. Stored rows and events keep the codes; every page and document shows these titles
(zh-CN first, English beside as an engine `Message`), so a code never reaches a reader.

Groups not listed (a designer's new department) fall back to their `groups.title` row, then to the code itself.
"""
from __future__ import annotations

from .messages import Message as M

# The hall's departments and desks. `<dept>_lead` / `<dept>_head` are the 审核 / 审批 levels of a department.
DEPARTMENTS = {
    "market": M("市场监管局", "Market Regulation Bureau"), "tax": M("税务局", "Tax Bureau"),
    "police": M("公安局", "Public Security Bureau"), "social": M("人社局", "Human Resources and Social Security Bureau"),
    "medins": M("医保局", "Healthcare Security Bureau"), "fund": M("公积金中心", "Housing Provident Fund Centre"),
    "health": M("卫健委", "Health Commission"), "estate": M("不动产登记中心", "Real Estate Registration Centre"),
    "housing": M("住建局", "Housing and Construction Bureau"), "dev": M("发改局", "Development and Reform Bureau"),
    "urban": M("城管局", "Urban Management Bureau"), "water": M("自来水公司", "Water Company"),
    "power": M("供电公司", "Power Supply Company"), "gas": M("燃气公司", "Gas Company"),
}
DESKS = {
    "front_desk": M("综合窗口", "Front desk"), "pickup": M("出件窗口", "Pickup window"),
    "supervisor": M("电子监察", "Supervision"), "auditor": M("审计", "Audit"), "admin": M("系统管理员", "Administrator"),
    "designer": M("流程设计", "Process design"), "applicant": M("申请人", "Applicant"), "system": M("系统", "System"),
    "agent": M("帮办代办", "Agent service"),
}
LEVELS = {"lead": M("审核", "second review"), "head": M("审批", "approval")}

EVENTS = {
    "case_started": M("申请提交", "Application submitted"), "intake_accepted": M("受理", "Accepted"),
    "intake_refused": M("不予受理", "Refused"), "task_claimed": M("认领", "Task claimed"),
    "task_completed": M("办理", "Task done"), "task_reassigned": M("转办", "Task reassigned"),
    "timer_fired": M("定时到期", "Timer fired"), "timer_failed": M("定时执行失败", "Timer failed"),
    "case_completed": M("办结", "Case closed"), "case_suspended": M("挂起", "Case suspended"),
    "case_resumed": M("恢复办理", "Case resumed"), "data_corrected": M("数据更正", "Data corrected"),
    "version_migrated": M("迁移流程版本", "Moved to another version"),
    "procedure_started": M("特别程序开始", "Special procedure started"),
    "procedure_ended": M("特别程序结束", "Special procedure ended"), "case_urged": M("督办", "Pressed for action"),
    "reminder_sent": M("催办", "Reminder sent"), "deemed_approved": M("超时默认准予", "Deemed approved"),
    "certificate_issued": M("核发电子证照", "Certificate issued"),
    "certificate_revoked": M("注销电子证照", "Certificate revoked"),
    "document_issued": M("出具文书", "Document issued"),
    "clock_paused": M("暂停计时", "Clock paused"), "clock_resumed": M("恢复计时", "Clock resumed"),
    "case_transferred": M("转办（移交）", "Handed over to another authority"),
    "transfer_acknowledged": M("签收转办", "Hand-over acknowledged"),
}
CHANNELS = {"window": M("窗口", "at the window"), "online": M("网上", "online"), "api": M("接口", "through the API"),
            "mobile": M("移动端", "mobile"), "internal": M("系统发起", "started by the platform")}
STATUSES = {"running": M("办理中", "running"), "completed": M("已办结", "closed"), "pending": M("未开始", "not started"),
            "not_started": M("未开始", "not started"), "ready": M("待认领", "unclaimed"), "claimed": M("已认领", "claimed"),
            "suspended": M("已挂起", "suspended"), "open": M("在办", "open"), "done": M("已办", "done")}
PICKUP = {"window": M("窗口领取", "Handed over at the window"), "express": M("快递送达", "Sent by express")}


def group_title(name: str | None, stored: str | None = None) -> str:
    """A group's title: the hall's table, then a stored title that is not just the code, then the code."""
    if not name:
        return ""
    if name in DEPARTMENTS or name in DESKS:
        return DEPARTMENTS.get(name) or DESKS[name]
    base, _, level = name.rpartition("_")
    if base in DEPARTMENTS and level in LEVELS:
        dept, lv = DEPARTMENTS[base], LEVELS[level]
        return M(f"{dept}（{lv}）", f"{dept.en} ({lv.en})")
    return stored if stored and stored != name else name


def event_title(type_: str | None) -> str:
    return EVENTS.get(type_ or "", type_ or "")


def channel_title(channel: str | None) -> str:
    return CHANNELS.get(channel or "", channel or "")


def status_title(status: str | None) -> str:
    return STATUSES.get(status or "", status or "")


def pickup_title(method: str | None) -> str:
    return PICKUP.get(method or "", method or "")


def all_titles() -> list[M]:
    """Every title above (for the check that each has both languages)."""
    levelled = [group_title(f"{d}_{lv}") for d in DEPARTMENTS for lv in LEVELS]
    return [*DEPARTMENTS.values(), *DESKS.values(), *LEVELS.values(), *EVENTS.values(), *CHANNELS.values(),
            *STATUSES.values(), *PICKUP.values(), *levelled]


def by_chinese(text: str) -> "M | None":
    """The title whose Chinese is `text` (a department name in a guide, say), to give its English."""
    global _BY_ZH
    if _BY_ZH is None:
        _BY_ZH = {str(t): t for t in all_titles()}
    return _BY_ZH.get(text)


_BY_ZH: dict | None = None
