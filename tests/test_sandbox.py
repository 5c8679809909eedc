"""The sandbox every condition, expression and script runs in: escapes are refused, ordinary data work runs."""
from __future__ import annotations

import datetime as dt

import pytest
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.util.task import TaskState

from engine.model.bpmn import build_specs
from engine.model.catalogue import check
from engine.errors import ExpressionRefused
from engine.model.sandbox import SandboxEnvironment, check_source, make_script_engine
from test_check import gateway, line_of, script_task


@pytest.fixture
def env():
    return SandboxEnvironment()


def refused(env, source: str, kind: str = "expression", context: dict | None = None) -> str:
    """The sandbox refuses `source` at compile time or fails it at run time; return why."""
    message = check_source(source, kind)
    if message:
        return message
    run = env.evaluate if kind == "expression" else env.execute
    with pytest.raises(Exception) as exc:  # noqa: PT011 - any refusal will do, as long as nothing runs
        run(source, dict(context or {}))
    return f"{type(exc.value).__name__}: {exc.value}"


# --- escapes --------------------------------------------------------------------------------------------------

COMPILE_TIME = [
    "__import__('os').system('id')",
    "().__class__.__base__.__subclasses__()",
    "(x for x in ()).gi_frame",
    "[g.gi_frame.f_back.f_globals for g in [(x for x in ())]]",
    "(lambda: 1).__globals__",
    "x.__dict__",
]


@pytest.mark.parametrize("source", COMPILE_TIME)
def test_escapes_refused_at_compile_time(source):
    message = check_source(source)
    assert message and message.startswith("expression refused by the sandbox")


@pytest.mark.parametrize("source", [
    "getattr(1, 'real')", "open('/etc/passwd').read()", "eval('1')", "exec('x = 1')", "compile('1', 'f', 'eval')",
    "globals()", "vars()", "type(1)", "__builtins__", "format(1, '')", "breakpoint()", "input()",
])
def test_dangerous_builtins_absent(env, source):
    assert refused(env, source)


@pytest.mark.parametrize("source", [
    "'{0.__class__}'.format(1)",
    "'{0.__class__.__base__}'.format(x)",
    "'{x.__class__}'.format_map({'x': 1})",
    "str.format('{0.__class__}', 1)",
])
def test_format_string_attribute_tricks_refused(env, source):
    message = refused(env, source, context={"x": 1})
    assert "<class" not in message and "not safe" in message


def test_format_trick_in_script_refused(env):
    assert "format" in refused(env, "leak = '{0.__class__}'.format(data)", "script", {"data": 1})


def test_generator_frame_trick_in_script_refused():
    source = "def gen():\n    yield g.gi_frame.f_back\ng = gen()\nfor frame in g:\n    pass\n"
    assert "restricted name" in check_source(source, "script")


@pytest.mark.parametrize("source", ["import os", "from os import system", "import os as o\no.system('id')"])
def test_imports_refused_at_compile_time(source):
    assert "import statements are not allowed" in check_source(source, "script")


def test_task_data_cannot_replace_guards(env):
    """Submitted data with guard names is ignored in favour of the real guards."""
    assert env.evaluate("x + 1", {"x": 1, "_getattr_": getattr, "__builtins__": __builtins__}) == 2
    assert refused(env, "open('/etc/passwd')", context={"__builtins__": __builtins__})


# --- legitimate expressions and scripts -----------------------------------------------------------------------


@pytest.mark.parametrize("source, expected", [
    ("amount * 2 + 1", 2001),
    ("amount >= 1000 and amount < 5000", True),
    ("'tax' in depts", True),
    ("applicant['name']", "示例"),
    ("depts[0]", "market"),
    ("[d.upper() for d in depts if d != 'tax']", ["MARKET"]),
    ("{d: len(d) for d in depts}", {"market": 6, "tax": 3}),
    ("len(depts) + sum([1, 2, 3])", 8),
    ("results.get('review', {}).get('decision') == 'approve'", True),
    ("max(amount, 10) // 10", 100),
    ("sorted(depts, reverse=True)", ["tax", "market"]),
])
def test_legitimate_expressions(env, source, expected):
    ctx = {"amount": 1000, "depts": ["market", "tax"], "applicant": {"name": "示例"},
           "results": {"review": {"decision": "approve"}}}
    assert env.evaluate(source, ctx) == expected


def test_datetime_works(env):
    assert env.evaluate("date(2024, 1, 2) + timedelta(days=1)", {}) == dt.date(2024, 1, 3)
    assert env.evaluate("datetime.strptime('2024-01-02', '%Y-%m-%d').strftime('%d/%m')", {}) == "02/01"
    assert env.evaluate("datetime.now().year", {}) >= 2024


def test_mapping_script(env):
    ctx = {"items": [{"amount": 3}, {"amount": 9}]}
    env.execute("total = sum(i['amount'] for i in items)\nlabel = 'big' if total > 10 else 'small'\ntotal += 1", ctx)
    assert (ctx["total"], ctx["label"]) == (13, "big")
    assert not any(k.startswith("_") for k in ctx)


# --- end to end: check time and run time ----------------------------------------------------------------------

EVIL = "__import__('os').system('touch {marker}')"


def test_malicious_condition_refused_at_check_time(tmp_path):
    path = tmp_path / "evil.bpmn"
    path.write_text(gateway(EVIL.format(marker=tmp_path / "marker")))
    problems = [str(p) for p in check([str(path)]).problems]
    line = line_of(path.read_text(), "f_cond")
    assert len(problems) == 1 and problems[0].startswith(f"{path}:{line}: f_cond: Python expression: refused by the sandbox")


def _run(text: str, process_id: str, engine, data: dict | None = None):
    """Start a workflow built straight from the file (no check), put `data` in, step it to the end."""
    wf = build_specs({"x.bpmn": text.encode()}, process_id).new_workflow(engine)
    start = wf.get_tasks(state=TaskState.READY)[0]
    start.data.update(data or {})
    wf.do_engine_steps()
    return wf


def test_control_default_engine_would_run_the_payload(tmp_path):
    """Proves the payload and the marker work: SpiffWorkflow's own environment runs it."""
    marker = tmp_path / "marker"
    _run(gateway(EVIL.format(marker=marker)), "p", PythonScriptEngine())
    assert marker.exists()


def test_malicious_condition_fails_at_run_time_without_running(tmp_path):
    marker = tmp_path / "marker"
    with pytest.raises(Exception) as exc:  # noqa: PT011 - the library wraps our ExpressionRefused
        _run(gateway(EVIL.format(marker=marker)), "p", make_script_engine())
    assert "refused by the sandbox" in str(exc.value)
    assert not marker.exists()


@pytest.mark.parametrize("condition", ["().__class__.__base__.__subclasses__()", "'{0.__class__}'.format(1)"])
def test_other_escapes_fail_at_run_time(condition):
    with pytest.raises(Exception) as exc:  # noqa: PT011
        _run(gateway(condition), "p", make_script_engine())
    assert "refused by the sandbox" in str(exc.value) or "format*() methods of `str` is not safe" in str(exc.value)


def test_good_condition_runs(tmp_path):
    wf = _run(gateway("amount &gt; 1000"), "p", make_script_engine(), {"amount": 5000})
    assert wf.is_completed()
    assert "end_a" in {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)}


def test_script_task_maps_data():
    wf = _run(script_task("total = sum(i['amount'] for i in items)\nlabel = 'big' if total &gt; 10 else 'small'"),
              "p", make_script_engine(), {"items": [{"amount": 4}, {"amount": 8}]})
    assert wf.is_completed()
    assert (wf.data["total"], wf.data["label"]) == (12, "big")


def test_script_task_escape_refused(tmp_path):
    marker = tmp_path / "marker"
    script = f"leak = '{{0.__class__}}'.format(1)\nopen('{marker}', 'w')"
    with pytest.raises(Exception) as exc:  # noqa: PT011
        _run(script_task(script), "p", make_script_engine())
    assert "not safe" in str(exc.value)
    assert not marker.exists()
    script = f"import os\nos.system('touch {marker}')"
    with pytest.raises(Exception) as exc:  # noqa: PT011
        _run(script_task(script), "p", make_script_engine())
    assert "import statements are not allowed" in str(exc.value)
    assert not marker.exists()


def test_expression_refused_is_the_platform_error():
    env = SandboxEnvironment()
    with pytest.raises(ExpressionRefused):
        env.evaluate("__import__('os')", {})


# ---------------------------------------------------------------- limits on what sandboxed code may cost
@pytest.mark.parametrize("source, kind", [
    ("x = 'a' * (2 * 10**9)", "script"), ("x = [0] * 10**8", "script"), ("x = 10 ** 10**7", "script"),
    ("x = 1 << 10**9", "script"), ("x = 'ab'\nx *= 10**8", "script"), ("'a' * 10**9 == 'a'", "expression"),
])
def test_huge_values_stop_at_a_limit(source, kind):
    import time

    from engine.model.limits import LimitExceeded
    from engine.model.sandbox import SandboxEnvironment

    env, t0 = SandboxEnvironment(), time.monotonic()
    with pytest.raises(LimitExceeded):
        (env.execute if kind == "script" else env.evaluate)(source, {})
    assert time.monotonic() - t0 < 1.0  # refused before it is built


def test_code_that_never_ends_is_stopped(monkeypatch):
    from engine.model import limits
    from engine.model.sandbox import SandboxEnvironment

    monkeypatch.setattr(limits, "MAX_SECONDS", 0.3)
    monkeypatch.setattr(limits.deadline, "__defaults__", (0.3,))
    with pytest.raises(limits.LimitExceeded, match="longer than"):
        SandboxEnvironment().execute("n = 0\nwhile True:\n    n += 1", {})
    env = SandboxEnvironment()
    ctx = {}
    env.execute("y = 'ab' * 1000\nz = 2 ** 100", ctx)  # ordinary sizes still work
    assert len(ctx["y"]) == 2000 and ctx["z"] == 2 ** 100


def test_a_step_past_a_limit_fails_as_a_workflow_error_and_saves_nothing(services, tmp_path):
    from engine.errors import WorkflowFailed
    from tests.conftest import APPLICANT
    from tests.helpers import deploy_files
    from tools.bpmngen import Process

    p = Process("greedy", "贪婪脚本")
    p.start("start")
    p.user("intake", "受理", group="front_desk")
    p.script("boom", "生成", "x = 'a' * (2 * 10**9)")
    p.end("end")
    p.chain("start", "intake", "boom", "end")
    p.write(str(tmp_path / "greedy.bpmn"))
    deploy_files(services, tmp_path)
    front = services.actor("front")
    case = services.start_case(front, "greedy", APPLICANT, {})
    before = services.events(case["id"])
    with pytest.raises(WorkflowFailed, match="limit"):
        services.complete(front, case["tasks"][0]["id"], {})
    assert services.events(case["id"]) == before and services.get_case(case["id"])["tasks"] == case["tasks"]
