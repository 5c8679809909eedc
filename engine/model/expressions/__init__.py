"""Expressions in the language the designer wrote them in: Python, JUEL (`${...}`) or FEEL.

The parser reads each expression's language from the file (dialect.py) and hands SpiffWorkflow the
expression with a language tag (`@feel:amount > 1000`); the sandbox sees the tag, translates the
JUEL or FEEL to Python (juel.py, feel.py) and compiles that like any other expression. Python stays
untagged, so files without another language run exactly as before.
"""
from __future__ import annotations

from functools import partial

from . import feel, functions, juel, runtime
from .syntax import ExpressionSyntaxError

PYTHON, JUEL, FEEL = "python", "juel", "feel"
LABELS = {PYTHON: "Python", JUEL: "JUEL", FEEL: "FEEL"}
TESTS = "feel-tests"   # a FEEL decision table input entry (unary tests)
TIMER = "-timer"       # suffix: a timer expression, whose date or duration value becomes ISO 8601 text
_PREFIX = "@"


def label(language: str) -> str:
    language = FEEL if language == TESTS else language.removesuffix(TIMER)
    return LABELS.get(language, language)


def tag(language: str, text: str, tests: bool = False, timer: bool = False) -> str:
    """The string the parser stores for a non-Python expression."""
    return f"{_PREFIX}{TESTS if tests else language}{TIMER if timer else ''}:{text}"


def untag(expression) -> tuple[str, str] | None:
    """(language, text) of a tagged expression, or None for plain Python."""
    if not isinstance(expression, str) or not expression.startswith(_PREFIX):
        return None
    head, sep, text = expression[1:].partition(":")
    if not sep or not head or not all(c.isalnum() or c in "-_" for c in head):
        return None
    return head, text


def translate(language: str, text: str) -> str:
    """Python source for a tagged expression; ExpressionSyntaxError when it is outside the subset."""
    if language in (FEEL + TIMER, JUEL + TIMER):
        return f"iso({translate(language.removesuffix(TIMER), text)})"
    if language == FEEL:
        return feel.translate(text)
    if language == TESTS:
        return feel.translate(text, unary_tests=True)
    if language == JUEL:
        return juel.translate(text)
    raise ExpressionSyntaxError(f"{label(language)} expressions are not supported")


def check(language: str, text: str) -> ExpressionSyntaxError | None:
    """Why a JUEL/FEEL expression is refused (None when it is accepted)."""
    try:
        translate(language, text)
    except ExpressionSyntaxError as exc:
        return exc
    return None


_STATIC = {name: getattr(runtime, name) for name in (
    "eq", "ne", "lt", "le", "gt", "ge", "and_", "or_", "not_", "truth", "between", "add", "sub", "mul", "div",
    "pow_", "neg", "path", "index", "member", "int_range", "interval", "op_test", "result_test", "tests",
    "list_", "context", "jbool", "jstr", "jeq", "jne", "jlt", "jle", "jgt", "jge", "jadd", "jsub", "jmul", "jdiv",
    "jmod", "jneg", "jempty", "jprop", "jindex", "jmethod", "template")}
_STATIC.update(call=functions.call, temporal=functions.parse_temporal, now=functions.now, iso=functions.iso)


def scope(data: dict, extra: dict | None = None) -> dict:
    """The names translated code may call, bound to one evaluation's data and budget."""
    frame = runtime.Frame(data, extra)
    out = dict(_STATIC)
    out.update(V=frame.var, J=frame.jvar, filter_=partial(runtime.filter_, frame), some=partial(runtime.some, frame),
               every=partial(runtime.every, frame), for_=partial(runtime.for_, frame))
    return out


__all__ = ["PYTHON", "JUEL", "FEEL", "TESTS", "ExpressionSyntaxError", "label", "tag", "untag", "translate", "check",
           "scope"]
