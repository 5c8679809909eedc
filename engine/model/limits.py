"""Bounds on what one Python expression or script of a diagram may cost: the size of the values it builds and
the time it runs. Without them `x = 'a' * (2 * 10**9)` passes `onewindow check`, holds a worker for half a
minute and ends in a 500; with them the step fails at once with a clear workflow error and nothing is saved.

Sizes are checked BEFORE an operation that could build something huge (repetition of a text or list, powers,
shifts); time is checked by a trace function while sandboxed code runs (a loop that never ends is stopped).
"""
from __future__ import annotations

import ast
import sys
import time
from contextlib import contextmanager

MAX_ITEMS = 1_000_000      # characters of a text, items of a list or tuple built by repetition
MAX_BITS = 100_000         # bits of an integer built by ** or <<
MAX_SECONDS = 2.0          # wall time of one evaluation or script


class LimitExceeded(Exception):
    """Sandboxed code went past a limit; the message says which."""


def _size(value) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def mul(a, b):
    """`a * b` with repetition bounded."""
    for seq, n in ((a, b), (b, a)):
        size = _size(seq)
        if size is not None and isinstance(n, int) and size * max(n, 0) > MAX_ITEMS:
            raise LimitExceeded(f"a value of {size * n:,} items is larger than the limit of {MAX_ITEMS:,}")
    return a * b


def pow_(a, b):
    """`a ** b` with the result's size bounded."""
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1 and abs(a).bit_length() * b > MAX_BITS:
        raise LimitExceeded(f"{a} ** {b} would be larger than {MAX_BITS:,} bits")
    return a ** b


def lshift(a, b):
    if isinstance(a, int) and isinstance(b, int) and a and a.bit_length() + b > MAX_BITS:
        raise LimitExceeded(f"{a} << {b} would be larger than {MAX_BITS:,} bits")
    return a << b


GUARDED = {ast.Mult: "_ow_mul_", ast.Pow: "_ow_pow_", ast.LShift: "_ow_lshift_"}
FUNCTIONS = {"_ow_mul_": mul, "_ow_pow_": pow_, "_ow_lshift_": lshift}


def guard_binop(node: ast.BinOp) -> ast.AST:
    """Rewrite `a * b`, `a ** b`, `a << b` into calls of the guarded functions."""
    name = GUARDED.get(type(node.op))
    if name is None:
        return node
    call = ast.Call(func=ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node), args=[node.left, node.right],
                    keywords=[])
    return ast.fix_missing_locations(ast.copy_location(call, node))


@contextmanager
def deadline(seconds: float = MAX_SECONDS):
    """Stop sandboxed code that runs longer than `seconds` (checked on every line and call it executes)."""
    end = time.monotonic() + seconds
    previous = sys.gettrace()

    def trace(frame, event, arg):
        if time.monotonic() > end:
            raise LimitExceeded(f"the expression or script ran longer than {seconds:g} s")
        return trace

    sys.settrace(trace)
    try:
        yield
    finally:
        sys.settrace(previous)
