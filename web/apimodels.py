"""The JSON API's request and response bodies, described once (pydantic): requests are validated against them
before any work, responses are built to them, and the OpenAPI document (web/openapi.py) is generated from them.

Why pydantic: it is the well-kept standard for typed bodies in Python, gives JSON Schema (2020-12, which
OpenAPI 3.1 uses) from the same classes that validate, and reports every invalid field with its path. What a
field may contain beyond its shape (a matter's form, a task's form, the window's rules) is still judged by the
service layer; these models keep malformed requests from reaching it at all.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

Text = Annotated[str, StringConstraints(max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=2000)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Strict(BaseModel):
    """Unknown keys are refused (a request) or never sent (a response)."""

    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- requests
class TokenRequest(Strict):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Applicant(Strict):
    """Who applies: a person (身份证号) or a business (统一社会信用代码); identifiers are checked by their standards
    in the service layer."""

    type: Literal["person", "company"] = "person"
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    id_number: Annotated[str, StringConstraints(max_length=18)] | None = None
    credit_code: Annotated[str, StringConstraints(max_length=18)] | None = None
    phone: Annotated[str, StringConstraints(max_length=30)] | None = None
    address: Annotated[str, StringConstraints(max_length=300)] | None = None
    legal_representative: Annotated[str, StringConstraints(max_length=100)] | None = None
    email: Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None = Field(
        None, description="notifications also go here by e-mail")


MaterialStatus = Literal["provided", "deferred", "commitment"]


class Intake(Strict):
    """The front desk's verdict at a window (default: accepted). A refusal (不予受理) needs a reason."""

    accepted: StrictBool = True
    reason: Annotated[str, StringConstraints(max_length=1000)] | None = None
    remark: Annotated[str, StringConstraints(max_length=500)] | None = None


Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class MaterialFiles(Strict):
    """A material handed in with its files (each uploaded first with POST /files, named here by its sha256)."""

    status: MaterialStatus
    files: Annotated[list[Sha256], Field(max_length=20)] = Field(default_factory=list)


class NewCase(Strict):
    matter: Id
    applicant: Applicant
    data: dict[str, Any] = Field(default_factory=dict, description="the matter's start form (GET /matters/{code})")
    materials: list[Id] | dict[Id, MaterialStatus | MaterialFiles] = Field(
        default_factory=list, description="material ids handed in, or {id: provided|deferred|commitment}, or "
                                          "{id: {status: provided, files: [sha256, ...]}}")
    channel: Literal["window", "kiosk", "online"] = "window"
    intake: Intake | None = None
    authority: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = Field(
        None, description="通办: the hall (of the matter's deciding level) to route the case to, where the matter's "
                          "scope lets the accepting hall do so; default the nearest one above it")


class Completion(Strict):
    data: dict[str, Any] = Field(default_factory=dict, description="the task's form (its JSON Schema in GET /tasks)")


class TaskQuery(Strict):
    group: Text | None = None
    q: Text | None = None
    sort: Literal["received", "due", "number"] = "received"
    dir: Literal["asc", "desc"] = "asc"
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, StringConstraints(max_length=500)] | None = None


class MatterQuery(Strict):
    q: Text | None = None


# ---------------------------------------------------------------- responses
class Token(Strict):
    token: str
    token_type: Literal["Bearer"]
    expires_in: int


class Fee(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str | None = None
    amount: float
    basis: str


class Matter(Strict):
    code: str
    name: str
    item_code: str | None = Field(description="事项编码 of the guide")
    short_name: str | None = Field(description="what people call it for short (searched)")
    kind: Literal["matter", "bundle"]
    departments: list[str] = Field(description="the departments that decide it, by their titles")
    handling: str | None = Field(description="即办件 (decided on the spot) or 承诺件 (within the promised days)")
    promised_days: int | None = Field(description="承诺时限 in working days (0 for a 即办件)")
    statutory_days: int | None = Field(description="法定时限 in working days")
    fees: list[Fee]
    members: list[str] = Field(description="the codes of a bundle's member matters")
    member_names: list[str]
    certificates: list[str] = Field(description="the certificates it produces (searched)")
    keywords: list[str]


class MatterGuide(Matter):
    materials: list[dict[str, Any]]
    form: dict[str, Any] = Field(description="JSON Schema 2020-12 of the start form: `properties` are what a person "
                                             "fills in (choices as oneOf of {const, title}); in a bundle's form "
                                             "`$defs/member.<id>` names the fields each member reads")
    intake_form: dict[str, Any] | None
    groups: list[str]
    guide: dict[str, Any]
    rules: bool = Field(description="whether the window rules govern its cases")


class StoredApplicant(BaseModel):
    """The applicant as stored (validated as Applicant when the case was started)."""

    model_config = ConfigDict(extra="allow")
    type: str | None = None
    name: str


class Member(Strict):
    matter: str
    name: str | None
    department: str | None
    status: Literal["approved", "rejected", "not_handled", "pending", "refused_at_intake"]
    opinion: str | None
    notice: str


class Owed(Strict):
    id: str
    name: str


class Notice(Strict):
    kind: str | None
    missing: list[str]
    text: str | None


class CertificateBrief(Strict):
    number: str
    type: str
    name: str
    matter: str
    status: Literal["valid", "revoked"]
    verify_code: str
    verify_url: str = Field(description="the public verification page (its QR code on the print)")
    pdf_url: str


class DocumentBrief(Strict):
    """A document issued to the applicant (受理通知书, 一次性告知书, 不予受理决定书, 补正告知书, 准予/不予许可决定书)."""

    number: str
    kind: Literal["receipt", "notice", "refusal", "correction", "approval", "rejection"]
    title: str
    issued_at: str
    verify_url: str
    pdf_url: str


Timeliness = Literal["normal", "warning", "overdue", "paused", "done"]


class CaseTask(Strict):
    id: str
    name: str
    process_id: str
    element_id: str
    rule: str | None
    group: str
    assignee: str | None
    status: str
    due: str | None = Field(description="the task's own time limit (ISO 8601, UTC), if it has one")
    timeliness: Timeliness | None


class Authority(Strict):
    """The competent authority that decides a case: a hall and its department (group)."""

    hall: str
    department: str | None


class TransferState(Strict):
    """A hand-over (转办) the receiving authority has not acknowledged yet."""

    from_: Authority | None = Field(alias="from")
    to: Authority | None
    reason: str
    due: str | None = Field(description="acknowledge by (ISO 8601, UTC)")
    overdue: bool


class Case(Strict):
    id: int
    number: str
    matter: str
    title: str
    status: Literal["running", "completed", "suspended"]
    channel: str
    applicant: StoredApplicant
    visits: int
    hall: str | None = Field(description="首接负责: the hall that accepted the case (null without an organisation)")
    authority: Authority | None = Field(description="the hall and department that decide it")
    transfer: TransferState | None = Field(None, description="a 转办 waiting to be acknowledged (overdue after its due)")
    created_at: str
    updated_at: str
    members: list[Member] = Field(description="the matters of the case and what each came to")
    owed: list[Owed] = Field(description="deferred (容缺) materials not yet supplied")
    notice: Notice | None = Field(description="the notice of a refusal at intake (一次性告知 or 不予受理)")
    certificates: list[CertificateBrief]
    due: str | None = Field(description="承诺时限: when the case is promised done (ISO 8601, UTC), pauses counted")
    statutory_due: str | None = Field(description="法定时限: the statutory limit, pauses counted")
    timeliness: Timeliness | None = Field(description="正常 / 预警 / 逾期 / 暂停 (补正, 特别程序) / 办结")
    documents: list[DocumentBrief]
    tasks: list[CaseTask]


class ApplicantBrief(Strict):
    type: str | None = None
    name: str | None = None
    credit_code: str | None = None
    id_number: str | None = None
    phone: str | None = None


class Task(Strict):
    id: str
    case_id: int
    case_number: str
    case_title: str
    name: str
    process_id: str
    element_id: str
    rule: str | None
    group: str
    assignee: str | None
    status: str
    created_at: str | None
    due: str | None
    applicant: ApplicantBrief
    form: dict[str, Any] | None = Field(description="JSON Schema 2020-12 of the task's form: `properties` are what "
                                                    "a person fills in (choices as oneOf of {const, title}), "
                                                    "`$defs/system` the fields a client sets from its own widgets "
                                                    "(uploaded files, the hand-over checklist), submitted and "
                                                    "validated with the rest")


class TaskPage(Strict):
    items: list[Task]
    next: str | None = Field(description="cursor of the next page (GET /tasks?cursor=...), null on the last")


class ClaimedTask(Strict):
    id: str
    case_id: int
    name: str
    element_id: str
    process_id: str
    rule: str | None
    group: str
    assignee: str | None
    status: str
    form: str | None = Field(description="the name of the task's form (its schema is in GET /tasks)")
    created_at: str | None
    due: str | None


class Event(Strict):
    seq: int
    at: str
    type: str
    actor: str
    group: str
    task_id: str | None
    element_id: str | None
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class ErrorBody(Strict):
    code: str
    message: str
    fields: dict[str, str] | None = None


class Error(Strict):
    error: ErrorBody


# ---------------------------------------------------------------- time limits and supervision (web/api_stats.py)
class StatsQuery(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str | None = Field(None, alias="from", max_length=10, description="first day, YYYY-MM-DD (the hall's)")
    to: str | None = Field(None, max_length=10, description="last day, YYYY-MM-DD (default today)")
    department: str | None = Field(None, max_length=100, description="a department (group code)")


class StatsSummary(Strict):
    cases: int
    accepted: int
    refused: int
    done: int
    open: int
    on_time_rate: float | None
    overdue: int
    warning: int
    paused: int
    provisional: int
    immediate_share: float | None
    one_visit_rate: float | None
    zero_visit: int = Field(description="零跑腿: finished cases with no visit to a hall")
    zero_visit_rate: float | None = Field(description="零跑腿 share: finished cases with 0 visits / finished cases")
    online_cases: int = Field(description="cases applied for online (channel online) in the period")
    visits_per_case: float | None
    deferred: int
    commitment: int
    deemed: int
    reminders: int
    urged: int
    avg_used_workdays: float | None
    avg_promised_days: float | None
    avg_statutory_days: float | None


class Stats(Strict):
    filters: dict[str, Any]
    now: str
    summary: StatsSummary
    by_matter: list[dict[str, Any]]
    by_department: list[dict[str, Any]]
    negative_list: dict[str, Any] = Field(description="负面清单 matters (more than one visit needed) counted apart: "
                                                     "cases, done, one_visit_rate, visits_per_case; the summary's "
                                                     "最多跑一次 figures leave them out")
    by_hall: list[dict[str, Any]] = Field(description="per hall: cases accepted, of them 通办 (decided at another "
                                                      "hall), and cases decided there")
    ratings: dict[str, Any] = Field(description="好差评 given in the period: total, per level (5 非常满意 .. 1 "
                                                "非常不满意), bad ones (不满意 or worse), satisfied rate (基本满意 or "
                                                "better), 差评整改 cases still open, per channel (portal, qr, "
                                                "pad), 回访 of bad ratings done vs due (rate), and appeals (open "
                                                "now; upheld and dismissed in the period)")
    task_departments: list[dict[str, Any]]
    by_channel: list[dict[str, Any]]
    by_day: list[dict[str, Any]]
    waits: list[dict[str, Any]]
    lists: dict[str, list[dict[str, Any]]] = Field(description="open cases overdue, in warning and paused")
    calendar: dict[str, Any] = Field(description="the working-day calendar's coverage")


class UrgeBody(Strict):
    text: str = Field(min_length=1, max_length=2000, description="督办 text to the groups holding the case")


class ProcedureStart(Strict):
    kind: str = Field(max_length=40, description="hearing, testing, expert, appraisal, quarantine, publicity, survey")
    reason: str = Field(max_length=2000)


class ProcedureEnd(Strict):
    result: str = Field(max_length=2000)


class CaseBrief(Strict):
    id: int
    number: str
    status: str


class CaseClock(Strict):
    id: int
    number: str
    status: str
    due: str | None
    statutory_due: str | None
    timeliness: Timeliness | None
    clock: dict[str, Any] | None


class NoticeOut(Strict):
    id: int
    at: str
    kind: str
    case_id: int | None
    task_id: str | None
    group: str | None
    user: str | None
    text: str
    text_en: str | None
    by: str | None
# ---------------------------------------------------------------- the reviewer's desk and the papers (issue 11)
class StoredFile(Strict):
    sha256: Sha256
    size: int
    content_type: Literal["application/pdf", "image/jpeg", "image/png"]
    name: str


class FileBrief(Strict):
    sha256: str
    name: str | None = None
    size: int | None = None
    content_type: str | None = None
    step: str | None = None
    url: str


class MaterialRow(Strict):
    id: str
    name: str
    required: bool
    status: Literal["provided", "deferred", "commitment", "shared", "produced", "missing", "submitted"]
    status_text: str
    source: str | None = Field(description="where a 免提交 material is held: cert:TYPE:NUMBER, case:MATERIAL:CASE, "
                                           "record:NAME")
    source_text: str
    supplied: bool
    produced_by: str | None
    keep_original: bool
    files: list[FileBrief]


class ApplicationRow(Strict):
    key: str
    label: str = Field(description="the field's title in the form")
    value: Any
    display: str = Field(description="the value as people read it (enum labels, 是/否)")
    members: list[str] = Field(description="the members of a bundle the field serves")


class Decides(Strict):
    rule: str | None
    member: str | None
    member_name: str | None
    department: str | None
    level: int | None
    levels: int | None
    level_name: str
    options: list[dict[str, str]]


class TaskDesk(Strict):
    """One open task with everything its holder needs to decide."""

    task: dict[str, Any]
    case: dict[str, Any]
    application: list[ApplicationRow]
    materials: list[MaterialRow]
    opinions: list[dict[str, Any]] = Field(description="every decision and opinion so far, oldest first")
    outcomes: list[dict[str, Any]]
    corrections: dict[str, list[dict[str, Any]]]
    owed: list[dict[str, Any]]
    handover: list[dict[str, str]] = Field(description="what the pickup window hands over (a pickup's `handed`)")
    decides: Decides
    form: dict[str, Any] | None


# ---------------------------------------------------------------- 审管联动 (issue 16)
class Finding(Strict):
    """A regulator's finding on a certificate; sent with `X-Regulator` and `X-Onewindow-Signature` over the raw
    body."""

    certificate: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    finding: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    action: Literal["revoke"]


class FindingResult(Strict):
    certificate: str
    case: int | None
    action: str
    status: str
    replayed: bool


class DeliveryQuery(Strict):
    status: Literal["pending", "delivered", "failed"] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class Delivery(Strict):
    """One webhook delivery to a regulator, from the outbox."""

    id: int
    url: str
    subscription: int | None
    event: str
    case: str | None
    key: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_error: str
    created_at: str | None
    next_try_at: str | None
    delivered_at: str | None


class DeliveryCounts(Strict):
    pending: int
    delivered: int
    failed: int


class Subscription(Strict):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: str | None
    deliveries: DeliveryCounts


# ---------------------------------------------------------------- 首接负责 and 转办 (issue 16)
class TransferBody(Strict):
    to: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(description="the receiving hall")
    department: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None, description="its department (group); default the case's")
    reason: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class PendingTransfer(TransferState):
    case_id: int
    number: str


class NegativeListEntry(Strict):
    """A matter on the 负面清单: more than one visit is needed, and why."""

    code: str
    name: str
    department: str
    visits: int
    reason: str


# ---------------------------------------------------------------- applicants and their portal (issue 14)
Phone = Annotated[str, StringConstraints(min_length=1, max_length=20)]


class SignUp(Strict):
    """An applicant signs up: a person with their 身份证号, a business with its 统一社会信用代码 (and optionally its
    legal representative and their ID number); the mobile becomes the user name once confirmed."""

    type: Literal["person", "company"]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    id_number: Annotated[str, StringConstraints(max_length=18)] | None = None
    credit_code: Annotated[str, StringConstraints(max_length=18)] | None = None
    legal_representative: Annotated[str, StringConstraints(max_length=100)] | None = None
    phone: Phone
    email: Annotated[str, StringConstraints(max_length=254)] | None = Field(
        None, description="optional: notices are also sent there by e-mail")
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Confirm(Strict):
    phone: Phone
    code: Annotated[str, StringConstraints(min_length=1, max_length=10)]


class ApplicantProfile(Strict):
    type: Literal["person", "company"]
    name: str
    phone: str
    id_number: str | None = Field(None, description="masked")
    credit_code: str | None = None
    status: Literal["pending", "active"]


class MyNewCase(Strict):
    """An online application: the applicant block is the signed-up identity, so it is not sent."""

    matter: Id
    data: dict[str, Any] = Field(default_factory=dict, description="the matter's start form (GET /matters/{code})")
    materials: list[Id] | dict[Id, MaterialStatus | MaterialFiles] = Field(
        default_factory=list, description="material ids handed in, or {id: provided|deferred|commitment}, or "
                                          "{id: {status: provided, files: [sha256, ...]}}")


class MyQuery(Strict):
    limit: int = Field(50, ge=1, le=100)


# ---------------------------------------------------------------- the applicant's online acts (补正/补齐, delivery, resubmit)
class AskedItem(Strict):
    key: str = Field(description="what `supplied` and `files` name: an owed material id, or an item of the 补正 request")
    name: str


class MyActTask(Strict):
    id: str
    rule: Literal["correction", "supply"]
    name: str
    title: str
    due: str | None
    member: str | None
    member_name: str | None
    asked: list[AskedItem]
    opinion: str = Field(description="the reviewer's opinion with a 补正 request")


class DeliveryOut(Strict):
    method: Literal["window", "express"]
    name: str | None
    phone: str | None
    address: str | None
    chosen_at: str | None


class CaseRef(Strict):
    id: int
    number: str | None


class ResubmitPrefill(Strict):
    data: dict[str, Any] = Field(description="the returned application's form data")
    materials: dict[str, str] = Field(description="the materials the front desk marked as handed in")
    missing: list[str] = Field(description="what the 一次性告知 listed as missing")


class MyActs(Strict):
    tasks: list[MyActTask] = Field(description="the open 补正 and 补齐 requests I answer online")
    delivery: DeliveryOut | None
    may_choose_delivery: bool
    returned: bool = Field(description="the front desk returned the application at 预审 (一次性告知)")
    may_resubmit: bool
    resubmitted_as: CaseRef | None
    resubmission_of: CaseRef | None
    prefill: ResubmitPrefill | None


class MyAnswer(Strict):
    """补正 or 补齐 online: what is handed in now, each with its files (uploaded first with POST /files)."""

    task: Id | None = Field(None, description="the open task answered (needed only when several are open)")
    supplied: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=200)]], Field(max_length=50)] = \
        Field(default_factory=list, description="补正: the items asked for that are answered; 补齐: every owed material")
    files: dict[Id, Annotated[list[Sha256], Field(max_length=20)]] = Field(
        default_factory=dict, description="{item or material: [sha256, ...]}")
    remark: Annotated[str, StringConstraints(max_length=1000)] = ""


class DeliveryIn(Strict):
    """窗口领取, or 快递送达 to a recipient, phone and address (all three needed for express)."""

    method: Literal["window", "express"]
    name: Annotated[str, StringConstraints(max_length=50)] = ""
    phone: Annotated[str, StringConstraints(max_length=30)] = ""
    address: Annotated[str, StringConstraints(max_length=200)] = ""


class MyResubmit(Strict):
    """Apply again after 预审 returned the application: the earlier data is kept; `data` gives what changes."""

    data: dict[str, Any] = Field(default_factory=dict, description="fields changed from the returned application")
    materials: list[Id] | dict[Id, MaterialStatus | MaterialFiles] = Field(
        default_factory=list, description="the materials handed in now, as in POST /me/cases")


class RatingBrief(Strict):
    level: int
    title: str


class MyCaseBrief(Strict):
    id: int
    number: str
    matter: str
    title: str
    status: str
    channel: str
    applicant: ApplicantBrief = Field(description="ID numbers masked")
    created_at: str
    closed_at: str | None
    rating: RatingBrief | None
    may_rate: bool


class RatingOut(Strict):
    level: int = Field(description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意")
    title: str
    comment: str
    tags: list[str]
    department: str | None = Field(description="the group concerned by a bad rating")
    rectification_case: int | None = Field(description="the 差评整改 case a bad rating started (after an upheld "
                                                       "appeal: the newest)")
    created_at: str
    channel: str = Field(description="where it was given: portal, qr (the receipt's link) or pad (window pad)")


class ActedBy(Strict):
    """帮办代办: the agent who made the case for its applicant."""

    agent: str
    agent_name: str
    principal: str
    principal_name: str
    label: str = Field(description="代办人 X（代 Y）")
class MyStep(Strict):
    name: str = Field(description="a step done (a task completed), by its name")
    group: str | None = Field(description="the group that did it")
    at: str


class MyCase(Case):
    rating: RatingOut | None
    may_rate: bool
    agent: ActedBy | None = Field(None, description="帮办代办: the agent who applied for the applicant, if one did")
    steps: list[MyStep] = Field(description="the steps done so far, oldest first (open ones are in tasks)")
    acts: MyActs | None = Field(None, description="what I may do on the case online: answer 补正/补齐, choose the "
                                                 "delivery, apply again after 预审 returned it")


class MyPaper(Strict):
    number: str
    category: Literal["document", "certificate"] = Field(description="a document (受理通知书, 一次性告知书, decisions "
                                                                     "...) or an e-certificate")
    kind: str = Field(description="the document's kind (receipt, notice, decision ...) or the certificate's type")
    title: str
    issued_at: str | None
    status: str = Field(description="valid, or a certificate's revoked / expired")
    pdf_url: str = Field(description="the PDF, through /api/v1/me/cases/{id}/documents/{number}.pdf")
    verify_url: str = Field(description="the public verification page its QR code points to")


class RatingIn(Strict):
    level: int = Field(ge=1, le=5, description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意")
    comment: Annotated[str, StringConstraints(max_length=2000)] = ""
    tags: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=40)]], Field(max_length=10)] = \
        Field(default_factory=list)


# ---------------------------------------------------------------- 预约, the receipt's rating link, 申诉 (issue 14)
DayText = Annotated[str, StringConstraints(max_length=10)]


class BookingIn(Strict):
    hall: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(description="a hall's code")
    date: DayText = Field(description="a working day, YYYY-MM-DD")
    slot: Annotated[str, StringConstraints(max_length=5)] = Field(description="the slot's start, HH:MM (30 minutes, "
                                                                            "9:00-12:00 and 13:30-17:00)")
    matter: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class Booking(Strict):
    id: int
    number: str = Field(description="the booking number (YY + date + serial)")
    hall: str
    date: str
    slot: str
    matter: str | None
    status: str = Field(description="booked, arrived or cancelled")
    created_at: str
    arrived_at: str | None


class BookingApplicant(Strict):
    name: str
    phone: str = Field(description="masked")


class DeskBooking(Booking):
    applicant: BookingApplicant


class DayBookings(Strict):
    hall: str
    date: str
    items: list[DeskBooking]


class DayQuery(Strict):
    date: DayText | None = Field(None, description="YYYY-MM-DD, default today (the hall's)")


class SlotsQuery(Strict):
    hall: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    date: DayText


class Slot(Strict):
    slot: str
    free: int
    past: bool


class Slots(Strict):
    hall: str
    hall_name: str
    date: str
    capacity: int
    slots: list[Slot]


class RatingLink(Strict):
    case_id: int
    number: str
    title: str
    finished: bool
    rating: RatingOut | None


class AppealIn(Strict):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class Appeal(Strict):
    id: int
    case_id: int
    number: str | None = Field(description="the rated case's number")
    rectification_case: int = Field(description="the 差评整改 case whose outcome is appealed")
    reason: str
    status: str = Field(description="open, upheld or dismissed")
    decided_by: str | None
    decision: str | None = Field(description="the supervisor's reason")
    decided_at: str | None
    new_rectification_case: int | None = Field(description="the 整改 an upheld appeal started")
    created_at: str


class AppealItem(Appeal):
    title: str
    level: int
    level_title: str
    comment: str
    department: str | None
    channel: str


class AppealQuery(Strict):
    status: Literal["open", "upheld", "dismissed"] | None = None


class AppealDecision(Strict):
    upheld: bool = Field(description="true: upheld (a new 整改 starts); false: dismissed")
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


# ---------------------------------------------------------------- notifications (engine.runtime.notify)
class Resend(Strict):
    phone: Phone


class Resent(Strict):
    """The same answer for a pending, a confirmed and an unknown number (it does not say who is registered)."""

    status: Literal["queued"]
    message: str
    message_en: str
    retry_after: int = Field(description="seconds before another code may be asked for this number")


class NoticeQuery(Strict):
    limit: int = Field(50, ge=1, le=200)
    unread: bool = False


class MyNotice(Strict):
    id: int
    event: str = Field(description="accepted | returned | correction | decided | handed_out | remind | revisit")
    title: str
    title_en: str
    text: str
    text_en: str
    case_id: int | None = None
    case_number: str | None = None
    created_at: str
    read: bool
    read_at: str | None = None


class ReadAll(Strict):
    marked: int
# ---------------------------------------------------------------- 帮办代办 (engine.runtime.agents)
AgentAct = Literal["apply", "track", "answer", "delivery", "rate"]
When = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class AuthorisationIn(Strict):
    """An authorisation of an agent: another applicant (their mobile number) or a hall's 帮办员 (their account)."""

    agent: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    matters: list[Id] | None = Field(None, max_length=50, description="matter or bundle codes; null or absent: all")
    acts: list[AgentAct] | None = Field(None, min_length=1, description="the acts allowed; absent: all")
    valid_from: When | None = Field(None, description="ISO 8601; absent: now")
    valid_until: When = Field(description="ISO 8601, in the future (at most three years)")
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class WindowAuthorisationIn(AuthorisationIn):
    """Recorded at the window on the applicant's signed paper, for a hall's 帮办员."""

    principal: Phone = Field(description="the applicant's mobile number")


class Authorisation(Strict):
    id: int
    principal: str
    principal_name: str
    agent: str
    agent_name: str
    matters: list[str] | None
    acts: list[AgentAct]
    valid_from: str
    valid_until: str
    revoked_at: str | None
    status: Literal["valid", "pending", "expired", "revoked"]
    channel: Literal["online", "window"]
    created_by: str
    note: str


class Principal(Strict):
    principal: str
    name: str


class Authorisations(Strict):
    granted: list[Authorisation] = Field(description="the records I granted (as principal)")
    received: list[Authorisation] = Field(description="the records naming me as agent")
    may_act_for: list[Principal] = Field(description="whom I may act for now (On-Behalf-Of: their mobile number)")
