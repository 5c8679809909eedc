"""The rule book: which one-window rule a task follows, and what follows from the rules after every action.

A diagram declares the rule of a task as an extension property `rule` with its parameters beside it (see
engine.model.rulespec). The service layer asks this book for every task it completes — whichever front end
asked — and after every action settles what the rules imply (certificates due or to revoke, visits). A replay
asks the same book the same questions with the recorded data, so it reproduces the ledger, the certificates and
the visits exactly; that is what `onewindow audit verify` checks.

A rule has two halves: `lookup` (impure, run time only: facts from the database, e.g. what the holder already
has on file; recorded in the event as `context`) and `apply` (pure: check the submission against the case and
the ledger, update the ledger, return the data put on the task and note the events it implies).
"""
from __future__ import annotations

from SpiffWorkflow.util.task import TaskState

from ..errors import Invalid, WorkflowFailed
from ..files.registry import Files, file_refs
from ..model.bpmn import task_meta
from ..model.rulespec import RULES, rule_name
from ..runtime import livetasks
from . import ledger as L
from .base import EFFECTS, RESERVED, SEED, Call, Effect, Rule  # noqa: F401 - EFFECTS, RESERVED re-exported
from .certificates import Certificates, holder_key
from .deadlines import DeemedRule, RemindRule
from .documents import Documents
from .notices import compose, documents_due
from .handover import PickupRule, PostCheckRule, SupplyRule
from .intake import IntakeRule, earlier_applications, judge, shared_materials, verdict_effects
from .outcomes import active_members, certificates_due, member_infos, outcomes, revocations_due
from .review import AutoDecisionRule, CorrectionRule, InspectionRule, OnSpotRule, ReviewRule

def start_rule(bundle) -> str | None:
    """The rule on the top process's start event (`intake` for matters applied for online only)."""
    for ts in bundle.spec.task_specs.values():
        if type(ts).__name__ == "StartEvent" and rule_name(ts):
            return rule_name(ts)
    return None


def declared_members(wf) -> list[str]:
    """The members the deciding tasks of a workflow's diagrams name, in the order the diagrams list them."""
    out: list[str] = []
    specs = [wf.spec, *[sp for sp in (wf.subprocess_specs or {}).values() if sp is not None]]
    for spec in specs:
        for ts in spec.task_specs.values():
            mid = task_meta(ts).properties.get("member") if rule_name(ts) in DECIDING else None
            if mid and mid not in out:
                out.append(mid)
    return out


DECIDING = {"review", "on_spot", "auto_decision"}


class RuleBook:
    """Every rule by name, plus what the rules imply after each action."""

    def __init__(self, rules: list[Rule], certificates=None, files=None, documents=None):
        self.rules = {r.name: r for r in rules}
        unknown = set(self.rules) - set(RULES)
        if unknown:  # the model layer's list is what `onewindow check` accepts
            raise ValueError(f"rules missing from engine.model.rulespec: {sorted(unknown)}")
        self.certs = certificates
        self.files = files  # engine.files.registry.Files: material files handed in with a submission
        self.docs = documents  # engine.window.documents.Documents: the sealed documents issued to the applicant
        self.reserved = RESERVED
        self.effects = EFFECTS

    @staticmethod
    def start_rule(bundle) -> str | None:
        return start_rule(bundle)

    def rule_for(self, task_spec) -> Rule | None:
        name = rule_name(task_spec)
        if name is None:
            return None
        rule = self.rules.get(name)
        if rule is None:  # `onewindow check` refuses unknown rules; a version deployed before a rule was removed
            raise WorkflowFailed(f"task {task_spec.bpmn_id} declares rule '{name}', which this platform does not know",
                                 element=task_spec.bpmn_id)
        return rule

    # ------------------------------------------------------------------ pure: the same at run time and in a replay
    def seed(self, guide: dict, process_id: str, data: dict, intake: dict | None, context: dict | None,
             online: bool) -> tuple[dict, dict | None, list[Effect]]:
        """The data a new case starts with, and (for a start event under `rule=intake`) the intake's verdict
        and the events it implies. Raises Invalid for an application the window cannot take."""
        start = dict(data, **SEED)
        if intake is None:
            return start, None, []
        refs = file_refs(intake.get("files"))
        verdict = judge(guide, process_id, data, intake, (context or {}).get("shared") or {}, online_start=online,
                        files=refs)
        if not verdict["accepted"]:  # only an explicit refusal gets here (missing materials raise for online)
            raise Invalid(verdict["reason"], {"intake": verdict["reason"]})
        start.update(accepted=True, materials=verdict["materials"], owed=verdict["owed"],
                     commitment=verdict["commitment"])
        effects = [Effect(t, p) for t, p in verdict_effects(verdict, data)]
        if refs:  # recorded by open_ledger with the rest of the intake
            verdict = dict(verdict, files={"refs": refs, "meta": (context or {}).get("files") or {}})
        if (context or {}).get("edition"):
            verdict = dict(verdict, edition=context["edition"])
        return start, verdict, effects

    @staticmethod
    def precheck(guide: dict, process_id: str, data: dict, intake: dict) -> None:
        """Raise Invalid for a verdict the window cannot take whatever is on file (容缺 with 告知承诺, a refusal
        without a reason...), so it is reported with the form's own errors."""
        judge(guide, process_id, data, intake, {}, files=file_refs(intake.get("files"), "intake.files"))

    def submission(self, s, intake: dict) -> dict:
        """An online application's materials and files, kept for the front desk's 预审 (网上预审): {materials,
        files: material id -> [sha256], meta: sha256 -> {name, size, content_type} as looked up now}."""
        refs = file_refs(intake.get("files"), "intake.files")
        out = {"materials": dict(intake.get("materials") or {})}
        if refs:
            out["files"] = refs
            out["meta"] = self.files.describe(s, refs) if self.files is not None else {}
        return out

    def open_ledger(self, wf, guide: dict, process_id: str, data: dict, verdict: dict | None, actor: str,
                    submission: dict | None = None) -> None:
        """The ledger of a new case: the members applied for (a bundle's chosen ones; for a diagram without a
        guide, the members its deciding tasks name), the start intake, or an online application's submission
        (its materials as the applicant marked them, its files) that the front desk's 预审 then judges."""
        active = active_members(guide, process_id, data)
        if guide.get("derived") and not guide.get("members"):
            active = declared_members(wf) or active
        L.write(wf, active=active)
        if verdict is not None:
            files = verdict.get("files") or {}
            L.write(wf, intake=dict({k: v for k, v in verdict.items() if k not in ("files", "edition")}, by=actor))
            if verdict.get("edition"):
                L.write(wf, edition=verdict["edition"])
            L.add_files(wf, "intake", files.get("refs") or {}, files.get("meta") or {}, actor)
        if submission:
            L.write(wf, submitted={"materials": dict(submission.get("materials") or {}), "by": actor})
            L.add_files(wf, "online", submission.get("files") or {}, submission.get("meta") or {}, actor)

    @staticmethod
    def call(wf, task, actor: str, data: dict, guide: dict, process_id: str, channel: str, context: dict) -> Call:
        return Call(wf, task, actor, data, guide, process_id, channel, context)

    def apply(self, call: Call) -> dict:
        """Check and apply a submission under the task's rule; returns the data for the task (effects on call)."""
        rule = self.rule_for(call.task.task_spec)
        if rule is None or rule.automatic:
            return dict(call.data)
        return rule.apply(call)

    def harvest(self, wf, guide: dict, process_id: str, channel: str) -> list[Effect]:
        """Apply the rules of automatic tasks (a 秒批 or 告知承诺 decision written by a script, 超时默认, 催办)
        completed since the last harvest, oldest first; each task once (recorded in the ledger by its path).
        Returns the events they imply."""
        done = set(L.read(wf).get("harvested") or [])
        found = []
        for w in livetasks.workflows(wf):
            for t in w.tasks.values():
                if t._state != TaskState.COMPLETED:
                    continue
                name = rule_name(t.task_spec)
                rule = self.rules.get(name) if name else None
                if rule is None or not rule.automatic:
                    continue
                path = "/".join(livetasks.task_path(t))
                if path not in done:
                    found.append((t.last_state_change, path, t, rule))
        effects: list[Effect] = []
        for _, path, t, rule in sorted(found, key=lambda x: (x[0], x[1])):
            call = Call(wf, t, "system", dict(t.data), guide, process_id, channel)
            rule.apply(call)
            effects += call.effects
            done.add(path)
            L.write(wf, harvested=sorted(done))
        return effects

    def consequences(self, wf, guide: dict, process_id: str, issued: dict) -> list[Effect]:
        """What the ledger now implies: certificates to issue (approved, nothing owed) and to revoke.
        `issued`: member -> {number, status} of the case's certificates so far."""
        ledger = L.read(wf)
        out = []
        for due in certificates_due(guide, process_id, ledger, issued):
            cert = due["certificate"]
            payload = {"matter": due["matter"], "type": cert["type"], "name": cert["name"],
                       "valid_years": cert.get("valid_years")}
            if L.member(ledger, due["matter"]).get("source") == "deemed":
                payload["seal"] = "auto"  # 超时默认、自动用印: no officer signed it off
            out.append(Effect("certificate_issued", payload, key=("matter", "type")))
        for rev in revocations_due(ledger, issued):
            out.append(Effect("certificate_revoked", {"number": rev["number"], "matter": rev["matter"],
                                                      "reason": rev["reason"]}, key=("number", "matter", "reason")))
        for key, kind in documents_due(guide, process_id, ledger):
            out.append(Effect("document_issued", {"key": key, "kind": kind}, key=("key", "kind")))
        return out

    # ------------------------------------------------------------------ run time: inside the action's transaction
    def complete(self, tx, actor, task, data: dict) -> tuple[dict, list[Effect], dict]:
        """(data for the task, events implied, what the task_completed event records about the rule)."""
        rule = self.rule_for(task.task_spec)
        if rule is None or rule.automatic:
            return dict(data), [], {}
        call = Call(tx.wf, task, actor.username, data, tx.guide, tx.case.process_id, tx.case.channel)
        call.context = rule.lookup(tx, call)
        if rule.takes_files and self.files is not None:
            refs = file_refs(data.get("files"))
            if refs:  # what each file is, recorded with its hash in the event
                call.context = dict(call.context, files=self.files.describe(tx.s, refs))
        applied = rule.apply(call)
        record = {"rule": rule.name}
        if call.context:
            record["context"] = call.context
        return applied, call.effects, record

    def lookup_start(self, tx_session, guide: dict, process_id: str, applicant: dict, data: dict,
                     intake: dict | None = None) -> dict:
        out = {"shared": shared_materials(tx_session, self.certs, guide, process_id, applicant, data),
               "edition": L.EDITION}
        refs = file_refs((intake or {}).get("files"), "intake.files")
        if refs and self.files is not None:
            out["files"] = self.files.describe(tx_session, refs)
        return out

    def prefill(self, s, guide: dict, applicant: dict, fields: set[str]) -> dict:
        """一次填报: form fields the holder filled in earlier accepted applications (later ones win)."""
        out = {}
        for e in earlier_applications(s, holder_key(applicant)):
            out.update({k: v for k, v in (e.get("data") or {}).items() if k in fields})
        return out

    def settle(self, tx, actor) -> bool:
        """After an action: harvest, carry out what the ledger implies, bring the visit count up to date.
        True when the ledger changed (the workflow must be saved again)."""
        before = L.read(tx.wf)
        for effect in self.harvest(tx.wf, tx.guide, tx.case.process_id, tx.case.channel):
            self.carry_out(tx, actor, effect)
        # no certificate can be due or revoked unless a member may hold one: spare the query
        issued = self.certs.issued_for(tx.s, tx.case.id) if self._may_certify(tx) else {}
        for effect in self.consequences(tx.wf, tx.guide, tx.case.process_id, issued):
            self.carry_out(tx, actor, effect)
        tx.case.visits = L.visits(tx.case.channel, L.read(tx.wf))
        return L.read(tx.wf) is not before

    def _may_certify(self, tx) -> bool:
        """Whether the case may hold certificates: a member approved whose guide names one."""
        if self.certs is None:
            return False
        ledger = L.read(tx.wf)
        infos = member_infos(tx.guide, tx.case.process_id)
        return any(rec.get("decision") == "approve" and (infos.get(mid) or {}).get("certificate")
                   for mid, rec in (ledger.get("members") or {}).items())

    def carry_out(self, tx, actor, effect: Effect) -> None:
        """Append an implied event, doing what it says first (issue or revoke a certificate)."""
        payload = dict(effect.payload)
        if effect.type == "certificate_issued":
            cert = {"type": payload["type"], "name": payload["name"], "valid_years": payload.get("valid_years")}
            c = self.certs.issue(tx.s, tx.case, payload["matter"], cert, tx.applicant)
            payload.update(number=c["number"], verify_code=c["verify_code"])
        elif effect.type == "certificate_revoked":
            self.certs.revoke_number(tx.s, payload["number"], payload["reason"], tx.now)
        elif effect.type == "document_issued":
            ledger = L.read(tx.wf)
            content = compose(payload["kind"], payload["key"], case={"number": tx.case.number,
                                                                     "applicant": tx.applicant},
                              guide=tx.guide, process_id=tx.case.process_id, ledger=ledger, now=tx.now,
                              accepted_at=tx.case.created_at, names=display_names(tx.s, ledger))
            doc = self.docs.issue(tx.s, tx.case, payload["key"], payload["kind"], content, tx.now)
            payload.update(number=doc["number"], sha256=doc["sha256"])
            L.note_document(tx.wf, payload["key"], payload["number"])
        tx.append(actor, effect.type, payload)

    def view(self, tx) -> dict:
        """The window's part of a case view: what is owed, each member's outcome, the notice of a refusal."""
        ledger = L.read(tx.wf)
        names = {m.get("id"): m.get("name") for m in tx.guide.get("materials") or [] if isinstance(m, dict)}
        finished = tx.case.status == "completed" or tx.open_item(rule="pickup") is not None
        intake = ledger.get("intake") or {}
        out = {"owed": [{"id": m, "name": names.get(m, m)} for m in L.owed(ledger)],
               "outcomes": outcomes(tx.guide, tx.case.process_id, ledger, finished),
               "certificates": self.certs.for_case_in(tx.s, tx.case.id) if self._may_certify(tx) else [],
               "documents": self.docs.for_case_in(tx.s, tx.case.id) if self.docs is not None
               and (ledger.get("documents") or {}) else []}
        if intake.get("accepted") is False:
            out["notice"] = {"kind": intake.get("kind"), "missing": intake.get("missing") or [],
                             "text": intake.get("reason") if intake.get("kind") == "一次性告知"
                             else f"不予受理决定：{intake.get('reason')}"}
        return out


def window_rulebook(certificates=None, files=None, documents=None) -> RuleBook:
    """The rules of a one-window service hall (every rule engine.model.rulespec documents)."""
    return RuleBook([IntakeRule(certificates), ReviewRule(), CorrectionRule(), InspectionRule(), OnSpotRule(),
                     AutoDecisionRule(), SupplyRule(), PostCheckRule(), PickupRule(), DeemedRule(), RemindRule()],
                    certificates, files, documents)


def display_names(s, ledger: dict) -> dict[str, str]:
    """username -> display name of everyone the ledger says acted on the case (for the documents)."""
    from sqlalchemy import select

    from ..db import User

    names = {(ledger.get("intake") or {}).get("by")}
    for rec in (ledger.get("members") or {}).values():
        names.add(rec.get("by"))
        names |= {c.get("by") for c in rec.get("corrections") or []}
        names |= {e.get("by") for e in (rec.get("levels") or {}).values()}
    names = sorted(n for n in names if n)
    return dict(s.execute(select(User.username, User.display_name).where(User.username.in_(names))).all()) \
        if names else {}


def install(services, key=None, storage=None) -> RuleBook:
    """Give a service layer the window's rules (with certificates sealed by `key`, default the hall's key, and
    material files kept in `storage`, default var/files)."""
    certs = Certificates(services, key)
    services.rules = window_rulebook(certs, Files(services, storage), Documents(services, certs.key))
    return services.rules
