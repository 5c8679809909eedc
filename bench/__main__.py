"""`make bench` / `python -m bench`: prints one `name: value` line per figure and writes docs/benchmarks.md.

The machine is shared and noisy, so bare and persisted runs are interleaved and compared as ratios
within one run; every figure is a median of several rounds.
"""
from __future__ import annotations

import os
import sys
import time

from SpiffWorkflow.util.task import TaskState

from . import flows, inbox, measure, report

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CASES_PER_ROUND = int(os.environ.get("BENCH_CASES", "20"))
VERIFY_CASES = int(os.environ.get("BENCH_VERIFY_CASES", "1000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))


def bundle_throughput(env, specs) -> dict:
    """Bare and persisted rounds alternate; the ratio is the median of each round's own ratio, so a slow
    spell of the machine hits both sides of a pair instead of one side of the comparison."""
    flows.bare_bundle_case(specs), env.bundle_case()  # warm-up: spec caches, compiled expressions, statement cache
    bare, persisted = [], []
    for _ in range(ROUNDS):
        bare.append(measure.per_item(lambda: flows.bare_bundle_case(specs), CASES_PER_ROUND))
        persisted.append(measure.per_item(env.bundle_case, CASES_PER_ROUND))
    b, p = measure.median(bare), measure.median(persisted)
    env.counter.reset()
    env.bundle_case()
    actions = 1 + 7  # start_case + intake, 5 reviews, pickup
    return {"bare_cases_per_s": 1 / b, "persisted_cases_per_s": 1 / p,
            "persisted_vs_bare_ratio": measure.median([x / y for x, y in zip(bare, persisted)]),
            "persisted_ms_per_action": p / actions * 1000,
            "bundle_sql_statements_per_action": env.counter.statements / actions}


def steps_to_reach(specs, n: int) -> int:
    """How many loop passes bring a fresh case to at least n completed tasks."""
    wf = flows.bare_start(specs, {"limit": flows.LOOP_LIMIT, "n": 0})
    k = 0
    while flows.completed_count(wf) < n:
        k += 1
        flows.bare_complete(wf, wf.get_tasks(state=TaskState.READY, manual=True)[0], flows.loop_data(k))
    return k


def paired_steps(env, specs, passes: int, cases: int, steps: int) -> dict:
    """The same step timed on bare SpiffWorkflow and through Services, alternately, step by step: medians of
    each side, the median of the per-step ratios, and SQL statements and rows written per persisted step."""
    bare_t, pers_t, ratios, stmts, rows, read = [], [], [], [], [], []
    for _ in range(cases):
        wf = flows.bare_start(specs, {"limit": flows.LOOP_LIMIT, "n": 0})
        view = env.loop_case()
        for k in range(1, passes + steps + 1):
            task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
            t0 = time.perf_counter()
            flows.bare_complete(wf, task, flows.loop_data(k))
            t1 = time.perf_counter()
            env.counter.reset()
            view = env.loop_step(view, k)
            t2 = time.perf_counter()
            if k > passes:
                bare_t.append(t1 - t0)
                pers_t.append(t2 - t1)
                ratios.append((t2 - t1) / (t1 - t0))
                stmts.append(env.counter.statements)
                rows.append(env.counter.rows)
                read.append(env.counter.read)
    return {"bare": measure.median(bare_t) * 1000, "persisted": measure.median(pers_t) * 1000,
            "mean": sum(pers_t) / len(pers_t) * 1000, "ratio": measure.median(ratios),
            "statements": measure.median(stmts), "rows": measure.median(rows), "rows_max": max(rows),
            "read": measure.median(read)}


def step_figures(env, loop) -> dict:
    out = {}
    for n, cases, steps in ((10, 15, 3), (500, 4, 40)):
        r = paired_steps(env, loop, steps_to_reach(loop, n), cases, steps)
        out.update({f"step_ms_{n}": r["persisted"], f"bare_step_ms_{n}": r["bare"], f"save_rows_{n}": r["rows"],
                    f"sql_statements_{n}": r["statements"], f"rows_read_{n}": r["read"]})
        if n == 500:
            out["overhead_ratio_500"] = r["ratio"]
            out["step_ms_500_mean"] = r["mean"]
            out["save_rows_500_max"] = r["rows_max"]
    out["overhead_ms_10"] = out["step_ms_10"] - out["bare_step_ms_10"]
    out["overhead_ms_500"] = out["step_ms_500"] - out["bare_step_ms_500"]
    return out


def verify_throughput(cases: int = VERIFY_CASES) -> dict:
    """`onewindow audit verify --all` (engine.audit.verify: hash chain, replay, comparison with the stored state,
    certificates and visits) over finished cases of the real catalogue — every matter and bundle in turn,
    bundles also with their first member refused — each created as a hall works it (one transaction per
    action), in a database of their own; only the verify is timed. Beside it, in the same run: the same with
    one worker process per core, and the floor under any replay — the recorded events replayed in memory
    (SpiffWorkflow and the window's rules, no reading, no comparison)."""
    from engine.audit.replay import load_events, replay, source_of, start_version
    from engine.audit.verify import case_ids, verify_ids, verify_parallel
    from engine.db import Case

    env = flows.PersistedEnv()
    recipes = flows.catalogue_recipes()
    try:
        for i in range(cases):
            env.catalogue_case(recipes[i % len(recipes)])
        ids = case_ids(env.services)
        t0 = time.perf_counter()
        findings = list(verify_ids(env.services, ids))
        single = time.perf_counter() - t0
        jobs = os.cpu_count() or 1
        t0 = time.perf_counter()
        parallel = list(verify_parallel(env.services, ids, jobs))
        multi = time.perf_counter() - t0
        with env.services.read() as s:
            loaded = [(load_events(s, cid), s.get(Case, cid).version_id) for cid in ids]
            source = source_of(env.services, s)
            t0 = time.perf_counter()
            for events, vid in loaded:
                replay(source, start_version(events, vid), events, faithful=False)
            floor = time.perf_counter() - t0
    finally:
        env.close()
    bad = [f.line() for f in findings + parallel if not f.ok]
    assert len(findings) == len(parallel) == cases and not bad, bad[:3]
    return {"verify_cases_per_s": cases / single, f"verify_cases_per_s_{jobs}_jobs": cases / multi,
            "replay_in_memory_cases_per_s": cases / floor, "verify_vs_replay_ratio": floor / single,
            "verify_catalogue_processes": len(recipes)}


def repeated(env, specs, loop) -> tuple[dict, dict]:
    """Every throughput and step figure measured REPEATS times; each figure is the median of the repeats,
    and the spread (min, max) of each is kept: on a shared VM whole runs drift by 10-20%."""
    runs = []
    for _ in range(REPEATS):
        run = bundle_throughput(env, specs)
        run.update(step_figures(env, loop))
        runs.append(run)
    figures = {k: measure.median([r[k] for r in runs]) for k in runs[0]}
    spread = {k: (min(r[k] for r in runs), max(r[k] for r in runs)) for k in runs[0]}
    return figures, spread


def main() -> int:
    specs, loop = flows.bundle_specs(), flows.loop_specs()
    env = flows.PersistedEnv()
    env.counter = measure.SqlCounter(env.engine)
    try:
        figures, spread = repeated(env, specs, loop)
        figures.update(verify_throughput())
        inbox_figures, plan = inbox.run()
        figures.update(inbox_figures)
        for name, value in figures.items():
            print(f"{name}: {value:.2f}" if isinstance(value, float) else f"{name}: {value}")
        prof = measure.profile(lambda: [env.bundle_case() for _ in range(CASES_PER_ROUND)])
    finally:
        env.close()
    path = report.write(figures, prof, CASES_PER_ROUND, spread, REPEATS, plan)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
