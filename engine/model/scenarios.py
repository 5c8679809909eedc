"""Scenario files: a designer's test cases for a diagram, kept beside it (`processes/m_seal.scenarios.yaml`).

A scenario is a start (applicant, data, channel, the front desk's verdict), steps (complete a task by element id as a
group/user with data, or let working days pass so timers fire) and what must come of it (path, status, outcomes,
certificates, events). The format is documented in docs/scenarios.md; this module only reads and checks files, so
every mistake is reported naming the file and the key (`scenarios[1].steps[2].group: ...`) before anything runs.
engine.runtime.scenario_run runs them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SUFFIX = ".scenarios.yaml"
ERRORS = {"Invalid": 422, "Forbidden": 403, "NotFound": 404, "Conflict": 409, "Unauthorized": 401}
OUTCOMES = {"approved", "rejected", "pending", "not_handled", "running"}
_DURATION = re.compile(r"^P(\d+)D$")


class ScenarioFileError(Exception):
    """A scenario file that cannot be used: every problem as `FILE: KEY: message`."""

    def __init__(self, file: str, problems: list[tuple[str, str]]):
        self.file, self.problems = file, problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [f"{self.file}: {key}: {message}" for key, message in self.problems]


@dataclass
class Refusal:
    """An action the engine must refuse: the HTTP status its error maps to, and fields it must name."""

    status: int
    fields: list[str] = field(default_factory=list)


@dataclass
class Step:
    """Complete `task` (an element id, in `process` when given) as `user` of `group`; or, with `wait_days`, let
    that many days pass and fire what timers fall due."""

    key: str
    task: str | None = None
    process: str | None = None
    group: str | None = None
    user: str | None = None
    data: dict = field(default_factory=dict)
    wait_days: int | None = None
    refused: Refusal | None = None

    def label(self) -> str:
        if self.wait_days is not None:
            return f"wait P{self.wait_days}D"
        where = f"{self.process}.{self.task}" if self.process else self.task
        return f"task {where} as {self.user or self.group}"


@dataclass
class Start:
    applicant: dict
    data: dict
    channel: str = "window"
    group: str = "front_desk"
    user: str | None = None
    intake: dict | None = None
    refused: Refusal | None = None


@dataclass
class Expect:
    status: str | None = None
    path: list[str] | None = None
    path_any_order: bool = False
    outcomes: dict[str, str] | None = None
    certificates: list[str] | None = None
    revoked: list[str] | None = None
    events: list[str] = field(default_factory=list)
    events_absent: list[str] = field(default_factory=list)
    open: list[str] | None = None
    notice: str | None = None
    visits: int | None = None


@dataclass
class Scenario:
    file: str
    process: str
    name: str
    start: Start
    steps: list[Step]
    expect: Expect
    description: str = ""

    @property
    def title(self) -> str:
        return f"{self.file}::{self.name}"


class _Reader:
    """Checks a parsed file, collecting problems by key instead of stopping at the first."""

    def __init__(self):
        self.problems: list[tuple[str, str]] = []

    def bad(self, key: str, message: str) -> None:
        self.problems.append((key, message))

    def mapping(self, value, key: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
        if not isinstance(value, dict):
            self.bad(key, f"must be a mapping, not {_kind(value)}")
            return {}
        for k in value:
            if k not in allowed:
                self.bad(f"{key}.{k}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
        for k in sorted(required - set(value)):
            self.bad(f"{key}.{k}", "missing")
        return value

    def text(self, value, key: str, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.bad(key, "missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.bad(key, f"must be a non-empty string, not {_kind(value)}")
            return None
        return value

    def names(self, value, key: str) -> list[str] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.bad(key, "must be a list of names")
            return None
        return list(value)

    def obj(self, value, key: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.bad(key, f"must be a mapping, not {_kind(value)}")
            return {}
        return value

    def refusal(self, value, key: str) -> Refusal | None:
        if value is None:
            return None
        m = self.mapping(value, key, {"status", "fields"}, {"status"})
        status = m.get("status")
        if isinstance(status, str) and status in ERRORS:
            status = ERRORS[status]
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status < 600:
            if "status" in m:
                self.bad(f"{key}.status", f"must be an HTTP status (403, 422…) or one of {', '.join(ERRORS)}")
            return None
        return Refusal(status, self.names(m.get("fields"), f"{key}.fields") or [])


def _kind(value) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "nothing"}.get(type(value), type(value).__name__)


def process_of(path: Path) -> str:
    """The process a scenario file tests, by its name: `m_seal.scenarios.yaml` -> m_seal."""
    return path.name[:-len(SUFFIX)] if path.name.endswith(SUFFIX) else path.stem


def load_file(path: str | Path) -> list[Scenario]:
    """Read and check one scenario file; ScenarioFileError naming file and key for every problem found."""
    import yaml

    path = Path(path)
    name = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioFileError(name, [("-", f"cannot be read: {exc.strerror or exc}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "-"
        raise ScenarioFileError(name, [(where, f"not valid YAML: {getattr(exc, 'problem', None) or exc}")]) from None
    r = _Reader()
    top = r.mapping(raw, "(file)", {"process", "scenarios"}, {"scenarios"})
    process = r.text(top.get("process"), "process") or process_of(path)
    items = top.get("scenarios")
    out: list[Scenario] = []
    if "scenarios" in top and (not isinstance(items, list) or not items):
        r.bad("scenarios", "must be a non-empty list of scenarios")
        items = []
    seen: set[str] = set()
    for i, item in enumerate(items or []):
        key = f"scenarios[{i}]"
        title = item.get("name") if isinstance(item, dict) else None
        if isinstance(title, str):
            if title in seen:
                r.bad(f"{key}.name", f"duplicate scenario name {title!r}")
            seen.add(title)
        sc = _scenario(r, item, key, name, process)
        if sc is not None:
            out.append(sc)
    if r.problems:
        raise ScenarioFileError(name, r.problems)
    return out


def _scenario(r: _Reader, item, key: str, file: str, process: str) -> Scenario | None:
    m = r.mapping(item, key, {"name", "description", "start", "steps", "expect"}, {"name", "start", "expect"})
    if not m:
        return None
    name = r.text(m.get("name"), f"{key}.name", required="name" in m) or f"#{key}"
    start = _start(r, m.get("start"), f"{key}.start") if "start" in m else None
    steps_raw = m.get("steps") or []
    if not isinstance(steps_raw, list):
        r.bad(f"{key}.steps", f"must be a list of steps, not {_kind(steps_raw)}")
        steps_raw = []
    steps = [s for s in (_step(r, s, f"{key}.steps[{j}]") for j, s in enumerate(steps_raw)) if s is not None]
    expect = _expect(r, m.get("expect"), f"{key}.expect") if "expect" in m else None
    if start is None or expect is None:
        return None
    return Scenario(file, process, name, start, steps, expect, m.get("description") or "")


def _start(r: _Reader, value, key: str) -> Start | None:
    m = r.mapping(value, key, {"applicant", "data", "channel", "group", "user", "intake", "refused"}, {"applicant"})
    if not m:
        return None
    applicant = r.obj(m.get("applicant"), f"{key}.applicant")
    channel = m.get("channel", "window")
    if channel not in ("window", "online"):
        r.bad(f"{key}.channel", "must be window or online")
    intake = m.get("intake")
    if intake is not None:
        i = r.mapping(intake, f"{key}.intake", {"accepted", "materials", "reason", "remark"})
        if "accepted" in i and not isinstance(i["accepted"], bool):
            r.bad(f"{key}.intake.accepted", "must be true or false")
        mats = i.get("materials", {})
        if isinstance(mats, list):  # shorthand: the ids of the materials handed in
            intake = dict(i, materials={x: "provided" for x in mats if isinstance(x, str)})
        elif not isinstance(mats, dict):
            r.bad(f"{key}.intake.materials", "must be a list of ids or a mapping id -> provided|deferred|commitment")
    default_group = "applicant" if channel == "online" else "front_desk"
    return Start(applicant, r.obj(m.get("data"), f"{key}.data"), channel,
                 r.text(m.get("group"), f"{key}.group") or default_group, r.text(m.get("user"), f"{key}.user"),
                 intake, r.refusal(m.get("refused"), f"{key}.refused"))


def _step(r: _Reader, value, key: str) -> Step | None:
    m = r.mapping(value, key, {"task", "process", "group", "user", "data", "wait", "refused"})
    if not m:
        return None
    if "wait" in m:
        others = sorted(set(m) - {"wait"})
        if others:
            r.bad(key, f"a wait step takes no other keys (found {', '.join(others)})")
        found = _DURATION.match(str(m["wait"]))
        if not found:
            r.bad(f"{key}.wait", "must be a number of days as P<n>D, e.g. P40D")
            return None
        return Step(key, wait_days=int(found.group(1)))
    task = r.text(m.get("task"), f"{key}.task", required=True)
    group = r.text(m.get("group"), f"{key}.group")
    user = r.text(m.get("user"), f"{key}.user")
    if group is None and user is None:
        r.bad(f"{key}.group", "missing (the group acting, or the user)")
    return Step(key, task, r.text(m.get("process"), f"{key}.process"), group, user,
                r.obj(m.get("data"), f"{key}.data"), refused=r.refusal(m.get("refused"), f"{key}.refused"))


def _expect(r: _Reader, value, key: str) -> Expect | None:
    m = r.mapping(value, key, {"status", "path", "path_any_order", "outcomes", "certificates", "revoked", "events",
                               "events_absent", "open", "notice", "visits"})
    if not isinstance(value, dict):
        return None
    status = m.get("status")
    if status is not None and status not in ("running", "completed"):
        r.bad(f"{key}.status", "must be running or completed")
    outcomes = m.get("outcomes")
    if outcomes is not None:
        if not isinstance(outcomes, dict):
            r.bad(f"{key}.outcomes", "must be a mapping member -> status")
            outcomes = None
        else:
            for member, st in outcomes.items():
                if st not in OUTCOMES:
                    r.bad(f"{key}.outcomes.{member}", f"must be one of {', '.join(sorted(OUTCOMES))}")
    any_order = m.get("path_any_order", False)
    if not isinstance(any_order, bool):
        r.bad(f"{key}.path_any_order", "must be true or false")
    visits = m.get("visits")
    if visits is not None and (not isinstance(visits, int) or isinstance(visits, bool)):
        r.bad(f"{key}.visits", "must be a number")
    return Expect(status, r.names(m.get("path"), f"{key}.path"), bool(any_order), outcomes,
                  r.names(m.get("certificates"), f"{key}.certificates"), r.names(m.get("revoked"), f"{key}.revoked"),
                  r.names(m.get("events"), f"{key}.events") or [],
                  r.names(m.get("events_absent"), f"{key}.events_absent") or [],
                  r.names(m.get("open"), f"{key}.open"), r.text(m.get("notice"), f"{key}.notice"), visits)


def find_files(paths: list[str | Path]) -> list[Path]:
    """Scenario files named, or found for the paths given: a directory stands for its `*.scenarios.yaml`, a model
    file for the scenario file beside it (none is no error: not every diagram has scenarios yet)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(p.glob(f"*{SUFFIX}"))
        elif p.name.endswith(SUFFIX) or p.suffix in (".yaml", ".yml"):
            out.append(p)
        else:
            beside = p.with_name(p.stem + SUFFIX)
            if beside.exists():
                out.append(beside)
    seen: dict[Path, Path] = {}
    for p in out:
        seen.setdefault(p.resolve(), p)
    return list(seen.values())
