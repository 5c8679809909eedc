"""docs/benchmarks.md: the figures of the last `make bench`, with the machine they were measured on."""
from __future__ import annotations

import os
import platform
import sqlite3
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"

TARGETS = {"persisted_vs_bare_ratio": "≥ 0.25", "overhead_ratio_500": "≤ 4", "verify_cases_per_s": "≥ 200 (aim)",
           "inbox_p95_ms": "≤ 30 (aim)"}
MEANING = {
    "bare_cases_per_s": "bundle flow, whole cases per second, bare SpiffWorkflow in memory",
    "persisted_cases_per_s": "the same through Services on SQLite (temp file), one transaction per action",
    "persisted_vs_bare_ratio": "persisted / bare: median of the ratios of paired rounds (bare, then persisted)",
    "persisted_ms_per_action": "persisted: ms per action (start_case or complete), 8 actions per case",
    "bundle_sql_statements_per_action": "SQL statements per action in the bundle flow (incl. BEGIN/COMMIT)",
    "step_ms_10": "loop: one complete() through Services with 10 completed tasks",
    "bare_step_ms_10": "loop: the same step on bare SpiffWorkflow in memory",
    "save_rows_10": "rows written (INSERT/UPDATE/DELETE, all tables) by that step",
    "sql_statements_10": "SQL statements of that step",
    "step_ms_500": "loop: one complete() through Services with 500 completed tasks",
    "bare_step_ms_500": "loop: the same step on bare SpiffWorkflow in memory",
    "save_rows_500": "rows written by that step (must not grow with history)",
    "sql_statements_500": "SQL statements of that step",
    "overhead_ratio_500": "persisted / bare step time: median of per-step ratios, the two timed alternately",
    "rows_read_10": "task and other rows that step reads (SELECTs of the service layer's prepared statements)",
    "rows_read_500": "the same at 500 completed tasks (settled history is packed into chunk rows of 32 tasks)",
    "step_ms_500_mean": "mean of the same steps, including the one in about 16 that packs 32 finished task rows "
                        "into a chunk row",
    "save_rows_500_max": "most rows written by one of those steps (a packing step: 32 deleted, 1 chunk written)",
    "overhead_ms_10": "step_ms_10 - bare_step_ms_10 (the platform's own cost)",
    "overhead_ms_500": "step_ms_500 - bare_step_ms_500",
    "verify_cases_per_s": "`onewindow audit verify --all` (hash chain, replay by the window's rules, comparison with the "
                          "stored state, certificates and visits) over finished cases of the real catalogue (every "
                          "matter and bundle in turn, bundles also refused; 1,000 unless BENCH_VERIFY_CASES), one "
                          "process, cases per second",
    "verify_cases_per_s_2_jobs": "the same with `--jobs 2` (one forked worker per core)",
    "replay_in_memory_cases_per_s": "the floor under any replay: the same cases' events replayed in memory "
                                    "(SpiffWorkflow + the window's rules; no reading, no comparison)",
    "verify_vs_replay_ratio": "replay in memory time / verify time (1.0 = verifying costs nothing beyond the replay)",
    "verify_catalogue_processes": "recipes the verified cases cycle through (matters, bundles, refused bundles)",
    "inbox_p50_ms": "one inbox page (50 tasks) of a clerk whose group holds 10,000 open tasks among 200,000 cases, "
                    "PostgreSQL: first page, a deep page by cursor, newest first, by due date both ways, by number",
    "inbox_p95_ms": "the same, 95th percentile",
    "inbox_search_p95_ms": "a search in that inbox (an applicant's name, the start of a case number), 95th percentile",
    "inbox_cases": "cases in the inbox benchmark's database (rows copied from one started by the service layer)",
    "inbox_my_open_tasks": "open tasks in the clerk's group",
}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def write(figures: dict, prof, cases: int, spread: dict | None = None, repeats: int = 1, plan: str = "") -> Path:
    total, buckets, rows = prof
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); re-run it to refresh. Ratios are measured within one run",
        "(bare and persisted rounds interleaved, medians), because the machine is shared and noisy; each figure is",
        f"the median of {repeats} repeats of the whole measurement, and the last column gives the repeats' range.",
        "",
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}",
        "- command: `make bench` (`.venv/bin/python -m bench`)",
        f"- cpu: {cpu_model()}, {os.cpu_count()} cores",
        f"- python {platform.python_version()}, SpiffWorkflow {version('SpiffWorkflow')}, "
        f"SQLAlchemy {version('SQLAlchemy')}, SQLite {sqlite3.sqlite_version}",
        "",
        "## Figures",
        "",
        "| figure | value | target | meaning | range over repeats |",
        "|---|---:|---|---|---|",
    ]
    for name, value in figures.items():
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        lo_hi = (spread or {}).get(name)
        rng = f"{lo_hi[0]:.2f} – {lo_hi[1]:.2f}" if lo_hi and isinstance(lo_hi[0], float) else ""
        lines.append(f"| `{name}` | {shown} | {TARGETS.get(name, '')} | {MEANING.get(name, '')} | {rng} |")
    lines += [
        "",
        "The bundle flow is `processes/sample_bundle.bpmn`: intake → 5 parallel call activities (review_*) → join →",
        "pickup, specs built with `engine.model.bpmn.build_specs` over all `processes/*.bpmn`. The loop is `bench/loop.bpmn`",
        "(user task → exclusive gateway → back while `n < limit`; two completed tasks per pass). Every persisted",
        "action loads the case from the database (no cache of live workflows; only the per-version spec cache).",
        "Finished tasks whose children are finished too are packed 32 to a row (engine/store.py), so a load reads",
        "one row per 32 settled tasks and parses no finished task's data until something reads it;",
        "`step_ms_500_mean` and `save_rows_500_max` include the steps that pack.",
        "",
        f"## Where the time goes (cProfile, {cases} persisted bundle cases, {total * 1000:.0f} ms profiled)",
        "",
        "Cumulative time of the functions named; nested rows are part of the row above them.",
        "",
        "| part | ms per case | share |",
        "|---|---:|---:|",
    ]
    for label, t, share in buckets:
        lines.append(f"| {label} | {t / cases * 1000:.2f} | {share:.0%} |")
    lines += ["", "Top cumulative entries:", "", "| function | calls | cumulative ms |", "|---|---:|---:|"]
    for where, nc, ct in rows:
        lines.append(f"| `{where}` | {nc} | {ct * 1000:.1f} |")
    if plan:
        lines += ["", "## The inbox query on PostgreSQL (`EXPLAIN (ANALYZE, BUFFERS)`, first page, 200,000 cases)", "",
                  "\"My tasks\" is three index-backed queries (my groups', assigned to me, offered to me by name) whose",
                  "first rows are merged; a page is keyset-paged by (sort key, id), so page 200 costs what page 1 does.",
                  "", "```", plan, "```"]
    lines.append("")
    DOC.write_text("\n".join(lines), encoding="utf-8")
    return DOC
