"""The service layer: every user action is one transaction that loads the case, steps the
workflow, and saves state, task index and audit events together (or nothing at all).

Web views, the CLI, the API and the worker all call these functions; none of them touches the
workflow or the database directly.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from . import access, livetasks, org, signin, stepping, store, timerclock, transfers, worklist
from .caltable import StoredCalendar
from .inputs import check_value
from .livetasks import task_path
from .hotsql import CASE_COLUMNS, INSERT_CASE, hot
from ..audit.chain import canonical_payload, event_hash
from ..clock import iso_utc, local_date
from ..model.bpmn import SpecBundle, build_specs, task_meta
from ..db import Blob, Case, Event, Group, IdempotencyKey, Membership, ProcessVersion, User, WorkItem, utcnow
from ..errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized, WorkflowFailed
from ..messages import Message
from ..titles import group_title
from ..model.forms import load_form, submitted_fields, validate
from ..model.identifiers import check_applicant_identity
from ..model.rulespec import rule_name
from ..model.sandbox import make_script_engine
from .users import hash_password
from .workcal import deadline_from

# SpiffWorkflow walks the task tree only to depth 1,000; past that a case would report itself
# finished while a task is still ready. We refuse any step that takes a live task near that depth.
MAX_TASK_DEPTH = 950
PLATFORM_KEYS = frozenset({"applicant", "channel", "results"})  # case data keys the runtime itself writes
# Keys no task submission may carry: what the platform and the rules keep in task data (a form may still
# define its own fields such as `accepted` or `materials`, which the rules then judge).
PROTECTED = frozenset({"applicant", "channel", "results", "window", "decisions", "inspections"})


@dataclass(frozen=True)
class Actor:
    username: str
    groups: frozenset = field(default_factory=frozenset)
    hall: str | None = None           # the hall the user works at (None: no organisation)
    halls: frozenset | None = None    # the halls whose cases and tasks the user sees (None: every hall)
    # 帮办代办: the applicant this user acts for (engine.runtime.agents.acting, after checking an authorisation);
    # the case and its acts are the principal's, the events name the agent as actor and this as on_behalf_of
    on_behalf_of: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.groups


SYSTEM = Actor("system", frozenset({"system"}))


class Services:
    """Entry point for every front end; holds the session factory and an in-process spec cache."""

    def __init__(self, session_factory, clock=utcnow, rules=None):
        self.sessions = session_factory
        self.clock = clock
        # The one-window rule book (engine.window.rules); installed by the wiring, so this layer stays generic.
        # Without it a task that declares a rule is refused, never completed around its rule.
        self.rules = rules
        # Time limits (engine.runtime.caltable, engine.supervision): the working-day calendar of this database;
        # `limits` (installed by the wiring, like the rules) keeps the case and task clocks; `observers` are told of
        # every event appended; `timer_holds` are conditions on a case id under which its timers wait (a pause).
        self.calendar = StoredCalendar(session_factory)
        self.limits = None
        self.observers: list = []
        self.timer_holds: list = []
        # Outbox senders by kind (engine.runtime.outbox), installed by the wiring (e.g. webhooks to regulators).
        self.senders: dict = {}
        # Hooks told when an action on a case finishes (its view computed), inside its transaction (notifications).
        self.finishers: list = []
        self._specs: dict[int, SpecBundle] = {}
        self._versions: dict[int, ProcessVersion] = {}
        self._forms: dict[str, dict] = {}
        self._guides: dict[int, dict] = {}

    # ------------------------------------------------------------------ unit of work
    @contextmanager
    def uow(self):
        """One transaction; rolled back on any error so nothing is half-saved."""
        session: Session = self.sessions()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @contextmanager
    def read(self):
        """A transaction that only reads (verify, views): on SQLite it takes no write lock, so readers in other
        processes (e.g. verify workers) and writers do not queue behind it."""
        session: Session = self.sessions(bind=self.sessions.kw["bind"].execution_options(readonly=True))
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    # ------------------------------------------------------------------ users
    def add_user(self, username: str, password: str, groups: list[str], display_name: str = "",
                 hall: str | None = None) -> None:
        """A user at a hall (default: the only top hall, when there is an organisation)."""
        if not username or not password:
            raise Invalid("username and password are required", {"username": Message("必填", "required")})
        with self.uow() as s:
            if s.scalar(select(User.id).where(User.username == username)) is not None:
                raise Conflict(f"user {username} already exists")
            user = User(username=username, display_name=display_name or username, password_hash=hash_password(password),
                        hall=org.check_hall(s, hall))
            s.add(user)
            s.flush()
            for g in groups:
                if s.get(Group, g) is None:
                    s.add(Group(name=g, title=str(group_title(g))))
                    s.flush()
                s.add(Membership(user_id=user.id, group_name=g))

    def actor(self, username: str) -> Actor:
        with self.uow() as s:
            return self._actor(s, username)

    def _actor(self, s: Session, username: str) -> Actor:
        user = s.scalar(select(User).where(User.username == username, User.active.is_(True)))
        if user is None:
            raise NotFound(f"no such user: {username}")
        groups = frozenset(s.scalars(select(Membership.group_name).where(Membership.user_id == user.id)).all())
        if user.hall is None and s.scalar(select(org.Hall.code).limit(1)) is None:
            return Actor(username, groups)  # no organisation: one implicit hall
        return Actor(username, groups, user.hall, org.load(s).visible(user.hall, groups))

    def authenticate(self, username: str, password: str, address: str | None = None) -> tuple[Actor, int]:
        """The user and their sign-in epoch (what a token or session must carry), or Unauthorized; throttled per
        user name and per address (TooManyAttempts)."""
        with self.uow() as s:
            user = signin.verify(s, username, password, address, self.clock())
            signed = (self._actor(s, username), user.auth_epoch or 0) if user is not None else None
        if signed is None:
            raise Unauthorized("用户名或密码错误 (wrong username or password)")
        return signed

    def signed_in(self, username: str, epoch) -> Actor:
        """The actor a token or session names, if it is still valid (the user active, the epoch current)."""
        with self.read() as s:
            user = s.scalar(select(User).where(User.username == username, User.active.is_(True)))
            if user is None or (user.auth_epoch or 0) != epoch:
                raise Unauthorized("会话已失效，请重新登录 (the token or session was revoked; sign in again)")
            return self._actor(s, username)

    def revoke(self, username: str) -> None:
        """Every token and session of the user stops working (logout, `onewindow users revoke`)."""
        with self.uow() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFound(f"no such user: {username}")
            user.auth_epoch = (user.auth_epoch or 0) + 1

    def epoch(self, username: str) -> int:
        with self.read() as s:
            value = s.scalar(select(User.auth_epoch).where(User.username == username, User.active.is_(True)))
            if value is None:
                raise NotFound(f"no such user: {username}")
            return value

    # ------------------------------------------------------------------ versions
    def latest_version(self, s: Session, process_id: str) -> ProcessVersion:
        version = s.scalar(select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                           .order_by(ProcessVersion.id.desc()).limit(1))
        if version is None:
            raise NotFound(Message("该事项不存在或尚未部署", "no such matter is deployed"))
        return version

    def spec_bundle(self, s: Session, version: ProcessVersion) -> SpecBundle:
        """Specs of a version, built once per process: versions are immutable."""
        bundle = self._specs.get(version.id)
        if bundle is None:
            files = {name: s.get(Blob, h).content.encode("utf-8") for name, h in json.loads(version.files).items()
                     if not name.endswith(".json")}
            bundle = build_specs(files, version.process_id)
            self._specs[version.id] = bundle
        return bundle

    def guide(self, version: ProcessVersion) -> dict:
        """The service guide a version was deployed with (pinned in its meta; derived from the diagram if none)."""
        cached = self._guides.get(version.id)
        if cached is None:
            cached = self._guides[version.id] = json.loads(version.meta or "{}").get("guide") or {}
        return cached

    def form_of(self, version_id: int, name: str | None) -> dict | None:
        """The schema of a form of a version, from the caches when they have it (lists of tasks read many)."""
        if not name:
            return None
        version = self._versions.get(version_id)
        if version is not None:
            h = json.loads(version.files).get(f"{name}.json")
            if h is None:
                return None
            if h in self._forms:
                return self._forms[h]
        with self.read() as s:
            return self.form_schema(s, self.version(s, version_id), name)

    def form_schema(self, s: Session, version: ProcessVersion, name: str | None) -> dict | None:
        if not name:
            return None
        h = json.loads(version.files).get(f"{name}.json")
        if h is None:
            return None
        schema = self._forms.get(h)
        if schema is None:
            schema = load_form(s.get(Blob, h).content, name, legacy=True)  # deployed before the check refused x-
            self._forms[h] = schema
        return schema

    # ------------------------------------------------------------------ cases
    def start_case(self, actor: Actor, process_id: str, applicant: dict, data: dict | None = None,
                   channel: str = "window", title: str | None = None, intake: dict | None = None,
                   idempotency_key: str | None = None, request_hash: str | None = None,
                   authority: str | None = None) -> dict:
        """Start a case on the latest version of a process (the case stays on that version). At a window,
        `intake` ({accepted, materials, reason, remark}) is the front desk's verdict, taken in the same transaction
        under the intake rule; a matter applied for online only judges it at its start event.

        With an `idempotency_key` (and the hash of the request it came with), the same key and request again
        return the case the first one started (`replayed: True`), the same key with another request is a
        Conflict; the key is recorded in the case's own transaction, so a failed start leaves none.

        `authority`: 通办 — the hall (of the matter's level) the front desk routes the case to, where the matter's
        scope lets its hall accept for that one (default: the nearest such hall above the accepting one)."""
        if idempotency_key:
            earlier = self._idempotent(actor, idempotency_key, request_hash)
            if earlier is not None:
                return earlier
        try:
            with self.new_case(actor, process_id, applicant, data, channel, title, intake, authority) as tx:
                if idempotency_key:
                    tx.s.add(IdempotencyKey(actor=actor.username, key=idempotency_key, request_hash=request_hash or "",
                                            case_id=tx.case.id, created_at=tx.now))
        except IntegrityError:  # the same key raced in from another request: its case stands
            earlier = self._idempotent(actor, idempotency_key, request_hash) if idempotency_key else None
            if earlier is None:
                raise
            return earlier
        return tx.result

    def _idempotent(self, actor: Actor, key: str, request_hash: str | None) -> dict | None:
        with self.read() as s:
            row = s.scalar(select(IdempotencyKey).where(IdempotencyKey.actor == actor.username,
                                                        IdempotencyKey.key == key))
            if row is None:
                return None
            if row.request_hash != (request_hash or ""):
                raise Conflict("同一幂等键已用于另一个请求 (this Idempotency-Key was used with another request)")
            case_id = row.case_id
        return dict(self.case_view(case_id, actor), replayed=True)

    def claim(self, actor: Actor, task_id: str) -> dict:
        with self.case_action(task_id=task_id) as tx:
            return tx.claim(actor, task_id)

    def complete(self, actor: Actor, task_id: str, data: dict | None) -> dict:
        """Complete a ready task with form data under its rule; step the workflow; save everything at once.
        Every front end completes every task through here."""
        with self.case_action(task_id=task_id) as tx:
            tx.complete(actor, task_id, data)
        return tx.result

    @contextmanager
    def new_case(self, actor: Actor, process_id: str, applicant: dict, data: dict | None = None,
                 channel: str = "window", title: str | None = None, intake: dict | None = None,
                 authority: str | None = None):
        """Open a transaction that starts a case; the caller may act on it further before it commits."""
        data = {} if data is None else data
        if not isinstance(applicant, dict):
            raise Invalid(Message("申请人应为对象", "applicant must be an object"),
                          {"applicant": Message("申请人应为对象", "must be an object")})
        check_value(applicant, "applicant")
        check_value(data, "data", self.reserved())
        if intake is not None:
            check_value(intake, "intake")
        with self.uow() as s:
            version = self.latest_version(s, process_id)
            meta, guide = json.loads(version.meta or "{}"), self.guide(version)
            access.check_start(actor, self.startable(version), channel)
            hall, authority = self._placement(s, actor, guide, authority)
            schema = self.form_schema(s, version, meta.get("start_form"))
            if self.rules is not None and schema:  # 一次填报: what the holder filled in before is not asked again
                fields = set(schema.get("properties") or {}) - self.reserved()
                data = dict(self.rules.prefill(s, guide, applicant, fields), **data)
            self._check_application(schema, meta.get("start_form") or "", guide, process_id, applicant, data, intake)
            bundle = self.spec_bundle(s, version)
            start_intake, context, verdict, effects, start = None, None, None, [], dict(data)
            if self.rules is not None:
                from_start = self.rules.start_rule(bundle) == "intake"
                if from_start:
                    start_intake = dict(intake or {"accepted": True})
                    context = self.rules.lookup_start(s, guide, process_id, applicant, data, start_intake)
                start, verdict, effects = self.rules.seed(guide, process_id, data, start_intake, context,
                                                          online=channel == "online")
            submission = None
            if self.rules is not None and channel == "online" and start_intake is None and intake is not None:
                # 网上预审: what the applicant handed in online waits, with its files, for the front desk's check
                submission = self.rules.submission(s, intake)
            wf = bundle.new_workflow(make_script_engine())
            seed_start(wf, applicant, start, channel)
            if self.rules is not None:
                self.rules.open_ledger(wf, guide, process_id, data, verdict, actor.username, submission)
            now = self.clock()
            values = dict(version_id=version.id, process_id=process_id, title=title or version.name,
                          applicant=json.dumps(applicant, ensure_ascii=False), channel=channel, status="running",
                          visits=1 if channel == "window" else 0, created_by=actor.username, created_at=now,
                          applicant_user=(actor.on_behalf_of or actor.username) if channel == "online" else None,
                          hall=hall, authority_hall=authority.get("hall"), authority_group=authority.get("department"),
                          transfer_due=None,
                          updated_at=now, state_head="{}", revision=0, chain_head="", event_count=0)
            case_id = s.connection().execute(INSERT_CASE, values).scalar_one()
            case = CaseRecord(dict(values, id=case_id, number=f"OW{local_date(now):%Y%m%d}{case_id:06d}",
                                   closed_at=None), written=False)
            tx = CaseTx(self, s, case, version, wf, store.Snapshot(indexed=set()), now)
            try:
                self._step(wf)
                started = {"process_id": process_id, "version_id": version.id, "number": case.number,
                           "applicant": applicant, "data": data, "channel": channel}
                if start_intake is not None:
                    started["intake"] = {"data": start_intake, "context": context or {}}
                if submission:
                    started["submission"] = submission
                if hall is not None:
                    started.update(hall=hall, authority=authority)
                if actor.on_behalf_of:  # 帮办代办: the agent (the event's actor) acts for this applicant
                    started["on_behalf_of"] = actor.on_behalf_of
                tx.append(actor, "case_started", started)
                for effect in effects:
                    tx.append(actor, effect.type, effect.payload)
                tx.settle()
                tx.save(settled=True)
                if intake is not None and start_intake is None and channel != "online":
                    tx.take_intake(actor, intake)
                yield tx
                tx.finish()
            finally:
                tx.dispose()

    def _placement(self, s: Session, actor: Actor, guide: dict, chosen: str | None = None) -> tuple[str | None, dict]:
        """首接负责 and who decides: the hall that accepts (the actor's) and the competent authority — the hall of the
        guide's `level` above it or the one chosen where the guide's `scope` allows (通办), with the guide's
        department for that level (else its own group)."""
        if actor.hall is None:
            if chosen is not None:
                raise Invalid(Message("没有组织架构，不能指定主管大厅", "no halls: an authority cannot be chosen"),
                              {"authority": Message("无组织架构", "no organisation")})
            return None, {}
        found = org.load(s).competent(actor.hall, guide.get("level"), guide.get("scope"), chosen)
        department = (guide.get("departments") or {}).get(found.level) or guide.get("group")
        return actor.hall, {"hall": found.code, "department": department}

    def _check_application(self, schema, form: str, guide: dict, process_id: str, applicant: dict, data: dict,
                           intake) -> None:
        """The applicant, the start form and, under the window rules, the front desk's verdict, checked together
        so every problem is reported at once (422 naming each field)."""
        fields = applicant_problems(applicant)
        message = Message("申请人信息有误", "the applicant is not valid") if fields else ""
        try:
            validate(schema, data, form)
        except Invalid as exc:
            fields.update(exc.fields)
            message = exc.message
        if self.rules is not None and intake is not None:
            try:
                self.rules.precheck(guide, process_id, data, intake)
            except Invalid as exc:
                fields.update(exc.fields)
                message = message or exc.message
        if fields:
            raise Invalid(message, fields)

    def startable(self, version: ProcessVersion) -> bool:
        """Whether one applies for this process (pinned at deploy; read off the guide for older versions)."""
        meta = json.loads(version.meta or "{}")
        if "startable" in meta:
            return bool(meta["startable"])
        return meta.get("kind") != "internal" and self.guide(version).get("kind") != "internal"

    def reserved(self) -> frozenset:
        """Keys of case data the platform writes itself."""
        return self.rules.reserved if self.rules is not None else PLATFORM_KEYS

    @contextmanager
    def case_action(self, case_id: int | None = None, task_id: str | None = None):
        """Open a transaction on one case (named directly or by one of its open tasks), locked for the
        duration: every action inside is saved together when the block ends, or nothing is."""
        with self.uow() as s:
            item = None
            if case_id is None:
                item = self._item(s, task_id)
                if item is None:
                    if s.scalar(select(Event.id).where(Event.task_id == task_id).limit(1)) is not None:
                        raise Conflict("task is no longer ready (already completed)")
                    raise NotFound(f"no such task: {task_id}")
                case_id = item.case_id
            case = self._lock_case(s, case_id)
            tx = CaseTx(self, s, case, self.version(s, case.version_id), now=self.clock())
            if item is not None and s.get_bind().dialect.name == "sqlite":
                # A SQLite transaction holds the write lock from BEGIN IMMEDIATE: the row read above is current.
                # (PostgreSQL reads it again under the case's row lock.)
                tx.known_items[task_id] = item
            try:
                yield tx
                tx.finish()
            finally:
                tx.dispose()

    @contextmanager
    def case_view_tx(self, case_id: int, actor: Actor | None = None):
        """A read-only look at one case (no lock, nothing saved): for views that need its workflow."""
        with self.read() as s:
            case = s.get(Case, case_id)
            access.check_read(s, actor, case)
            tx = CaseTx(self, s, case, self.version(s, case.version_id))
            try:
                yield tx
            finally:
                tx.dispose()

    def version(self, s: Session, version_id: int) -> ProcessVersion:
        """A deployed version, read once per process: versions never change once deployed."""
        version = self._versions.get(version_id)
        if version is None:
            version = s.get(ProcessVersion, version_id)
            if version is None:
                raise NotFound(f"no such process version: {version_id}")
            s.expunge(version)
            self._versions[version_id] = version
        return version

    def _item(self, s: Session, task_id: str):
        """The open work item of a task as a plain row (attribute access), or None."""
        return hot(s).first("select_item", {"k_id": task_id})

    def get_case(self, case_id: int, actor: Actor | None = None) -> dict:
        """A case's row and open tasks, for those who may read it (engine.runtime.access; None: the platform)."""
        with self.read() as s:
            case = s.get(Case, case_id)
            access.check_read(s, actor, case)
            return self._case_view(s, case)

    def case_view(self, case_id: int, actor: Actor | None = None) -> dict:
        """A case as pages and the API show it: its row and open tasks, and under the window rules what is owed,
        each member's outcome, its certificates and the notice of a refusal."""
        with self.case_view_tx(case_id, actor) as tx:
            out = self._case_view(tx.s, tx.case)
            if self.rules is not None:
                out.update(self.rules.view(tx))
            if self.limits is not None:
                out.update(self.limits.view(tx.s, tx.case, out["tasks"], self.clock()))
            return out

    def case_data(self, case_id: int, actor: Actor | None = None) -> dict:
        """The case's data for case pages: the workflow's data and latest task's data, with `results` merged
        over every task so parallel branches not yet joined each show theirs."""
        with self.case_view_tx(case_id, actor) as tx:
            wf = tx.wf
            last = wf.last_task.data if wf.last_task is not None else {}
            return {**wf.data, **last, "results": merged_results(wf)}

    def inbox(self, actor: Actor, group: str | None = None, q: str | None = None, sort: str = "received",
              desc: bool = False, limit: int = 50, cursor: str | None = None) -> worklist.Page:
        """One page of the tasks the actor may work on (their groups', and those offered or assigned to them),
        in one query; `next` is the cursor of the following page."""
        with self.read() as s:
            rows = s.execute(worklist.query(actor, group, q, sort, desc, limit, cursor)).all()
        more, rows = len(rows) > limit, rows[:limit]
        items = [dict(_item_view(item), case_number=number, case_title=title, version_id=version_id,
                      applicant=worklist.applicant_brief(applicant))
                 for item, number, title, applicant, version_id in rows]
        return worklist.Page(items, worklist.cursor_of(rows[-1], sort) if more and rows else None)

    def list_tasks(self, actor: Actor, limit: int = worklist.MAX_LIMIT) -> list[dict]:
        """The first page of the actor's inbox, oldest first."""
        return self.inbox(actor, limit=limit).items

    def task_for(self, actor: Actor, task_id: str) -> dict:
        """An open task the actor may work on, with its case's number, title and version; NotFound otherwise."""
        with self.read() as s:
            row = s.execute(select(WorkItem, Case.number, Case.title, Case.applicant, Case.version_id)
                            .join(Case, Case.id == WorkItem.case_id).where(WorkItem.id == task_id)).first()
        if row is None:
            raise NotFound(f"no open task {task_id}")
        item, number, title, applicant, version_id = row
        try:
            self._check_may_work(actor, item)
        except Forbidden:
            raise NotFound(f"no open task {task_id}") from None
        return dict(_item_view(item), case_number=number, case_title=title, version_id=version_id,
                    applicant=worklist.applicant_brief(applicant))

    def events(self, case_id: int, actor: Actor | None = None) -> list[dict]:
        with self.read() as s:
            access.check_read(s, actor, s.get(Case, case_id))
            rows = s.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.seq)).all()
            return [_event_view(e) for e in rows]

    # ------------------------------------------------------------------ internals
    def _lock_case(self, s: Session, case_id: int) -> "CaseRecord":
        """Serialise actions on one case: a row lock on PostgreSQL, BEGIN IMMEDIATE on SQLite."""
        row = hot(s).first("lock_case", {"k_case": case_id})
        if row is None:
            raise NotFound(f"no such case: {case_id}")
        return CaseRecord(row._asdict())

    def _check_may_work(self, actor: Actor, item: WorkItem, case=None) -> None:
        """Whether the actor may claim or complete the task; `case` (the task's case) lets the applicant of an
        online case answer its 补正 and 补齐 tasks (engine.runtime.access.applicant_may_answer)."""
        if access.APPLICANTS in actor.groups or getattr(actor, "on_behalf_of", None):
            if access.applicant_may_answer(actor, item, case):
                return
            raise Forbidden(f"task '{item.name}' is not one the applicant answers")
        if not access.in_halls(actor, getattr(item, "hall", None)):
            raise Forbidden(f"task '{item.name}' belongs to another hall")
        if item.group_name in actor.groups or f",{actor.username}," in (item.candidate_users or "") or actor.is_admin:
            return
        raise Forbidden(f"task '{item.name}' belongs to group {item.group_name}, not yours")

    def _load(self, s: Session, case: Case, version: ProcessVersion):
        # A prepared statement on the session's connection: no ORM rows, no autoflush.
        rows = hot(s).query("select_rows", {"k_case": case.id})
        return store.restore(self.spec_bundle(s, version), case.state_head, rows, make_script_engine())

    def _run(self, task, wf) -> None:
        with _engine_errors():
            task.run()
        self._step(wf)

    def _step(self, wf) -> None:
        with _engine_errors():
            stepping.do_engine_steps(wf)

    def _save(self, s: Session, case: Case, wf, snap: store.Snapshot, now: datetime) -> None:
        """Write what the step changed with prebuilt Core statements: task rows (only changed ones), the case row,
        the task index and timers."""
        sql = hot(s)
        delta = store.diff(wf, snap)
        sql.many("delete_row", [dict(k_case=case.id, k_task=i) for i in delta.deletes])
        sql.many("insert_row", [dict(case_id=case.id, task_id=i, workflow=k, seq=q, body=b)
                                for i, k, q, b in delta.upserts if q >= 0])
        sql.many("update_row", [dict(k_case=case.id, k_task=i, body=b) for i, k, q, b in delta.upserts if q < 0])
        case.state_head, case.updated_at, case.revision = delta.head, now, (case.revision or 0) + 1
        _guard_depth(wf, delta.live)
        if livetasks.is_completed(wf, delta.live) and case.status == "running":
            case.status, case.closed_at = "completed", now
            self._append(s, case, SYSTEM, "", "case_completed", None, None, {}, now)
        case.write(s)
        self._index_tasks(s, case, wf, now, snap, delta.live)

    def _index_tasks(self, s: Session, case: Case, wf, now: datetime, snap: store.Snapshot | None = None,
                     live=None) -> None:
        """Bring the open-task index of this case in line with the workflow's ready user tasks."""
        sql = hot(s)
        ready = livetasks.ready_user_tasks(wf, live)
        if snap is not None and snap.indexed is not None:  # what the index held when the case was loaded
            existing = snap.indexed
        else:
            existing = {row.id for row in sql.query("select_item_ids", {"k_case": case.id})}
        if snap is not None:
            snap.indexed = set(ready)
        gone = existing - ready.keys()
        sql.many("delete_item", [{"k_id": i} for i in sorted(gone)])
        if self.limits is not None and gone:
            self.limits.tasks_closed(s, case, sorted(gone), now)
        new = [tid for tid in ready if tid not in existing]
        if len(new) > 1:  # keep the library's order (diagram position) for items created together
            order = {str(t.id): n for n, t in enumerate(wf.get_tasks(state=TaskState.READY, manual=True))}
            new.sort(key=lambda tid: order.get(tid, len(order)))
        rows, tree = [], None
        for tid in new:
            t = ready[tid]
            meta = task_meta(t.task_spec)
            hall = access.inbox_hall(case, (meta.groups or [""])[0])
            if meta.properties.get("hall_level") and case.authority_hall:  # 转报: done at a higher level's hall
                tree = tree or org.load(s)
                hall = tree.forwarded(case.authority_hall, meta.properties["hall_level"])
            rows.append(dict(id=tid, case_id=case.id, process_id=t.workflow.spec.name, element_id=t.task_spec.bpmn_id,
                             name=t.task_spec.bpmn_name or t.task_spec.bpmn_id, form=meta.form,
                             rule=(meta.properties.get("rule") or None),
                             group_name=(meta.groups or [""])[0],
                             hall=hall,
                             candidate_users="," + ",".join(meta.users) + "," if meta.users else "",
                             assignee=None, status="ready", created_at=now, due_at=self._task_due(s, case, t, meta, now)))
        sql.many("insert_item", rows)
        if self.limits is not None and rows:
            self.limits.tasks_opened(s, case, rows, now)
        timers = livetasks.timers(wf, live)
        if timers or snap is None or snap.timers is None or snap.timers:  # skip only when none before and none now
            sql.run("delete_timers", {"k_case": case.id})
            sql.many("insert_timer", [dict(case_id=case.id, task_id=i, due_at=d) for i, d in timers])

    def _task_due(self, s: Session, case, task, meta, now: datetime) -> datetime | None:
        """A new task's due time: its `dueDate` in the working-day calendar (or calendar days, `calendar=natural`),
        else, with time limits installed, the department's share of the promised days."""
        if self.limits is not None:
            return self.limits.task_due(s, case, task, meta, now)
        found = deadline_from(meta.due, now, self.calendar.get(s), meta.properties.get("calendar") == "natural")
        return found.at if found is not None else None

    def _append(self, s: Session, case: Case, actor: Actor, group: str, type_: str, task_id, element_id,
                payload: dict, at: datetime) -> None:
        text = canonical_payload(payload)
        seq = case.event_count + 1
        h = event_hash(case.chain_head, case.id, seq, at, type_, actor.username, group, task_id, element_id, text)
        hot(s).run("insert_event", dict(
            case_id=case.id, seq=seq, at=at, type=type_, actor=actor.username, group_name=group, task_id=task_id,
            element_id=element_id, payload=text, prev_hash=case.chain_head, hash=h))
        case.event_count, case.chain_head = seq, h
        for observe in self.observers:
            observe(s, case, type_, payload, at, actor, group, task_id, element_id)

    def _case_view(self, s: Session, case: Case) -> dict:
        items = hot(s).query("select_case_items", {"k_case": case.id})
        return {
            "id": case.id, "number": case.number, "process_id": case.process_id, "title": case.title,
            "version_id": case.version_id, "status": case.status, "channel": case.channel,
            "applicant": json.loads(case.applicant), "visits": case.visits,
            "hall": case.hall, "authority": ({"hall": case.authority_hall, "department": case.authority_group}
                                             if case.authority_hall else None),
            "transfer": transfers.transfer_state(s, case, self.clock()) if case.transfer_due is not None else None,
            "created_at": iso_utc(case.created_at), "updated_at": iso_utc(case.updated_at),
            "tasks": [_item_view(i) for i in items],
        }


class CaseRecord:
    """The row of a case being acted on, read and written with plain statements (the ORM's identity map
    and flush cost more than the rest of a small step). `write` saves the columns that changed."""

    _COLUMNS = ("id", "number", "version_id", "process_id", "title", "applicant", "channel", "status", "visits",
                "created_by", "applicant_user", "created_at", "updated_at", "closed_at", "state_head", "revision",
                "chain_head", "event_count", "hall", "authority_hall", "authority_group", "transfer_due")

    def __init__(self, row, written: bool = True):
        for name in self._COLUMNS:
            setattr(self, name, row[name])
        self._written = {name: getattr(self, name) for name in CASE_COLUMNS} if written else {}

    def write(self, s: Session) -> None:
        values = {name: getattr(self, name) for name in CASE_COLUMNS}
        if values != self._written:
            hot(s).run("update_case", dict(values, k_case=self.id))
            self._written = values


class CaseTx:
    """One user action on one case inside one transaction: the case row is locked, the workflow is
    loaded on first use, and state, task index and events are saved together by finish()."""

    def __init__(self, services: Services, session: Session, case: Case, version: ProcessVersion,
                 wf=None, snap: store.Snapshot | None = None, now: datetime | None = None):
        self.sv, self.s, self.case, self.version = services, session, case, version
        self._wf, self._snap = wf, snap
        self.now = now or services.clock()
        self.result: dict | None = None
        self.known_items: dict = {}  # work items already read under this transaction's lock
        self._saved_revision: int | None = None  # case revision at the last save() of this transaction
        self._unsettled = False  # the workflow was saved after a change the rules have not looked at
        # Timers reached during this action count from its time, in this database's working-day calendar.
        self._timer_clock = timerclock.enter(self.now, services.calendar.get(session))

    @property
    def wf(self):
        if self._wf is None:
            self._wf, self._snap = self.sv._load(self.s, self.case, self.version)
        return self._wf

    @property
    def guide(self) -> dict:
        return self.sv.guide(self.version)

    @property
    def applicant(self) -> dict:
        return json.loads(self.case.applicant)

    def item(self, task_id: str):
        """The open work item, read under the case lock."""
        item = self.known_items.pop(task_id, None) or self.sv._item(self.s, task_id)
        if item is None:
            raise Conflict("task is no longer ready (completed by someone else)")
        return item

    def open_item(self, element_id: str | None = None, rule: str | None = None):
        """The first open work item of this case with that element id and/or rule, or None."""
        for item in hot(self.s).query("select_case_items", {"k_case": self.case.id}):
            if (element_id is None or item.element_id == element_id) and (rule is None or item.rule == rule):
                return item
        return None

    def complete(self, actor: Actor, task_id: str, data: dict | None) -> None:
        """Complete a ready user task under the rule it declares and step the workflow; indexed at once, so
        the same transaction can go on to the tasks this one opened."""
        data = {} if data is None else data
        check_value(data, "data", PROTECTED)
        if self.case.status == "suspended":
            raise Conflict("案件已挂起，恢复后才能办理 (case is suspended: tasks cannot be completed until it is resumed)")
        item = self.item(task_id)
        self.sv._check_may_work(actor, item, self.case)
        if item.assignee and item.assignee != actor.username:
            raise Conflict(f"task is claimed by {item.assignee}")
        validate(self.sv.form_schema(self.s, self.version, item.form), data, item.form or "")
        task = self.wf.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.READY:
            raise Conflict("task is no longer ready")
        rules = self.sv.rules
        if rules is None:
            if rule_name(task.task_spec):
                raise WorkflowFailed(f"task {item.element_id} follows rule '{rule_name(task.task_spec)}' but no rule "
                                     "book is installed; refusing to complete it around its rule",
                                     element=item.element_id)
            applied, effects, record = dict(data), [], {}
        else:
            applied, effects, record = rules.complete(self, actor, task, data)
        if actor.on_behalf_of:  # 帮办代办: every act names both (the agent is the event's actor)
            record = dict(record, on_behalf_of=actor.on_behalf_of)
        self.append(actor, "task_completed", dict({"name": item.name, "process_id": item.process_id,
                                                   "path": task_path(task), "data": data}, **record),
                    group=item.group_name, task_id=task_id, element_id=item.element_id)
        apply_form(task, applied)
        self.sv._run(task, self.wf)
        for effect in effects:
            self.append(actor, effect.type, effect.payload, group=item.group_name)
        self.settle()
        self.save(settled=True)

    def take_intake(self, actor: Actor, verdict: dict) -> None:
        """The front desk's verdict on a new case: its task under `rule=intake`; in a diagram without rules, its
        first front-desk task, given the verdict's fields that task's form asks for."""
        item = self.open_item(rule="intake")
        if item is not None:
            self.complete(actor, item.id, verdict)
            return
        item = next((i for i in hot(self.s).query("select_case_items", {"k_case": self.case.id})
                     if i.group_name == "front_desk" and not i.rule), None)
        if item is None:
            return
        schema = self.sv.form_schema(self.s, self.version, item.form)
        fields = submitted_fields(schema) if schema is not None else None  # the files set by the platform too
        data = {k: v for k, v in verdict.items() if k in fields} if fields is not None else dict(verdict)
        if data.get("accepted") is False and "remark" in (fields or {}) and not data.get("remark"):
            data["remark"] = verdict.get("reason") or ""
        self.complete(actor, item.id, data)

    def settle(self) -> None:
        """Carry out what the rules imply after an action (certificates, visits); nothing without a rule book."""
        self._unsettled = False
        if self.sv.rules is not None and self._wf is not None and self.sv.rules.settle(self, SYSTEM):
            self._saved_revision = None  # the ledger changed: finish() saves again

    def claim(self, actor: Actor, task_id: str) -> dict:
        if self.case.status == "suspended":
            raise Conflict("案件已挂起，恢复后才能签收 (case is suspended: tasks cannot be claimed until it is resumed)")
        item = self.s.get(WorkItem, task_id, populate_existing=True)
        if item is None:
            raise Conflict("task is no longer ready")
        self.sv._check_may_work(actor, item)
        if item.assignee and item.assignee != actor.username:
            raise Conflict(f"task already claimed by {item.assignee}")
        if item.assignee != actor.username:
            item.assignee, item.status = actor.username, "claimed"
            self.append(actor, "task_claimed", {"name": item.name, "process_id": item.process_id},
                        group=item.group_name, task_id=item.id, element_id=item.element_id)
        return _item_view(item)

    def append(self, actor: Actor, type_: str, payload: dict, group: str = "", task_id: str | None = None,
               element_id: str | None = None) -> None:
        self.sv._append(self.s, self.case, actor, group, type_, task_id, element_id, payload, self.now)

    def save(self, settled: bool = False) -> None:
        """Write the workflow's changes so far (rows, index, timers); finish() writes anything after. A caller
        that changed the workflow without settling it (a timer, an administrative act) leaves that to finish()."""
        self.sv._save(self.s, self.case, self._wf, self._snap, self.now)
        self._saved_revision = self.case.revision
        self._unsettled = self._unsettled or not settled

    def dispose(self) -> None:
        if self._timer_clock is not None:
            timerclock.leave(self._timer_clock)
            self._timer_clock = None
        if self._wf is not None:
            store.dispose(self._wf)
            self._wf = None

    def finish(self) -> None:
        if self._unsettled:
            self.settle()
        if self._wf is not None and self._saved_revision != self.case.revision:
            self.save()
        self.s.flush()
        self.case.write(self.s)
        self.result = self.sv._case_view(self.s, self.case)
        if self.sv.rules is not None and self._wf is not None:
            self.result.update(self.sv.rules.view(self))
        for hook in self.sv.finishers:
            hook(self)


@contextmanager
def _engine_errors():
    """Turn the library's errors into WorkflowFailed naming the element (the transaction then rolls back)."""
    try:
        yield
    except (SpiffWorkflowException, WorkflowException) as exc:
        element = getattr(getattr(exc, "task_spec", None), "bpmn_id", None)
        raise WorkflowFailed(f"the process could not continue at {element or 'an element'}: {exc}",
                             element=element) from None


def _guard_depth(wf, live=None) -> None:
    """Refuse a step that takes a live task near the library's walk depth, or that leaves the case
    reporting itself finished while a task is still open (read from the task maps, no tree walk)."""
    live = livetasks.live_tasks(wf, live)
    depth, task = livetasks.max_live_depth(wf, live)
    if depth >= MAX_TASK_DEPTH:
        raise WorkflowFailed(
            f"case has grown past {MAX_TASK_DEPTH} steps deep at {task.task_spec.bpmn_id}; the engine cannot "
            "walk it safely, so the step was refused (redesign the loop or split the case)",
            element=task.task_spec.bpmn_id)
    if livetasks.is_completed(wf, live):
        for t in live:
            if t.state & (TaskState.READY | TaskState.WAITING | TaskState.STARTED):
                raise WorkflowFailed("case reports itself finished while a task is still open "
                                     f"({t.task_spec.bpmn_id}); refusing to save", element=t.task_spec.bpmn_id)


def find_case(s, ref) -> Case | None:
    """A case by id or by number."""
    ref = str(ref).strip()
    case = s.scalar(select(Case).where(Case.number == ref))
    if case is None and ref.isdigit():
        case = s.get(Case, int(ref))
    return case


def applicant_problems(applicant: dict) -> dict:
    """Field path -> message for what is wrong with the applicant: name, type, and the identifiers given
    (身份证号, 统一社会信用代码 and phone checked by their standards)."""
    fields = {}
    if not str(applicant.get("name") or "").strip():
        fields["applicant.name"] = Message("申请人名称为必填项", "Applicant name is required")
    if applicant.get("type", "person") not in ("person", "company"):
        fields["applicant.type"] = Message("申请人类型应为个人或企业", "Applicant type must be person or company")
    fields.update(check_applicant_identity(applicant))
    return fields


def _item_view(i: WorkItem) -> dict:
    return {"id": i.id, "case_id": i.case_id, "name": i.name, "element_id": i.element_id, "process_id": i.process_id,
            "group": i.group_name, "assignee": i.assignee, "status": i.status, "form": i.form,
            "rule": getattr(i, "rule", None), "created_at": iso_utc(i.created_at), "due": iso_utc(i.due_at)}


def _event_view(e: Event) -> dict:
    return {"seq": e.seq, "at": iso_utc(e.at), "type": e.type, "actor": e.actor, "group": e.group_name,
            "task_id": e.task_id, "element_id": e.element_id, "payload": json.loads(e.payload),
            "prev_hash": e.prev_hash, "hash": e.hash}


def merged_results(wf) -> dict:
    """results[process][element] over every completed or open task of a case, in completion order."""
    live = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED
    tasks = [t for w in livetasks.workflows(wf) for t in w.tasks.values() if t.state & live]
    merged: dict = {}
    for t in sorted(tasks, key=lambda t: t.last_state_change):
        for pid, elements in (t.data.get("results") or {}).items():
            merged.setdefault(pid, {}).update(elements)
    return merged


def seed_start(wf, applicant: dict, data: dict, channel: str) -> None:
    """Put the application on a new workflow (shared with engine.audit.replay, which must do exactly the same)."""
    wf.data.update({"applicant": applicant, "channel": channel})
    for t in wf.get_tasks(state=TaskState.READY):
        t.data.update(data, applicant=applicant, channel=channel)


def apply_form(task, data: dict) -> None:
    """Put submitted form data on a ready task, also under results[process][element] (shared with engine.audit.replay)."""
    task.data.update(data)
    # Rebuild, never mutate: the nested dicts may be shared with a finished parent task's data, and an in-place
    # change would be lost at the next load (the stored delta is relative to that parent).
    results = dict(task.data.get("results") or {})
    pid = task.workflow.spec.name
    results[pid] = dict(results.get(pid) or {}, **{task.task_spec.bpmn_id: dict(data)})
    task.data["results"] = results
