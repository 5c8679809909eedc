"""Timing helpers: medians of repeated measurements, a SQL write counter, and a cProfile summary."""
from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import time

from sqlalchemy import event

from engine.runtime import hotsql


def per_item(fn, count: int) -> float:
    """Seconds per call of fn(), over `count` calls."""
    t0 = time.perf_counter()
    for _ in range(count):
        fn()
    return (time.perf_counter() - t0) / count


def median(values) -> float:
    return statistics.median(values)


class SqlCounter:
    """Counts statements and rows written (INSERT/UPDATE/DELETE rowcount) on an engine: SQLAlchemy's own
    statements through its cursor events, the service layer's prepared ones (engine.runtime.hotsql) through its
    listeners."""

    def __init__(self, engine):
        self.statements = self.rows = self.read = 0
        event.listen(engine, "after_cursor_execute", self._after)
        hotsql.LISTENERS.append(self._hot)

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.statements += 1
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.rows += max(cursor.rowcount, 0)

    def _hot(self, statement: str, count: int) -> None:
        self.statements += 1
        if statement.lstrip()[:6].upper() == "SELECT":
            self.read += count
        else:
            self.rows += max(count, 0)

    def reset(self) -> None:
        self.statements = self.rows = self.read = 0


# Where the time goes: (label, how to recognise the function in pstats: file suffix, function name).
BUCKETS = [
    ("load: read rows + restore workflow (total)", "engine/services.py", "_load"),
    ("  of which deserialization (store.restore)", "engine/store.py", "restore"),
    ("Task.run, all tasks (overlaps do_engine_steps)", "SpiffWorkflow/task.py", "run"),
    ("engine step (do_engine_steps)", "SpiffWorkflow/bpmn/workflow.py", "do_engine_steps"),
    ("depth guard (_guard_depth)", "engine/services.py", "_guard_depth"),
    ("save: diff + write rows (total)", "engine/services.py", "_save"),
    ("  of which serialization (store.diff)", "engine/store.py", "diff"),
    ("  of which task index (_index_tasks)", "engine/services.py", "_index_tasks"),
    ("audit event + hashing (_append)", "engine/services.py", "_append"),
    ("  of which sha256", "~", "<method 'hexdigest' of '_hashlib.HASH' objects>"),
    ("SQL in the sqlite3 driver (execute/executemany)", "~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    ("SQL in the sqlite3 driver (executemany)", "~", "<method 'executemany' of 'sqlite3.Cursor' objects>"),
    ("commit (sqlite3)", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    ("form validation (jsonschema)", "engine/forms.py", "validate"),
    ("case view (_case_view)", "engine/services.py", "_case_view"),
]


def profile(fn, top: int = 15):
    """Run fn under cProfile; return (total seconds, bucket rows, top cumulative rows)."""
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    total = stats.total_tt
    cum = {}
    for (file, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        key = (file.replace("\\", "/"), name)
        cum[key] = cum.get(key, 0.0) + ct
    buckets = []
    for label, file_suffix, name in BUCKETS:
        t = sum(ct for (f, n), ct in cum.items() if n == name and f.endswith(file_suffix))
        buckets.append((label, t, t / total if total else 0.0))
    ranked = sorted(stats.stats.items(), key=lambda kv: kv[1][3], reverse=True)
    rows = []
    for (file, line, name), (_cc, nc, _tt, ct, _callers) in ranked:
        short = file.split("site-packages/")[-1].replace(str(_root()) + "/", "")
        where = f"{short}:{line}({name})" if file != "~" else name
        rows.append((where, nc, ct))
        if len(rows) >= top:
            break
    return total, buckets, rows


def _root():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent
