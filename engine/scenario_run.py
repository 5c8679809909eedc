"""Running scenario files (engine.model.scenarios) through the real service layer on a throw-away database.

Each scenario gets a database of its own, copied from one template that was migrated (Alembic, as `onewindow db
upgrade` does) and had the catalogue deployed, and a service layer wired by engine.bootstrap.build_services — the
same rules and clocks as the app — with a throw-away sealing key and file store. Cases of one scenario therefore
never see another's certificates (数据共享) or data (一次填报). Every scenario ends with an audit verify of its case.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from .bootstrap import build_services
from .db import Group, Membership, User
from .errors import OneWindowError
from .model.scenarios import Refusal, Scenario, ScenarioFileError, Step, find_files, load_file


@dataclass
class Result:
    """What came of one scenario: the failures found (empty: passed), in the order they were found."""

    scenario: Scenario
    failures: list[str] = field(default_factory=list)
    cases: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def lines(self, verbose: bool = False) -> list[str]:
        """FAIL and the failures under it; PASS only when `verbose`."""
        if self.ok:
            return [f"PASS {self.scenario.title} ({self.seconds:.2f}s)"] if verbose else []
        return [f"FAIL {self.scenario.title}"] + [f"  {f}" for f in self.failures]


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)
    file_errors: list[ScenarioFileError] = field(default_factory=list)
    setup_error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.file_errors and self.setup_error is None and all(r.ok for r in self.results)

    def lines(self, verbose: bool = False, results: bool = True) -> list[str]:
        """The report as a test runner prints it: file errors, a line per failed (or, verbose, every) scenario with
        its failures under it, a summary; `results=False` when they were printed as they came."""
        out = [f"ERROR setting up: {self.setup_error}"] if self.setup_error else []
        for err in self.file_errors:
            out += [f"ERROR {line}" for line in err.lines()]
        for r in self.results if results else ():
            out += r.lines(verbose)
        passed = sum(r.ok for r in self.results)
        failed = len(self.results) - passed
        bad = f", {len(self.file_errors)} file(s) with errors" if self.file_errors else ""
        out.append(f"{len(self.results)} scenario(s): {passed} passed, {failed} failed{bad}")
        return out


def run_paths(paths: list[str | Path], workdir: str | Path | None = None, log=None, only: str | None = None) -> Report:
    """Find, load and run the scenario files of `paths` (directories, model files or scenario files); `only`: the
    scenarios whose `file::name` contains it; `log` is called with each result as it comes."""
    report = Report()
    scenarios: list[Scenario] = []
    files = find_files(paths)
    for f in files:
        try:
            scenarios += load_file(f)
        except ScenarioFileError as err:
            report.file_errors.append(err)
    if only:
        scenarios = [sc for sc in scenarios if only in sc.title]
    extra = sorted({f.parent.resolve() for f in files})
    run_scenarios(scenarios, report, extra, workdir, log)
    return report


def run_scenarios(scenarios: list[Scenario], report: Report | None = None, model_dirs=(),
                  workdir: str | Path | None = None, log=None) -> Report:
    """Run scenarios, each on its own copy of a freshly migrated database with the catalogue (and the model files of
    `model_dirs`, when outside it) deployed."""
    report = report or Report()
    if not scenarios:
        return report
    own = workdir is None
    root = Path(tempfile.mkdtemp(prefix="onewindow-test-") if own else workdir)
    root.mkdir(parents=True, exist_ok=True)
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from .files.storage import LocalStorage

        key, storage = Ed25519PrivateKey.generate(), LocalStorage(root / "files")
        try:
            template = _template(root, model_dirs, key, storage)
        except OneWindowError as exc:
            fields = getattr(exc, "fields", None) or {}
            report.setup_error = exc.message + "".join(f"\n  {k}: {v}" for k, v in fields.items())
            return report
        for n, sc in enumerate(scenarios, 1):
            db = root / f"scenario-{n}.db"
            shutil.copyfile(template, db)
            services = build_services(f"sqlite:///{db}", key, storage)
            try:
                result = run_one(services, sc)
            finally:
                services.sessions.kw["bind"].dispose()
                db.unlink(missing_ok=True)
            report.results.append(result)
            if log is not None:
                log(result)
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)
    return report


def _template(root: Path, model_dirs, key, storage) -> Path:
    """A migrated database with the catalogue and the scenario files' own models deployed."""
    from .bootstrap import problem_fields
    from .errors import Invalid
    from .migrate import upgrade
    from .model.catalogue import FORMS_DIR, PROCESSES_DIR, check
    from .model.deploy import deploy

    path = root / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    services = build_services(url, key, storage)
    try:
        results = [(check(), None)]
        for d in model_dirs:
            if Path(d).resolve() in (PROCESSES_DIR.resolve(), FORMS_DIR.resolve()):
                continue
            models = sorted(p for p in Path(d).iterdir() if p.suffix in (".bpmn", ".dmn", ".json"))
            if models:
                results.append((check([str(p) for p in models]), {p.name for p in models if p.suffix != ".json"}))
        for result, only in results:
            if not result.ok:
                raise Invalid("the models have errors (run `onewindow check`)", problem_fields(result.problems))
            with services.uow() as s:
                deploy(s, result, only_files=only or None)
    finally:
        services.sessions.kw["bind"].dispose()
    return path


# ------------------------------------------------------------------ one scenario
def run_one(services, sc: Scenario) -> Result:
    """Start the case, take the steps, compare with what was expected, verify the case's audit trail."""
    began = time.perf_counter()
    result = Result(sc)
    try:
        _play(services, sc, result)
    except Exception as exc:  # noqa: BLE001 - an engine fault is this scenario's failure, never the runner's end
        result.failures.append(f"error: {type(exc).__name__}: {exc}")
    if result.cases:
        from .audit.verify import verify_ids

        for finding in verify_ids(services, result.cases):
            if not finding.ok:
                result.failures.append(f"audit verify: {finding.line()}")
    result.seconds = time.perf_counter() - began
    return result


def _play(services, sc: Scenario, result: Result) -> None:
    st = sc.start
    actors: dict = {}
    actor = _actor(services, st.user, st.group, actors)
    try:
        case = services.start_case(actor, sc.process, st.applicant, st.data, channel=st.channel, intake=st.intake)
    except OneWindowError as exc:
        _refused(result, "start", st.refused, exc)
        return
    result.cases.append(case["id"])
    if st.refused is not None:
        result.failures.append(f"start: expected a refusal ({_refusal_text(st.refused)}), but the case was started")
        return
    for n, step in enumerate(sc.steps, 1):
        where = f"step {n} ({step.label()})"
        if step.wait_days is not None:  # the days pass for every later action too, as they would in the hall
            from .runtime.timers import fire_due

            services.clock = _later(services.clock, timedelta(days=step.wait_days))
            fire_due(services)
            continue
        view = services.case_view(case["id"])
        task = _find(view, sc.process, step)
        if task is None:
            result.failures.append(f"{where}: task {_name(sc.process, step.process, step.task)} not open; "
                                   f"open tasks: {_open_text(sc.process, view)}")
            break
        actor = _actor(services, step.user, step.group or task["group"], actors)
        try:
            services.complete(actor, task["id"], step.data)
        except OneWindowError as exc:
            if not _refused(result, where, step.refused, exc):
                break
            continue
        if step.refused is not None:
            result.failures.append(f"{where}: expected a refusal ({_refusal_text(step.refused)}), but the task was "
                                   "completed")
            break
    _compare(services, sc, case["id"], result)


def _later(clock, delta: timedelta):
    return lambda: clock() + delta


def _refused(result: Result, where: str, expected: Refusal | None, exc: OneWindowError) -> bool:
    """Whether the refusal was the expected one (else a failure is recorded)."""
    if expected is None:
        result.failures.append(f"{where}: refused: {_error_text(exc)}")
        return False
    fields = set(getattr(exc, "fields", None) or {})
    if exc.status != expected.status:
        result.failures.append(f"{where}: expected a refusal {_refusal_text(expected)}, got {_error_text(exc)}")
        return False
    missing = [f for f in expected.fields if f not in fields]
    if missing:
        result.failures.append(f"{where}: refused as expected ({exc.status}) but not naming {', '.join(missing)}; "
                               f"named: {', '.join(sorted(fields)) or 'no field'}")
        return False
    return True


def _refusal_text(r: Refusal) -> str:
    return f"{r.status}" + (f" naming {', '.join(r.fields)}" if r.fields else "")


def _error_text(exc: OneWindowError) -> str:
    fields = getattr(exc, "fields", None) or {}
    detail = "; ".join(f"{k}: {v}" for k, v in fields.items())
    return f"{exc.status} {exc.code}: {exc.message}" + (f" ({detail})" if detail else "")


def _name(top: str, process: str | None, element: str) -> str:
    return element if not process or process == top else f"{process}.{element}"


def _find(view: dict, top: str, step: Step) -> dict | None:
    for t in view["tasks"]:
        if t["element_id"] == step.task and (step.process is None or t["process_id"] == step.process):
            return t
    return None


def _open_text(top: str, view: dict) -> str:
    return ", ".join(f"{_name(top, t['process_id'], t['element_id'])} [{t['group']}]" for t in view["tasks"]) or "none"


def _actor(services, user: str | None, group: str | None, known: dict):
    """The acting user: `user` (made a member of `group` when not yet), else a user made for the group. `known`
    remembers, per scenario, the users made and their groups (each write is a transaction of its own)."""
    name = user or f"{group}1"
    groups, actor = known.get(name, (set(), None))
    if actor is not None and (group is None or group in groups):
        return actor
    with services.uow() as s:
        uid = s.scalar(select(User.id).where(User.username == name))
        if uid is None:
            row = User(username=name, display_name=name, password_hash="!scenario")
            s.add(row)
            s.flush()
            uid = row.id
        if group:
            if s.get(Group, group) is None:
                s.add(Group(name=group, title=group))
                s.flush()
            if s.scalar(select(Membership.user_id).where(Membership.user_id == uid,
                                                         Membership.group_name == group)) is None:
                s.add(Membership(user_id=uid, group_name=group))
    known[name] = (groups | {group} if group else groups, services.actor(name))
    return known[name][1]


def _compare(services, sc: Scenario, case_id: int, result: Result) -> None:
    ex = sc.expect
    view = services.case_view(case_id)
    events = services.events(case_id)
    fail = result.failures.append

    def differ(what: str, expected, actual) -> None:
        if expected != actual:
            fail(f"expect.{what}: expected {_show(expected)}, got {_show(actual)}")

    if ex.status is not None:
        differ("status", ex.status, view["status"])
    if ex.path is not None:
        path = [_name(sc.process, (e["payload"] or {}).get("process_id"), e["element_id"])
                for e in events if e["type"] == "task_completed"]
        if ex.path_any_order:
            differ("path (any order)", sorted(ex.path), sorted(path))
        else:
            differ("path", ex.path, path)
    if ex.outcomes is not None:
        actual = {o["matter"]: o["status"] for o in view.get("outcomes") or []}
        shown = actual if set(ex.outcomes) - set(actual) else {m: actual[m] for m in ex.outcomes}
        differ("outcomes", ex.outcomes, shown)  # members not named are not compared (unless one named is unknown)
    certs = view.get("certificates") or []
    if ex.certificates is not None:
        differ("certificates", sorted(ex.certificates), sorted(c["type"] for c in certs))
    if ex.revoked is not None:
        differ("revoked", sorted(ex.revoked), sorted(c["type"] for c in certs if c["status"] == "revoked"))
    types = {e["type"] for e in events}
    missing = [t for t in ex.events if t not in types]
    if missing:
        fail(f"expect.events: missing {_show(missing)}; present: {_show(sorted(types))}")
    present = [t for t in ex.events_absent if t in types]
    if present:
        fail(f"expect.events_absent: present {_show(present)}")
    if ex.open is not None:
        differ("open", sorted(ex.open), sorted(_name(sc.process, t["process_id"], t["element_id"])
                                              for t in view["tasks"]))
    if ex.notice is not None:
        differ("notice", ex.notice, (view.get("notice") or {}).get("kind"))
    if ex.visits is not None:
        differ("visits", ex.visits, view["visits"])


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False)
