"""The SpiffWorkflow traps that touch us, each with a test (see shared/docs/spiffworkflow-notes.md)."""
from __future__ import annotations

import pytest

from engine.errors import WorkflowFailed
from engine.runtime.services import MAX_TASK_DEPTH
from tests.conftest import APPLICANT
from tests.helpers import deploy_files, task_named
from tools.bpmngen import Process


def _loop_process(directory):
    p = Process("loop_matter", "循环事项", dialect="camunda")
    p.start("start")
    p.user("work", "办理", group="front_desk")
    p.script("count", "计数", "n = n + 1")
    p.xor("again", "继续?")
    p.end("end")
    p.chain("start", "work", "count", "again")
    p.flow("again", "work", cond="n < 100000", name="再来")
    p.flow("again", "end", cond="n >= 100000", name="够了")
    p.write(str(directory / "loop_matter.bpmn"))


def _failing_process(directory):
    p = Process("broken_matter", "出错事项", dialect="camunda")
    p.start("start")
    p.user("work", "办理", group="front_desk")
    p.script("boom", "计算", "ratio = 1 / 0")
    p.user("never", "不会到达", group="front_desk")
    p.end("end")
    p.chain("start", "work", "boom", "never", "end")
    p.write(str(directory / "broken_matter.bpmn"))


def test_a_case_looping_past_the_engines_walk_depth_fails_loudly(services, tmp_path):
    """SpiffWorkflow walks only 1,000 levels; past that a case would silently report itself finished."""
    _loop_process(tmp_path)
    deploy_files(services, tmp_path)
    front = services.actor("front")
    case = services.start_case(front, "loop_matter", APPLICANT, {"n": 0})
    passes = 0
    with pytest.raises(WorkflowFailed) as err:
        while passes < 2000:
            case = services.complete(front, task_named(case, "work")["id"], {})
            passes += 1
    assert "deep" in err.value.message or "finished" in err.value.message
    assert passes < 2000 and passes * 3 < MAX_TASK_DEPTH + 10
    final = services.get_case(case["id"])
    assert final["status"] == "running" and [t["element_id"] for t in final["tasks"]] == ["work"]


def test_an_error_inside_a_step_leaves_nothing_half_saved(services, tmp_path):
    """An exception in task.run() can leave the task COMPLETED in memory; the database must not see it."""
    _failing_process(tmp_path)
    deploy_files(services, tmp_path)
    front = services.actor("front")
    case = services.start_case(front, "broken_matter", APPLICANT, {})
    task = task_named(case, "work")
    events_before = services.events(case["id"])
    with pytest.raises(WorkflowFailed) as err:
        services.complete(front, task["id"], {})
    assert err.value.details.get("element") == "boom"
    after = services.get_case(case["id"])
    assert [t["id"] for t in after["tasks"]] == [task["id"]] and after["status"] == "running"
    assert services.events(case["id"]) == events_before
    with pytest.raises(WorkflowFailed):  # still ready, still failing the same way: nothing moved
        services.complete(front, task["id"], {})
