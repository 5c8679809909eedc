"""FEEL (DMN's Friendly Enough Expression Language) translated to Python for the sandbox.

Parsed with a Lark grammar (feel.lark), then each node becomes a call of a runtime function
(runtime.py, functions.py), so the sandbox compiles code that names no case data and no attribute:
`amount > 1000 and type = "A"` becomes `and_(gt(V('amount'), 1000), eq(V('type'), 'A'))`. Anything
outside the subset (an unknown function, `?` outside a decision cell, named arguments) is refused
here, with its column, when the file is checked.
"""
from __future__ import annotations

from functools import lru_cache

from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from .functions import FUNCTIONS, LITERAL_PARSERS, parse_temporal
from .runtime import ARITH, COMPARE
from .syntax import MAX_DEPTH, ExpressionSyntaxError, check_size, children, decode_string, load_grammar, located, \
    parse_error

_PARSER = load_grammar("feel.lark", ["expression", "unary_tests"])


def _hints(text: str, exc: UnexpectedInput) -> str | None:
    """Say what a designer coming from JUEL or Python most likely meant."""
    pos = getattr(exc, "pos_in_stream", None)
    token = getattr(exc, "token", None)
    if token is not None and token.start_pos is not None:
        pos = token.start_pos
    rest = text[pos:] if pos is not None else ""
    for written, meant in (("==", "FEEL compares with '=', not '=='"), ("&&", "FEEL writes 'and', not '&&'"),
                           ("||", "FEEL writes 'or', not '||'"), ("!=", None),
                           ("!", "FEEL writes not(x), not '!x'"), ("'", "FEEL strings use double quotes"),
                           ("${", "this is JUEL, not FEEL")):
        if rest.startswith(written):
            return meant
    if pos is not None and text[max(pos - 1, 0):pos + 1] == "==":
        return "FEEL compares with '=', not '=='"
    return None


def _strip_marker(text: str) -> tuple[str, int]:
    """Camunda 8 writes an expression as `=...`; the `=` is not part of the FEEL."""
    stripped = text.lstrip()
    if stripped.startswith("="):
        body = stripped[1:]
        return body, len(text) - len(body)
    return text, 0


@lru_cache(maxsize=4096)
def translate(text: str, unary_tests: bool = False) -> str:
    """Python source for a FEEL expression (or, with `unary_tests`, a decision table input entry)."""
    check_size(text)
    body, offset = (text, 0) if unary_tests else _strip_marker(text)
    if not body.strip():
        raise ExpressionSyntaxError("empty expression", 1, offset + 1)
    try:
        tree = _PARSER.parse(body, start="unary_tests" if unary_tests else "expression")
    except UnexpectedInput as exc:
        raise _shift(parse_error(_PARSER, exc, body, _hints), body, offset) from None
    except ExpressionSyntaxError as exc:
        raise _shift(exc, body, offset) from None
    try:
        return _Translator(unary_tests).top(tree)
    except ExpressionSyntaxError as exc:
        raise _shift(exc, body, offset) from None


def _shift(exc: ExpressionSyntaxError, body: str, offset: int) -> ExpressionSyntaxError:
    if offset and exc.line == 1:
        exc.column += offset
    return exc


def parses(text: str) -> bool:
    try:
        translate(text)
    except ExpressionSyntaxError:
        return False
    return True


class _Translator:
    def __init__(self, unary_tests: bool):
        self.unary_tests = unary_tests
        self.scopes: list[tuple] = []   # ("bound", feel name, python name) or ("item", python name)
        self.fresh = 0
        self.depth = 0

    def top(self, tree) -> str:
        if not self.unary_tests:
            return self.expr(tree)
        tests = children(tree)
        if len(tests) == 1 and self._is_call_of(tests[0], "not"):
            args = self._args(tests[0])
            return f"not_(tests(V('?'), {', '.join(self.test(a) for a in args)}))"
        return f"tests(V('?'), {', '.join(self.test(t) for t in tests)})"

    # --- helpers -------------------------------------------------------------------------------------------

    def _name(self) -> str:
        self.fresh += 1
        return f"v{self.fresh}"

    @staticmethod
    def _is_call_of(node, fn: str) -> bool:
        return (isinstance(node, Tree) and node.data == "call" and isinstance(node.children[0], Tree)
                and node.children[0].data == "variable" and _name_of(node.children[0].children[0]) == fn)

    def _args(self, call) -> list:
        args = call.children[1]
        if args is None:
            return []
        out = []
        for a in children(args):
            if isinstance(a, Tree) and a.data == "named_argument":
                raise located(a, "named arguments are not supported; pass the arguments in order")
            out.append(a)
        return out

    def _uses_input(self, node) -> bool:
        if isinstance(node, Tree):
            return node.data == "input_value" or any(self._uses_input(c) for c in node.children)
        return False

    def test(self, node) -> str:
        """One positive unary test: `< 5`, an interval, a value to equal, or an expression using `?`."""
        if isinstance(node, Tree) and node.data == "op_test":
            op, value = node.children
            return f"op_test({str(op)!r}, {self.expr(value)})"
        if self._uses_input(node):
            return f"result_test({self.expr(node)})"
        return self.expr(node)

    def lookup(self, name: str) -> str:
        def resolve(i: int) -> str:
            if i < 0:
                return f"V({name!r})"
            kind, *rest = self.scopes[i]
            if kind == "bound":
                return rest[1] if rest[0] == name else resolve(i - 1)
            return f"member({rest[0]}, {name!r}, {resolve(i - 1)})"
        return resolve(len(self.scopes) - 1)

    # --- nodes ---------------------------------------------------------------------------------------------

    def expr(self, node) -> str:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise located(node, f"expression nested more than {MAX_DEPTH} levels deep")
        try:
            if isinstance(node, Token):
                raise located(node, f"unexpected {str(node)!r}")
            method = getattr(self, f"n_{node.data}", None)
            if method is None:
                raise located(node, f"{node.data.replace('_', ' ')} is not supported")
            return method(node)
        finally:
            self.depth -= 1

    def n_number(self, node) -> str:
        text = str(node.children[0])
        return text if "." not in text else repr(float(text))

    def n_string(self, node) -> str:
        return repr(decode_string(node.children[0]))

    def n_temporal(self, node) -> str:
        value = decode_string(node.children[0])
        if parse_temporal(value) is None:
            raise located(node, f"@{str(node.children[0])} is not a date, time, date and time or duration")
        return f"temporal({value!r})"

    def n_true(self, node) -> str:
        return "True"

    def n_false(self, node) -> str:
        return "False"

    def n_null(self, node) -> str:
        return "None"

    def n_input_value(self, node) -> str:
        if not self.unary_tests:
            raise located(node, "'?' (the input value) is only allowed in a decision table input entry")
        return "V('?')"

    def n_variable(self, node) -> str:
        return self.lookup(_name_of(node.children[0]))

    def n_list(self, node) -> str:
        return f"list_({', '.join(self.expr(c) for c in children(node))})"

    def n_context(self, node) -> str:
        pairs = []
        for entry in children(node):
            key, value = entry.children
            key = decode_string(key) if isinstance(key, Token) else _name_of(key)
            pairs.append(f"({key!r}, {self.expr(value)})")
        return f"context({', '.join(pairs)})"

    def n_tuple(self, node) -> str:
        raise located(node, "a list of tests in parentheses is only allowed after 'in'; write a list as [a, b]")

    def n_op_test(self, node) -> str:
        raise located(node, f"a unary test such as '{node.children[0]} x' is only allowed after 'in' "
                            "or in a decision table input entry")

    def _interval(self, node, low_closed: bool) -> str:
        low, high, end = node.children
        high_closed = str(end.children[0]) == "]"
        return f"interval({self.expr(low)}, {self.expr(high)}, {low_closed}, {high_closed})"

    def n_closed_interval(self, node) -> str:
        return self._interval(node, True)

    def n_open_interval(self, node) -> str:
        return self._interval(node, False)

    def n_or_(self, node) -> str:
        a, _, b = node.children
        return f"or_({self.expr(a)}, {self.expr(b)})"

    def n_and_(self, node) -> str:
        a, _, b = node.children
        return f"and_({self.expr(a)}, {self.expr(b)})"

    def n_compare(self, node) -> str:
        a, op, b = node.children
        return f"{COMPARE[str(op)]}({self.expr(a)}, {self.expr(b)})"

    def n_between(self, node) -> str:
        x, _, low, _, high = node.children
        return f"between({self.expr(x)}, {self.expr(low)}, {self.expr(high)})"

    def n_in_(self, node) -> str:
        x, _, target = node.children
        items = children(target) if isinstance(target, Tree) and target.data == "tuple" else [target]
        return f"tests({self.expr(x)}, {', '.join(self.test(t) for t in items)})"

    def n_in_op_test(self, node) -> str:
        x, _, op, value = node.children
        return f"tests({self.expr(x)}, op_test({str(op)!r}, {self.expr(value)}))"

    def n_arith(self, node) -> str:
        a, op, b = node.children
        return f"{ARITH[str(op)]}({self.expr(a)}, {self.expr(b)})"

    def n_neg(self, node) -> str:
        return f"neg({self.expr(node.children[0])})"

    def n_path(self, node) -> str:
        value, name = node.children
        return f"path({self.expr(value)}, {_name_of(name)!r})"

    def n_filter(self, node) -> str:
        value, cond = node.children
        if isinstance(cond, Tree) and cond.data == "number":
            return f"index({self.expr(value)}, {self.expr(cond)})"
        if isinstance(cond, Tree) and cond.data == "neg" and cond.children[0].data == "number":
            return f"index({self.expr(value)}, -{self.expr(cond.children[0])})"
        base = self.expr(value)
        item = self._name()
        self.scopes.append(("item", item))
        try:
            body = self.expr(cond)
        finally:
            self.scopes.pop()
        return f"filter_({base}, lambda {item}: {body})"

    def n_call(self, node) -> str:
        callee = node.children[0]
        if not (isinstance(callee, Tree) and callee.data == "variable"):
            raise located(node, "only FEEL's built-in functions can be called")
        name = _name_of(callee.children[0])
        if name not in FUNCTIONS:
            raise located(callee, f"unknown function '{name}'")
        args = self._args(node)
        _, least, most = FUNCTIONS[name]
        if len(args) < least or (most is not None and len(args) > most):
            count = str(least) if least == most else f"{least} to {most}" if most is not None else f"{least} or more"
            raise located(node, f"{name}() takes {count} argument(s), not {len(args)}")
        if name in LITERAL_PARSERS and len(args) == 1 and isinstance(args[0], Tree) and args[0].data == "string":
            literal = decode_string(args[0].children[0])
            if LITERAL_PARSERS[name](literal) is None:
                raise located(args[0], f"{name}({str(args[0].children[0])}): not a valid {name}")
        if name == "not":
            return f"not_({self.expr(args[0])})"
        return f"call({', '.join([repr(name)] + [self.expr(a) for a in args])})"

    def n_if_expr(self, node) -> str:
        _, cond, _, then, _, other = node.children
        return f"({self.expr(then)} if truth({self.expr(cond)}) else {self.expr(other)})"

    def _source(self, iteration) -> tuple[str, str]:
        name, _, first, *rest = [c for c in iteration.children if c is not None]
        source = self.expr(first) if not rest else f"int_range({self.expr(first)}, {self.expr(rest[0])})"
        return _name_of(name), source

    def _nested(self, node, helper: str, splice: bool) -> str:
        parts = [c for c in node.children if isinstance(c, Tree) and c.data == "iteration"]
        body = node.children[-1]
        pushed = 0
        sources, names = [], []
        try:
            for it in parts:
                feel_name, source = self._source(it)
                py = self._name()
                sources.append(source)
                names.append(py)
                self.scopes.append(("bound", feel_name, py))
                pushed += 1
            inner = self.expr(body)
        finally:
            del self.scopes[len(self.scopes) - pushed:]
        for i in reversed(range(len(parts))):
            extra = ", True" if splice and i < len(parts) - 1 else ""
            inner = f"{helper}({sources[i]}, lambda {names[i]}: {inner}{extra})"
        return inner

    def n_for_expr(self, node) -> str:
        return self._nested(node, "for_", True)

    def n_quantified(self, node) -> str:
        return self._nested(node, "some" if str(node.children[0]) == "some" else "every", False)


def _name_of(node) -> str:
    token = node.children[0] if isinstance(node, Tree) else node
    return " ".join(str(token).split())
