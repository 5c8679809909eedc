"""Engine steps read off the task maps (engine.runtime.stepping) find the same READY tasks, in the same order, as
SpiffWorkflow's tree walk, on every step of every matter and bundle of the catalogue; and a case stepped either way
ends in the same state."""
from __future__ import annotations

from SpiffWorkflow.util.task import TaskState

from bench import flows
from engine.runtime import stepping


def _checked(original):
    calls = {"n": 0, "tasks": 0}

    def ready_tasks(wf, top):
        ours = original(wf, top)
        theirs = wf.get_tasks(state=TaskState.READY)
        assert [t.id for t in ours] == [t.id for t in theirs]
        calls["n"] += 1
        calls["tasks"] += len(ours)
        return ours

    return ready_tasks, calls


def test_the_ready_tasks_are_the_libraries_in_its_order_on_the_whole_catalogue(monkeypatch):
    checked, calls = _checked(stepping.ready_tasks)
    monkeypatch.setattr(stepping, "ready_tasks", checked)
    env = flows.PersistedEnv()
    try:
        recipes = flows.catalogue_recipes()
        for recipe in recipes:
            env.catalogue_case(recipe)
    finally:
        env.close()
    assert calls["n"] > 20 * len(recipes) and calls["tasks"] > 0
