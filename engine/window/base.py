"""What every one-window rule is made of: the call it answers, the events it implies, the keys it owns.

Kept apart from the rule book (engine.window.rules) so that each rule module imports only this.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..model.bpmn import task_meta
from . import ledger as L
from .outcomes import applied_for

# Keys of the case data the rules and the platform write; an application may not carry them.
RESERVED = frozenset({"window", "decisions", "inspections", "materials", "owed", "commitment", "accepted", "results",
                      "applicant", "channel", "missing", "supplied", "member", "level", "kind"})
# Event types the rules imply; the service layer appends them right after the action that implied them.
EFFECTS = frozenset({"intake_accepted", "intake_refused", "certificate_issued", "certificate_revoked",
                     "clock_paused", "clock_resumed", "deemed_approved", "reminder_sent", "document_issued"})
SEED = {"decisions": {}, "inspections": {}}  # what gateways read, present from the start


@dataclass
class Effect:
    """An event a rule implies. `key`, when set, is what a replay compares (the rest — a certificate's number —
    is made when the effect is carried out); otherwise the whole payload is compared."""

    type: str
    payload: dict
    key: tuple | None = None

    def matches(self, type_: str, payload: dict) -> bool:
        if type_ != self.type:
            return False
        if self.key is None:
            return payload == self.payload
        return all(payload.get(k) == self.payload.get(k) for k in self.key)


@dataclass
class Call:
    """One completion of a task under a rule, as the service layer or a replay presents it."""

    wf: object                 # the top workflow
    task: object               # the task being completed (READY), or an automatic task that completed
    actor: str                 # username
    data: dict                 # what was submitted (already valid against the task's form)
    guide: dict
    process_id: str            # the case's (top) process
    channel: str
    context: dict = field(default_factory=dict)   # what `lookup` found, as recorded in the event
    effects: list = field(default_factory=list)

    @property
    def props(self) -> dict:
        return task_meta(self.task.task_spec).properties

    @property
    def ledger(self) -> dict:
        return L.read(self.wf)

    def member(self) -> str:
        """The member a task concerns: its `member` property, else the case's first member."""
        mid = self.props.get("member")
        if mid:
            return mid
        members = applied_for(self.guide, self.process_id, self.ledger)
        return members[0] if members else self.process_id

    def emit(self, type_: str, payload: dict) -> None:
        self.effects.append(Effect(type_, payload))


class Rule:
    """A rule a task may declare; subclasses implement `apply` (pure) and, when needed, `lookup`."""

    name = ""
    automatic = False  # applied when an automatic task (a script) has completed, not on a submission
    takes_files = False  # a submission may hand in material files (`files`: {key: [sha256]}, looked up at run time)

    def lookup(self, tx, call: Call) -> dict:
        return {}

    def apply(self, call: Call) -> dict:
        raise NotImplementedError
