"""The flows `make bench` times still run to the end and verify: a benchmark that crashes measures nothing, and the
suite is where a change to a form or a rule is noticed (a required pickup recipient once broke `make bench`)."""
from __future__ import annotations

from bench import flows
from engine.audit.verify import case_ids, verify_ids


def test_every_bench_flow_runs_and_its_cases_verify():
    env = flows.PersistedEnv()
    try:
        env.bundle_case()
        view = env.loop_case()
        for n in range(1, 4):
            view = env.loop_step(view, n)
        assert view["status"] == "running" and view["tasks"]
        recipes = flows.catalogue_recipes()
        assert {r["process_id"] for r in recipes} >= {"b_joint", "b_build", "m_seal"}
        for recipe in recipes:
            env.catalogue_case(recipe)
        findings = list(verify_ids(env.services, case_ids(env.services)))
        assert len(findings) == len(recipes) + 2
        assert [f.line() for f in findings if not f.ok] == []
    finally:
        env.close()


def test_the_bare_flow_ends():
    flows.bare_bundle_case(flows.bundle_specs())
