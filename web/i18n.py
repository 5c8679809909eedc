"""Chinese-first UI strings with an English fallback: `?lang=en` switches and a cookie remembers it."""
from __future__ import annotations

from flask import g, has_request_context, request

from engine import clock, titles
from engine.messages import Message, in_lang

LANGS = ("zh", "en")
# key -> (zh, en); the key itself is the Chinese text, so templates stay readable.
STRINGS: dict[str, str] = {
    "一窗受理": "One-window services",
    "“最多跑一次”负面清单": "Matters needing more than one visit (negative list)",
    "以下事项因法定原因须到现场办理不止一次，原因如下。": "These matters need more than one visit in person, for the reasons given.",
    "受理大厅": "Accepted at", "主管部门": "Decided by", "转办": "Transfer", "签收期限": "acknowledge by",
    "逾期未签收": "overdue, not acknowledged", "签收转办": "Acknowledge the transfer",
    "已转办，待对方签收": "Transferred; waiting for the receiving hall to acknowledge", "已签收转办": "Transfer acknowledged",
    "各大厅受理与通办": "Cases per hall, and those accepted for another hall", "大厅": "Hall",
    "其中通办": "of them for another hall", "通办": "accepted for another hall", "转至": "Route to", "本厅决定": "decided here",
    "“最多跑一次”负面清单事项": "Matters needing more than one visit", "一次办结率": "one-visit rate",
    "件均跑动": "visits per case", "不计入“最多跑一次”指标": "not counted in the one-visit figures",
    "负面清单": "the list",
    "跑动次数": "Visits", "原因": "Reason", "暂无负面清单事项": "No matter needs more than one visit",
    "申请人注册": "Applicant sign-up", "法定代表人": "Legal representative", "手机号码": "Mobile number", "电子邮箱（选填）": "E-mail (optional)",
    "注册": "Sign up", "验证手机号": "Confirm your mobile", "验证码": "Code", "验证": "Confirm",
    "验证码已发送到您的手机，15 分钟内有效。": "A code was sent to your mobile; it is valid for 15 minutes.",
    "申请人注册（网上办事）": "New applicant? Sign up to apply online",
    "满意率": "satisfied", "差评": "Bad ratings", "整改中": "being rectified",
    "我的办件": "My cases", "已评价": "Rated", "去评价": "Rate it", "办理环节": "Steps",
    "待补交材料": "Materials still owed", "好差评": "Rate the service", "评价等级": "Your rating",
    "非常满意": "Very satisfied", "满意": "Satisfied", "基本满意": "Fairly satisfied", "不满意": "Dissatisfied",
    "非常不满意": "Very dissatisfied", "评价内容": "Comment", "标签": "Tag", "提交评价": "Submit rating",
    "办结后可评价": "You can rate the case once it is finished",
    "本事项须到窗口办理": "This matter is applied for at a window",
    "请先完成实名注册（手机号验证）再网上申请": "Confirm your identity (sign-up and mobile code) before applying online",
    "在线申请": "Apply online", "已在档": "on file", "上传后提交": "Upload to hand in", "在线提交": "Handed in online",
    "提交申请": "Submit application", "网上已提交（待预审）": "Handed in online (awaiting the front desk's check)", "文书与电子证照": "Documents and e-certificates", "下载": "Download",
    "登录": "Sign in", "退出": "Sign out", "用户名": "Username", "密码": "Password",
    "用户名或密码错误": "Wrong username or password",
    "综合窗口": "Front desk", "待办": "Inbox", "出件窗口": "Pickup window", "办件": "Case",
    "事项目录": "Catalogue", "搜索": "Search", "按名称或编码搜索": "Search by name or code",
    "编码": "Code", "名称": "Name", "类型": "Kind", "事项": "Matter", "一件事": "Bundle",
    "承诺时限": "Promised days", "法定时限": "Statutory days", "办理部门": "Departments",
    "工作日": "working days", "办事指南": "Service guide", "办理方式": "Handling",
    "申请材料": "Materials", "已收取": "Received", "未登记材料清单": "No materials listed",
    "申请人": "Applicant", "个人": "Person", "企业": "Company", "申请人类型": "Applicant type",
    "申请人名称": "Applicant name", "身份证号": "ID number", "统一社会信用代码": "Unified credit code",
    "联系电话": "Phone", "申请表": "Application form", "受理意见": "Intake remark",
    "受理": "Accept", "不予受理": "Refuse", "必填": "required",
    "已受理": "Accepted", "办件编号": "Case number", "受理回执": "Acceptance receipt",
    "一次性告知书": "One-time notice", "打印": "Print", "下载PDF": "Download PDF",
    "缺少的材料": "Missing materials", "请更正以下字段": "Please correct the fields below",
    "接收时间": "Received", "办理期限": "Due", "任务": "Task", "状态": "Status", "操作": "Action",
    "认领": "Claim", "办理": "Work on it", "提交": "Submit", "排序": "Sort", "筛选": "Filter",
    "全部": "All", "办理人": "Assignee", "未认领": "unclaimed", "暂无待办": "Nothing to do",
    "案件概要": "Case summary", "前序部门意见": "Earlier opinions", "暂无": "None yet",
    "该任务已由他人办理或不再可办": "This task was already handled by someone else or is no longer open",
    "无权办理该任务": "This task belongs to another group",
    "办件状态": "Case status", "联办事项": "Member matters", "结果": "Outcome",
    "待办任务": "Open tasks", "办理过程": "Timeline", "流程图": "Diagram",
    "时间": "Time", "环节": "Step", "人员": "By", "部门": "Group",
    "待出件": "Ready to hand out", "窗口领取": "Hand over at window", "快递送达": "Send by express",
    "快递单号": "Tracking number", "交付": "Hand over", "已办结": "Closed",
    "办理中": "running", "已完成": "completed", "未开始": "not started",
    "同意": "approved", "不同意": "rejected", "表单已过期，请重试": "The form expired, please try again",
    "页面不存在": "Page not found", "出错了": "Something went wrong", "返回": "Back",
    "语言": "Language", "验证码": "Verification code", "渠道": "Channel", "到场次数": "Visits",
    # time limits and 电子监察
    "电子监察": "Supervision", "通知": "Notices", "紧急程度": "Urgency", "预警": "Warning", "逾期": "Overdue",
    "暂停": "Paused", "办结": "Done", "正常": "On time", "起始日期": "From", "截止日期": "To",
    "受理件数": "Cases", "按时办结率": "On-time rate", "即办件占比": "On-the-spot share",
    "最多跑一次率": "At most one visit", "件均跑动次数": "Visits per case", "容缺受理": "Deferred materials",
    "告知承诺": "Commitments", "超时默认": "Deemed approvals", "催办": "Reminders", "督办": "Press for action",
    "平均用时（工作日）": "Working days used / promised / statutory", "每日受理量": "Cases per day",
    "受理渠道": "Channels", "件数": "cases", "各部门受理量": "Cases per department",
    "各部门按时办结率": "On-time rate per department", "实际用时": "Used", "承诺时限": "Promised days",
    "法定时限": "Statutory days", "实际用时 / 承诺时限 / 法定时限（工作日）": "Working days used / promised / statutory",
    "办件停留环节（平均小时）": "Where cases wait (average hours)", "已办平均": "done (avg)", "在办平均": "open (avg age)",
    "逾期办件": "Overdue cases", "预警办件": "Cases in warning", "暂停计时办件": "Paused cases", "承诺期限": "Due",
    "法定期限": "Statutory due", "超期（小时）": "Hours over", "剩余（小时）": "Hours left", "暂停原因": "Why paused",
    "停留于": "Waiting at", "各事项时效": "Matters", "各部门时效": "Departments", "办结": "Done",
    "各部门环节办理": "Department steps", "已办环节": "Steps done", "平均小时": "Average hours", "在办": "Open",
    "逾期在办": "Open and overdue", "导出 CSV": "Export CSV", "筛选条件有误": "The filters are not valid",
    "到期日落入未维护年份的在办件": "Open cases due in a year the calendar does not cover",
    "到期日落入未维护年份": "Due in a year the calendar does not cover", "办件详情": "Case page",
    "暂停中": "paused", "办结时间": "Closed", "按时": "on time", "各环节用时": "Steps", "完成时间": "Done at",
    "小时": "Hours", "超期": "late", "督办意见": "What to press for", "已督办": "Pressed", "内容": "Text",
    "受理时间": "Accepted at", "审查意见": "Opinion", "审计": "Audit", "事项编码": "Matter code", "查看": "View",
    # the reviewer's desk and the papers
    "项目": "Field", "填写内容": "Entered", "材料": "Material", "来源": "Source", "电子件": "Files",
    "已补齐": "supplied", "待补齐": "still owed", "补齐": "supplied later", "容缺材料": "Deferred materials",
    "补齐期限": "due by", "结论": "Decision", "意见": "Opinion", "核验": "Verify", "告知承诺": "written commitment",
    "证照": "Certificate", "编号": "Number", "有效": "valid", "已注销": "revoked", "注销原因": "reason for revoking",
    "注销": "Revoke", "本环节": "This step", "第": "Level", "级": "", "可作出": "May decide",
    "已出具文书": "Documents issued", "文书": "Documents", "电子证照": "E-certificates", "说明": "Note",
    "出件": "Pickup", "领取人": "Recipient", "代领": "by proxy", "交付清单": "To hand over",
    "逐项核对后勾选": "tick each item as it is handed over", "受理通知书": "Acceptance notice",
    "不予受理决定书": "Decision not to accept", "受理方式": "Accepted as",
    "容缺受理": "Accepted with deferred materials",
    "免提交": "Not needed (shared data)", "免提交（数据共享）": "Not needed (shared data)",
    "可免提交": "may be covered by shared data", "核验免提交材料": "Check shared data",
    "已按申请人核验数据共享：标“免提交”的材料无需再交。":
        "Shared data checked for this applicant: materials marked as not needed need not be handed in.",
    "材料不齐，不能受理": "Materials are missing: the application cannot be accepted", "缺少": "Missing",
    "确认后将不予受理本次申请，并出具《一次性告知书》一次性告知所缺全部材料。":
        "Confirming refuses this application and issues a one-time notice listing everything missing.",
    "确认出具一次性告知书": "Confirm and issue the one-time notice", "未提交": "not handed in",
    "容缺后补": "deferred", "电子归档": "E-archive", "文书与证照核验": "Verify a document or certificate",
    "未找到该编号的文书或证照": "no document or certificate has this number", "电子印章校验通过": "the seal is intact",
    "证照状态有效": "the certificate is valid", "无效": "not valid", "持有人": "Holder", "出具机关": "Issued by",
    "出具日期": "Issued on", "有效期至": "Valid until", "长期有效": "no expiry", "电子印章": "E-seal",
    "通过": "intact", "不通过": "broken", "本件办理中核发": "issued by this case", "未提交（非必需）": "not handed in (optional)",
}
# The designer's page (web/designer.py, templates/designer/).
STRINGS.update({
    "流程设计": "Process design", "上传并检查 BPMN": "Upload and check BPMN", "流程": "Process", "版本数": "Versions",
    "最新版本": "Latest version", "部署时间": "Deployed", "办理中案件": "Running cases", "版本": "Version",
    "内容哈希": "Content hash", "部署人": "Deployed by", "办理中": "Running", "已挂起": "Suspended",
    "停留环节": "Waiting at", "高亮的环节有案件正在停留": "Highlighted elements have cases waiting in them",
    "无法绘制流程图": "The diagram cannot be drawn", "版本差异": "Changes", "这是第一个版本": "This is the first version",
    "仅布局或说明有变化": "Only the layout or documentation changed", "变化": "Change", "元素": "Element",
    "内容": "Details", "新增": "Added", "删除": "Removed", "修改": "Changed", "字段": "Field", "文件": "File",
    "办理组": "Group", "候选人": "Candidate users", "表单": "Form", "条件": "Condition", "默认流": "Default flow",
    "起点": "From", "终点": "To", "定时": "Timer", "调用流程": "Calls", "决策表": "Decision", "脚本": "Script",
    "附着于": "Attached to", "多实例": "Multi-instance", "标题": "Title", "可选值": "Options",
    "最大长度": "Max length", "最小长度": "Min length", "格式": "Format", "最小值": "Minimum", "最大值": "Maximum",
    "BPMN/DMN 文件及其表单（.json）": "BPMN/DMN files and their forms (.json)", "检查": "Check",
    "检查结果": "Check result", "检查通过": "Check passed", "检查未通过，不能部署": "The check failed: nothing can be deployed",
    "级别": "Level", "行": "Line", "问题": "Problem", "源文件": "Source", "错误": "error", "警告": "warning",
    "部署预览": "Deploy preview", "新流程": "New process", "新版本": "New version", "对比": "compared with",
    "无变化": "Unchanged", "旧版本上的办理中案件": "Running cases on older versions", "部署": "Deploy",
    "已部署新版本": "New versions deployed", "没有变化，未产生新版本": "Nothing changed; no new version",
})

# Chinese words the engine and the catalogue hand to pages as values (handling, material statuses, decisions,
# levels): the catalogue gives their English here, and tests/test_i18n.py checks every one is covered.
STRINGS.update({
    "承诺件": "Processed within the promised time", "即办件": "Done on the spot", "即办（当场办结）": "on the spot",
    "全程网办": "fully online", "网上预审": "pre-checked online", "窗口办理": "at the window", "收费": "Fees",
    "不收费": "free of charge", "元": "yuan", "办理时限": "Time limits", "法定依据": "Legal basis", "出具证照": "Produces",
    "事项类型": "Type", "到场次数上限": "Visits at most", "通办范围": "Where it can be applied for",
    "按名称、简称、部门、证照或关键词搜索": "Search by name, short name, department, certificate or keyword",
    "已收取": "Received", "容缺后补": "deferred", "告知承诺": "written commitment", "免提交（数据共享）": "Not needed (shared data)",
    "非必需未提交": "optional, not handed in", "未提交": "not handed in",
    "准予": "approved", "不予": "refused", "退回补正": "returned for correction", "退回上一级": "returned to the level below",
    "已补正": "corrected", "已补齐": "supplied", "承诺属实": "commitment kept", "承诺不实": "commitment broken",
    "现场符合要求": "site meets the requirements", "现场不符合要求": "site does not meet the requirements",
    "审查": "review", "审核": "second review", "审批": "approval", "承办": "first review",
    "综合受理": "Intake", "窗口即办": "Decided at the window", "联合踏勘": "Joint inspection", "补正": "Correction",
    "补齐容缺材料": "Supplying deferred materials", "事后核查": "Post-check",
    "必填": "required", "不予受理须写明原因": "A refusal needs a reason",
    "已部署流程版本": "Process versions deployed", "最多跑一次": "At most one visit",
    "注销证照须写明原因": "Revoking a certificate needs a reason", "一次性告知": "One-time notice",
    "校验": "Verify", "校验失败": "Verification failed", "事件": "Event", "无法重放": "Cannot replay",
    "上一步": "Previous step", "步骤": "Step", "下一步": "Next step", "数据项": "Data item", "无数据变化": "No data changed",
    "开启": "opened", "关闭": "closed", "哈希": "Hash", "办件查询": "Find a case",
    "办件编号、事项或申请人": "Case number, matter or applicant", "紧急程度（办理期限）": "Urgency (due date)",
    "下一页": "Next page", "每行一项": "one item per line", "补正告知书": "Notice to correct", "未办理": "not handled",
    "准予许可决定书": "Decision to approve", "不予许可决定书": "Decision to refuse", "个": "", "校验通过：哈希链完整，重放结果与存储状态一致":
        "Verified: the hash chain is intact and the replay matches the stored state",
    # notifications (engine.runtime.notify, web/portal_notices.py)
    "我的消息": "My notices", "未读": "unread", "全部标为已读": "Mark all read", "标为已读": "Mark read",
    "已读": "read", "没有收到验证码，或验证码已过期、已失效？": "No code received, or it expired or no longer works?",
    "重新发送验证码": "Send a new code",
})


# 帮办代办 (web/portal_agents.py, templates/me/agents*.html) and engine.runtime.agents' words.
STRINGS.update({
    "帮办代办": "Agents acting for applicants", "代办身份": "Acting as", "当前代为办理": "Now acting for",
    "当前以本人身份办理": "Now acting as yourself", "代谁办理": "Act for", "本人": "Myself", "切换": "Switch",
    "我收到的授权": "Authorisations naming me as agent", "委托人": "Principal", "我授予的授权": "Authorisations I granted",
    "代办人": "Agent", "全部事项": "all matters", "授权行为": "Acts", "窗口登记": "recorded at the window by",
    "撤销": "Revoke", "新增授权": "Authorise an agent", "代办人（手机号或帮办员账号）": "Agent (mobile number or hall agent account)",
    "事项编码（不填为全部事项）": "Matter codes (empty: all matters)", "备注": "Note", "授权": "Authorise",
    "代": "for", "代办记录": "Acts by agents", "未生效": "not yet valid", "已过期": "expired",
    "已撤销": "revoked", "网上申请": "apply online", "查询进度": "track", "补正补齐": "answer corrections and supply materials",
    "选择送达方式": "choose delivery", "评价": "rate", "已授权": "Authorised", "授权已撤销": "Authorisation revoked",
    "现以本人身份办理": "Acting as yourself",
})

# The applicant's acts on an online case (web/templates/me/_acts.html, the pickup window's view of the choice).
STRINGS.update({
    "预审结果": "Pre-check result", "尚缺以下材料": "Still missing", "本件为重新提交的申请，原办件": "Submitted again; the returned case is",
    "已重新提交，新办件": "Submitted again as", "补全后重新提交": "Complete it and submit again", "重新提交": "Submit again",
    "请逐项补交并上传电子件": "Hand in each item with its scanned file", "送达方式": "Delivery", "已选择": "Chosen",
    "收件人": "Recipient", "收件地址": "Delivery address",
    "快递送达须填写收件人、联系电话和地址；网上申请并快递送达，全程无需到场":
        "Express needs a recipient, phone and address; applied online and sent by express, you need not come at all",
    "保存送达方式": "Save the delivery", "申请人网上选择": "Chosen online by the applicant",
})

# 预约, rating channels, 回访 and 申诉 (issue 14)
STRINGS.update({
    "预约办事": "Book a visit", "我的预约": "My bookings", "预约窗口时段": "Book a window slot", "预约": "Book",
    "预约号": "Booking number", "时段": "Slot", "余量": "Places left", "查看余量": "Show free places", "日期": "Date",
    "已过": "passed", "已预约": "booked", "已到场": "arrived", "已取消": "cancelled", "取消预约": "Cancel",
    "到场": "Arrived", "事项编码（可选）": "Matter code (optional)",
    "评价器": "Rating pad", "请您为本次服务评价": "Please rate our service", "开启评价器": "Open the pad",
    "出件后，为该办件开启评价器，由申请人本人点选评价":
        "After handing out, open the pad for the case; the applicant taps the rating themselves",
    "零跑腿占比": "Zero-visit share", "网上申请件数": "Applied online", "回访率": "Follow-up rate",
    "已回访": "followed up", "应回访": "due", "评价渠道": "Ratings by channel", "网上": "portal", "扫码": "QR code",
    "申诉": "Appeals", "待处理": "open", "维持": "upheld", "驳回": "dismissed", "申诉理由": "Reason for the appeal",
    "处理意见": "Decision and reason", "维持申诉，重新整改": "Uphold: rectify again",
    "此设备尚未配对为评价器：请出件窗口工作人员登录后在评价器页面配对":
        "This device is not a rating pad yet: a pickup clerk signs in and pairs it on the pad page",
    "欢迎光临，办结出件后请在此为我们的服务评价": "Welcome: once your results are handed out, please rate our service here",
    "在窗口平板上打开本页并配对：平板将退出登录，此后仅显示评价按钮":
        "Open this page on the window's tablet and pair it: the tablet is signed out and then shows only the rating "
        "buttons",
    "将本设备配对为评价器": "Pair this device as the rating pad",
})


def current_lang() -> str:
    """`?lang=`, then the cookie; API clients without either may ask by Accept-Language. Pages stay Chinese first."""
    lang = request.args.get("lang") or request.cookies.get("lang")
    if not lang and request.path.startswith("/api/"):
        lang = request.accept_languages.best_match(LANGS, default="zh")
    return lang if lang in LANGS else "zh"


def page_lang() -> str:
    return getattr(g, "lang", "zh") if has_request_context() else "zh"


def translate(text):
    """The text in the page's language: an engine Message gives its own English; Chinese keys come from STRINGS."""
    if isinstance(text, Message):
        return in_lang(text, page_lang())
    if page_lang() == "en" and isinstance(text, str):
        return STRINGS[text] if text in STRINGS else (titles.by_chinese(text) or text)
    return text


def localized(value):
    """An engine message (or a dict of them, as in an error's `fields`) in the reader's language."""
    if isinstance(value, dict):
        return {k: in_lang(v, page_lang()) for k, v in value.items()}
    return in_lang(value, page_lang())


def status_label(status: str | None) -> str:
    return translate(titles.status_title(status))


def group_label(name: str | None) -> str:
    return translate(titles.group_title(name))


def groups_label(names) -> str:
    return "、".join(group_label(n) for n in sorted(names or ()))


def event_label(type_: str | None) -> str:
    return translate(titles.event_title(type_))


def channel_label(channel: str | None) -> str:
    return translate(titles.channel_title(channel))


def pickup_label(method: str | None) -> str:
    return translate(titles.pickup_title(method))


def local_time(value, seconds: bool = False) -> str:
    """A stored time (datetime or ISO text; naive means UTC) as 'YYYY-MM-DD HH:MM' (or with seconds) in the hall's
    time zone, ONEWINDOW_TIMEZONE: the one engine.clock prints documents and numbers cases in."""
    return clock.for_people(value, seconds=seconds)


def init_app(app) -> None:
    @app.before_request
    def _pick_lang():
        g.lang = current_lang()

    @app.after_request
    def _remember_lang(resp):
        if request.args.get("lang") in LANGS:
            resp.set_cookie("lang", request.args["lang"], max_age=365 * 86400, samesite="Lax")
        return resp

    app.jinja_env.globals.update(_=translate, status_label=status_label, group_label=group_label,
                                 groups_label=groups_label, event_label=event_label, channel_label=channel_label,
                                 pickup_label=pickup_label)
    app.jinja_env.filters["local"] = local_time
