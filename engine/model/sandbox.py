"""Sandboxed evaluation of every expression and script a BPMN file carries.

SpiffWorkflow evaluates conditions, timer expressions, multi-instance settings, correlations and
scripts with plain `eval`/`exec`. A process file is designer input, so we replace the script
environment itself with one that compiles through RestrictedPython: names and attributes starting
with an underscore, imports and `exec`-like builtins are refused at compile time, and attribute
access at run time goes through `safer_getattr`. Script tasks run in the same sandbox.

JUEL and FEEL expressions reach the environment tagged with their language (see
`engine.model.expressions`); they are translated to Python that calls only the languages' runtime
functions, and that Python is compiled and run here like any other expression.
"""
from __future__ import annotations

import datetime as _dt
from functools import lru_cache

from RestrictedPython import (RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec,
                              limited_builtins, safe_builtins)
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence, safer_getattr
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from ..errors import ExpressionRefused
from . import limits
from . import expressions
from .expressions.runtime import ExpressionFailed

_EXTRA_BUILTINS = {
    name: obj
    for name, obj in {
        "all": all, "any": any, "dict": dict, "enumerate": enumerate, "filter": filter, "list": list,
        "map": map, "max": max, "min": min, "reversed": reversed, "sorted": sorted, "sum": sum,
        "set": set, "frozenset": frozenset, "len": len, "zip": zip, "abs": abs, "round": round,
    }.items()
}


def _inplace(op: str, left, right):
    """Support `x += 1` in scripts without exposing operator internals (repetition bounded like `*`)."""
    ops = {"+=": lambda a, b: a + b, "-=": lambda a, b: a - b, "*=": limits.mul,
           "/=": lambda a, b: a / b, "//=": lambda a, b: a // b, "%=": lambda a, b: a % b}
    if op not in ops:
        raise ExpressionRefused(f"operator {op} is not allowed")
    return ops[op](left, right)


# Modules the C code of allowed objects imports on its own (datetime.strftime imports `time`,
# datetime.strptime imports `_strptime`). Sandboxed source cannot import: see _NoImports.
_IMPLICIT_IMPORTS = frozenset({"time", "_strptime"})


def _implicit_import(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002
    """`__import__` for the library's implicit imports only; anything else is refused."""
    if level == 0 and name in _IMPLICIT_IMPORTS:
        return __import__(name, globals, locals, fromlist, level)
    raise ExpressionRefused(f"import of {name!r} is not allowed in the sandbox")


class _NoImports(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus: no import statements at all (refused at compile time), and the operators
    that could build a huge value (`*`, `**`, `<<`) go through size-checking functions (engine.model.limits)."""

    def visit_Import(self, node):
        self.error(node, "import statements are not allowed")
        return node

    visit_ImportFrom = visit_Import

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        return limits.guard_binop(node)


def _globals() -> dict:
    builtins = dict(safe_builtins)
    builtins.update(limited_builtins)
    builtins.update(_EXTRA_BUILTINS)
    builtins["__import__"] = _implicit_import
    return {
        "__builtins__": builtins,
        "_getattr_": safer_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplace,
        **limits.FUNCTIONS,
        "datetime": _dt.datetime,
        "date": _dt.date,
        "timedelta": _dt.timedelta,
    }


_BASE_GLOBALS = _globals()
_GUARD_NAMES = set(_BASE_GLOBALS)
# Re-applied after task data is merged in, so data keys can never replace a guard or the builtins.
_GUARDS = {k: v for k, v in _BASE_GLOBALS.items() if k.startswith("_")}


@lru_cache(maxsize=4096)
def compile_expression(source: str):
    """Compile an expression in the sandbox, or raise ExpressionRefused saying why."""
    result = compile_restricted_eval(source.strip(), "<expression>", policy=_NoImports)
    if result.errors or result.code is None:
        raise ExpressionRefused(f"expression refused by the sandbox: {'; '.join(result.errors)}")
    return result.code


@lru_cache(maxsize=1024)
def compile_script(source: str):
    """Compile a script in the sandbox, or raise ExpressionRefused saying why."""
    result = compile_restricted_exec(source, "<script>", policy=_NoImports)
    if result.errors or result.code is None:
        raise ExpressionRefused(f"script refused by the sandbox: {'; '.join(result.errors)}")
    return result.code


def describe(expression: str) -> str:
    """An expression as the designer wrote it, with its language when it is not Python."""
    tagged = expressions.untag(expression)
    if tagged is None:
        return f"'{expression}'"
    language, text = tagged
    return f"{expressions.label(language)} '{text}'"


def evaluate_tagged(language: str, text: str, context: dict, external_context: dict | None = None):
    """Run a JUEL or FEEL expression: translated to Python, compiled and run in this sandbox."""
    try:
        python = expressions.translate(language, text)
    except expressions.ExpressionSyntaxError as exc:
        raise ExpressionRefused(f"{expressions.label(language)} expression refused: {exc}") from None
    code = compile_expression(python)
    scope = dict(_BASE_GLOBALS)
    scope.update(expressions.scope(context, external_context))
    scope.update(_GUARDS)
    return eval(code, scope)  # noqa: S307 - code object produced by RestrictedPython


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """A script environment whose evaluate/execute never reach plain eval/exec."""

    def __init__(self, functions: dict | None = None):
        super().__init__(functions or {})

    def evaluate(self, expression, context, external_context=None):
        tagged = expressions.untag(expression)
        if tagged is not None:
            return evaluate_tagged(*tagged, context, external_context)
        code = compile_expression(expression)
        scope = dict(_BASE_GLOBALS)
        scope.update(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        scope.update(_GUARDS)
        with limits.deadline():
            return eval(code, scope)  # noqa: S307 - code object produced by RestrictedPython

    def execute(self, script, context, external_context=None):
        tagged = expressions.untag(script)
        if tagged is not None:  # a script the parser marked as written in another language
            raise ExpressionRefused(f"{expressions.label(tagged[0])} scripts are not supported; scripts are Python")
        code = compile_script(script)
        scope = dict(_BASE_GLOBALS)
        scope.update(self.globals)
        scope.update(external_context or {})
        injected = set(scope)
        scope.update(context)
        scope.update(_GUARDS)
        with limits.deadline():
            exec(code, scope)  # noqa: S102 - code object produced by RestrictedPython
        # Only plain data goes back into task data: no guards, helpers or functions.
        for key in list(context):
            if key not in scope:
                del context[key]
        for key, value in scope.items():
            if key in context or (key not in injected and not callable(value) and not key.startswith("_")):
                if key not in _GUARD_NAMES:
                    context[key] = value
        return True

    def call_service(self, context, **kwargs):
        raise ExpressionRefused("service tasks are not supported")


class SandboxScriptEngine(PythonScriptEngine):
    """PythonScriptEngine whose expression errors say why (the library's message keeps only the expression)."""

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as exc:
            exc.add_note(f"Error evaluating expression {describe(expression)}")
            raise
        except Exception as exc:  # noqa: BLE001 - re-raised with its reason in the message
            name = "" if isinstance(exc, ExpressionFailed) else f"{type(exc).__name__}: "
            raise WorkflowTaskException(f"Error evaluating expression {describe(expression)}: {name}{exc}",
                                        task=task, exception=exc) from exc


def make_script_engine(functions: dict | None = None) -> PythonScriptEngine:
    """The script engine every workflow of ours runs with."""
    return SandboxScriptEngine(environment=SandboxEnvironment(functions))


def check_source(source: str, kind: str = "expression") -> str | None:
    """Return the sandbox's refusal message for a piece of source, or None when it compiles."""
    try:
        (compile_script if kind == "script" else compile_expression)(source)
    except ExpressionRefused as exc:
        return exc.message
    return None
