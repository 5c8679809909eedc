"""Moving the running cases of a process onto another version together: a dry run that says, case by case, whether
the move is safe and why not; a run that moves the safe ones in batches; resuming a run after an interruption; and
moving back the cases a run moved.

Why a run is recorded (tables migration_runs and migration_items): the plan (which cases, from and to which
version) is written before anything moves, and each case's item is marked in the same transaction that moves the
case and writes its `version_migrated` event, so an interrupted run resumes exactly where it stopped and a
move-back knows which cases to take back, and where to. Each move is one case's own locked transaction
(engine.runtime.admin.move_case), so one unsafe or busy case never holds up the others.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from . import admin
from .census import OPEN_STATUSES, waiting_at
from ..db import Base, Case, ProcessVersion, utcnow
from ..errors import Conflict, Invalid, NotFound, OneWindowError

DEFAULT_BATCH = 50


class MigrationRun(Base):
    """One migration of a process's cases: forward to one version, or back (undoing an earlier run)."""

    __tablename__ = "migration_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="forward")  # forward | back
    to_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_versions.id"), nullable=True)
    undoes: Mapped[int | None] = mapped_column(ForeignKey("migration_runs.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64), default="")
    batch_size: Mapped[int] = mapped_column(Integer, default=DEFAULT_BATCH)
    batches_done: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running (or interrupted) | done
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MigrationItem(Base):
    """One case of a run: where it moves from and to, and how it went (pending, moved, unsafe, skipped)."""

    __tablename__ = "migration_items"
    run_id: Mapped[int] = mapped_column(ForeignKey("migration_runs.id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    from_version_id: Mapped[int] = mapped_column(Integer)
    to_version_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    moved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass
class Verdict:
    """Whether one case can move, and why not; `waits_at`: the elements it waits in."""

    case_id: int
    number: str | None
    from_version: int
    to_version: int
    waits_at: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    state: str = "pending"  # for a run's items: pending, moved, unsafe, skipped

    @property
    def safe(self) -> bool:
        return not self.problems

    def why(self) -> str:
        return "; ".join(f"{e}: {w}" if e != "-" else w for e, w in self.problems)


@dataclass
class Report:
    """A dry run's verdicts, or a run's items with their states."""

    process_id: str
    to_version: int | None
    verdicts: list[Verdict]
    run_id: int | None = None
    kind: str = "forward"
    status: str = "dry run"
    batches_done: int = 0
    reason: str = ""

    def count(self, state: str) -> int:
        return sum(1 for v in self.verdicts if v.state == state)

    @property
    def safe(self) -> int:
        return sum(1 for v in self.verdicts if v.safe)

    @property
    def unsafe(self) -> int:
        return len(self.verdicts) - self.safe


def _resolve(s, services, process_id: str, to) -> ProcessVersion:
    """The target version: 'latest' or a version id of that process."""
    if str(to).strip().lower() == "latest":
        return services.latest_version(s, process_id)
    try:
        vid = int(str(to).strip())
    except ValueError:
        raise Invalid(f"--to must be 'latest' or a version id, not {to!r}", {"to": "latest 或版本号 (latest or a "
                                                                                   "version id)"}) from None
    version = s.get(ProcessVersion, vid)
    if version is None:
        raise NotFound(f"no such process version: {vid}")
    if version.process_id != process_id:
        raise Invalid(f"version {vid} is a version of {version.process_id}, not of {process_id}",
                      {"to": f"版本 {vid} 不属于 {process_id}"})
    return version


class Migrations:
    """Batch migrations for actors in group 'admin' or 'supervisor' (every run needs a reason)."""

    def __init__(self, services):
        self.sv = services

    # ------------------------------------------------------------ dry runs
    def assess(self, case_id: int, to_version_id: int, allow_older: bool = False) -> Verdict:
        """Would this case move safely? The move is tried on the loaded workflow and thrown away."""
        with self.sv.case_view_tx(case_id) as tx:
            verdict = Verdict(case_id, tx.case.number, tx.case.version_id, to_version_id, waiting_at(tx.wf))
            new = self.sv.version(tx.s, to_version_id)
            verdict.problems = admin.migration_problems(self.sv, tx, new, allow_older)
        verdict.state = "pending" if verdict.safe else "unsafe"
        return verdict

    def plan(self, actor, process_id: str, to="latest") -> Report:
        """Dry run: every open case of the process not on the target version, safe or not and why. Writes nothing."""
        admin.require_admin(actor)
        with self.sv.uow() as s:
            target = _resolve(s, self.sv, process_id, to)
            cases = self._candidates(s, process_id, target.id)
        verdicts = [self.assess(cid, target.id) for cid in cases]
        return Report(process_id, target.id, verdicts)

    def plan_back(self, actor, run_id: int) -> Report:
        """Dry run of moving back what run `run_id` moved."""
        admin.require_admin(actor)
        items = self._back_items(run_id)
        verdicts = []
        for item in items:
            if item.state == "skipped":
                verdicts.append(item)
            else:
                verdicts.append(self.assess(item.case_id, item.to_version, allow_older=True))
        return Report(self._run(run_id).process_id, None, verdicts, kind="back")

    # ------------------------------------------------------------ runs
    def start(self, actor, process_id: str, to, reason: str, batch_size: int = DEFAULT_BATCH, progress=None) -> Report:
        """Record a run of every open case of the process not on the target version, then move them in batches."""
        reason = admin.authorise(actor, reason)
        batch_size = _batch(batch_size)
        with self.sv.uow() as s:
            target = _resolve(s, self.sv, process_id, to)
            run = MigrationRun(process_id=process_id, kind="forward", to_version_id=target.id, reason=reason,
                               actor=actor.username, batch_size=batch_size, created_at=self.sv.clock())
            s.add(run)
            s.flush()
            rows = s.execute(select(Case.id, Case.version_id, Case.status).where(
                Case.process_id == process_id, Case.status.in_(OPEN_STATUSES), Case.version_id != target.id)
                .order_by(Case.id)).all()
            for case_id, vid, status in rows:
                skipped = status != "running"
                s.add(MigrationItem(run_id=run.id, case_id=case_id, from_version_id=vid, to_version_id=target.id,
                                    state="skipped" if skipped else "pending",
                                    detail=f"案件状态为 {status} (the case is {status})" if skipped else ""))
            run_id = run.id
        return self._execute(actor, run_id, progress)

    def resume(self, actor, run_id: int, progress=None) -> Report:
        """Go on with a run that was interrupted (its pending cases); a finished run is reported as it is."""
        run = self._run(run_id)
        admin.authorise(actor, run.reason)
        return self._execute(actor, run_id, progress)

    def back(self, actor, run_id: int, reason: str, batch_size: int | None = None, progress=None) -> Report:
        """Move the cases run `run_id` moved back to the versions they came from, where that is still safe."""
        reason = admin.authorise(actor, reason)
        source = self._run(run_id)
        items = self._back_items(run_id)
        with self.sv.uow() as s:
            run = MigrationRun(process_id=source.process_id, kind="back", undoes=run_id, reason=reason,
                               actor=actor.username, batch_size=_batch(batch_size or source.batch_size),
                               created_at=self.sv.clock())
            s.add(run)
            s.flush()
            for v in items:
                s.add(MigrationItem(run_id=run.id, case_id=v.case_id, from_version_id=v.from_version,
                                    to_version_id=v.to_version, state=v.state, detail=v.why()))
            back_id = run.id
        return self._execute(actor, back_id, progress)

    def report(self, run_id: int) -> Report:
        run = self._run(run_id)
        with self.sv.uow() as s:
            rows = s.execute(select(MigrationItem, Case.number).join(Case, Case.id == MigrationItem.case_id)
                             .where(MigrationItem.run_id == run_id).order_by(MigrationItem.case_id)).all()
            verdicts = [Verdict(i.case_id, number, i.from_version_id, i.to_version_id,
                                problems=[("-", i.detail)] if i.state in ("unsafe", "skipped") else [], state=i.state)
                        for i, number in rows]
        return Report(run.process_id, run.to_version_id, verdicts, run.id, run.kind, run.status, run.batches_done,
                      run.reason)

    def runs(self, process_id: str | None = None) -> list[MigrationRun]:
        with self.sv.uow() as s:
            q = select(MigrationRun).order_by(MigrationRun.id.desc())
            if process_id:
                q = q.where(MigrationRun.process_id == process_id)
            return list(s.scalars(q).all())

    # ------------------------------------------------------------ internals
    def _candidates(self, s, process_id: str, target_id: int) -> list[int]:
        return list(s.scalars(select(Case.id).where(Case.process_id == process_id, Case.status.in_(OPEN_STATUSES),
                                                     Case.version_id != target_id).order_by(Case.id)).all())

    def _run(self, run_id: int) -> MigrationRun:
        with self.sv.uow() as s:
            run = s.get(MigrationRun, int(run_id))
            if run is None:
                raise NotFound(f"no such migration run: {run_id}")
            return run

    def _back_items(self, run_id: int) -> list[Verdict]:
        """For each case run `run_id` moved: back to where it came from, or skipped (and why) when it moved on."""
        source = self._run(run_id)
        if source.kind != "forward":
            raise Conflict(f"run {run_id} is itself a move back; start a new migration instead")
        out = []
        with self.sv.uow() as s:
            rows = s.execute(select(MigrationItem, Case).join(Case, Case.id == MigrationItem.case_id).where(
                MigrationItem.run_id == run_id, MigrationItem.state == "moved").order_by(MigrationItem.case_id)).all()
            for item, case in rows:
                v = Verdict(case.id, case.number, item.to_version_id, item.from_version_id)
                if case.status != "running":
                    v.problems, v.state = [("-", f"案件状态为 {case.status} (the case is {case.status})")], "skipped"
                elif case.version_id != item.to_version_id:
                    v.problems, v.state = [("-", f"案件已不在版本 {item.to_version_id} (the case has moved on to "
                                                 f"version {case.version_id})")], "skipped"
                out.append(v)
        return out

    def _execute(self, actor, run_id: int, progress) -> Report:
        """Move the pending cases of a run, a batch at a time; `progress(batch number, report)` after each batch."""
        run = self._run(run_id)
        while True:
            with self.sv.uow() as s:
                pending = list(s.scalars(select(MigrationItem.case_id).where(
                    MigrationItem.run_id == run_id, MigrationItem.state == "pending")
                    .order_by(MigrationItem.case_id).limit(run.batch_size)).all())
            if not pending:
                break
            for case_id in pending:
                self._move(actor, run, case_id)
            with self.sv.uow() as s:
                row = s.get(MigrationRun, run_id)
                row.batches_done += 1
                batches = row.batches_done
            if progress is not None:
                progress(batches, self.report(run_id))
        with self.sv.uow() as s:
            row = s.get(MigrationRun, run_id)
            if row.status != "done":
                row.status, row.finished_at = "done", self.sv.clock()
        return self.report(run_id)

    def _move(self, actor, run: MigrationRun, case_id: int) -> None:
        """Move one case and mark its item in the same transaction; an unsafe case is marked with why."""
        try:
            with self.sv.case_action(case_id) as tx:
                item = tx.s.get(MigrationItem, (run.id, case_id), populate_existing=True)
                if item is None or item.state != "pending":  # another runner got there first
                    return
                new = tx.s.get(ProcessVersion, item.to_version_id)
                admin.move_case(self.sv, tx, actor, new, run.reason, allow_older=run.kind == "back", run=run.id)
                item.state, item.moved_at = "moved", tx.now
        except OneWindowError as exc:
            self._mark_unsafe(run.id, case_id, exc.message)
        except Exception as exc:  # noqa: BLE001 - a library failure on one case must not stop the others
            self._mark_unsafe(run.id, case_id, f"unexpected error: {type(exc).__name__}: {exc}")

    def _mark_unsafe(self, run_id: int, case_id: int, why: str) -> None:
        with self.sv.uow() as s:
            item = s.get(MigrationItem, (run_id, case_id))
            if item is not None and item.state == "pending":
                item.state, item.detail = "unsafe", why


def _batch(size) -> int:
    try:
        size = int(size)
    except (TypeError, ValueError):
        size = 0
    if not 1 <= size <= 10_000:
        raise Invalid("batch size must be between 1 and 10000", {"batch_size": "1–10000"})
    return size
