"""JUEL (the Unified Expression Language of Camunda 7, Flowable and Activiti) translated to Python.

A JUEL text is literal text with `${...}` (or `#{...}`) parts; a condition is one `${...}`. Each part is
parsed with a Lark grammar (juel.lark) and becomes calls of runtime functions that follow EL's coercion
rules (`${amount > 1000 && type == 'A'}` becomes `(jbool(jgt(J('amount'), 1000)) and jbool(jeq(J('type'),
'A')))`). Method calls are limited to a fixed list of String, List and Map methods; `execution.getVariable(
'x')` reads a variable. Anything else is refused here, with its column, when the file is checked.
"""
from __future__ import annotations

from functools import lru_cache

from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from .runtime import JARITH, JCOMPARE, JMETHODS
from .syntax import MAX_DEPTH, ExpressionSyntaxError, check_size, children, decode_string, load_grammar, located, \
    parse_error

_PARSER = load_grammar("juel.lark", "expression")
FUNCTIONS = {"now": 0}  # Camunda 7's built-in now()


def _hints(text: str, exc: UnexpectedInput) -> str | None:
    token = getattr(exc, "token", None)
    pos = token.start_pos if token is not None and token.start_pos is not None else getattr(exc, "pos_in_stream", 0)
    rest = text[pos:] if pos is not None else ""
    if rest.startswith(":") and pos and text[:pos].rstrip()[-1:].isalnum():
        return "EL functions with a prefix (fn:...) are not supported"
    if rest.startswith("=") and not rest.startswith("=="):
        return "JUEL compares with '==' (or eq), not '='"
    return None


def split(text: str) -> list[tuple[str, int]]:
    """Literal text and `${...}` bodies, in order: [(kind, text, offset)] with kind 'text' or 'eval'."""
    parts, i, n = [], 0, len(text)
    literal_start = 0
    while i < n:
        if text[i] in "$#" and text[i + 1:i + 2] == "{" and not (i and text[i - 1] == "\\"):
            if i > literal_start:
                parts.append(("text", text[literal_start:i], literal_start))
            j, quote, depth = i + 2, None, 0
            while j < n:
                c = text[j]
                if quote:
                    if c == "\\":
                        j += 1
                    elif c == quote:
                        quote = None
                elif c in "'\"":
                    quote = c
                elif c == "{":
                    depth += 1
                elif c == "}":
                    if depth == 0:
                        break
                    depth -= 1
                j += 1
            if j >= n:
                raise ExpressionSyntaxError(f"'{text[i]}{{' is never closed with '}}'", *_position(text, i))
            parts.append(("eval", text[i + 2:j], i + 2))
            i = literal_start = j + 1
            continue
        i += 1
    if literal_start < n:
        parts.append(("text", text[literal_start:], literal_start))
    return parts


def _position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def is_juel(text: str) -> bool:
    """True when the text carries a JUEL `${...}` / `#{...}` part (the Camunda 7 marker)."""
    return ("${" in text or "#{" in text) and any(kind == "eval" for kind, *_ in _safe_split(text))


def _safe_split(text: str):
    try:
        return split(text)
    except ExpressionSyntaxError:
        return [("eval", text, 0)]


@lru_cache(maxsize=4096)
def translate(text: str) -> str:
    """Python source for a JUEL text: one `${...}` gives its value, a composite gives a string."""
    check_size(text)
    parts = split(text.strip())
    if not any(kind == "eval" for kind, *_ in parts):
        raise ExpressionSyntaxError("no ${...} in a JUEL expression")
    out = []
    stripped = text.strip()
    for kind, body, offset in parts:
        if kind == "text":
            out.append(repr(body))
            continue
        if not body.strip():
            raise ExpressionSyntaxError("empty ${}", *_position(stripped, offset))
        try:
            tree = _PARSER.parse(body)
            out.append(_Translator().expr(tree))
        except UnexpectedInput as exc:
            raise _shift(parse_error(_PARSER, exc, body, _hints), stripped, offset) from None
        except ExpressionSyntaxError as exc:
            raise _shift(exc, stripped, offset) from None
    return out[0] if len(out) == 1 and parts[0][0] == "eval" else f"template({', '.join(out)})"


def _shift(exc: ExpressionSyntaxError, text: str, offset: int) -> ExpressionSyntaxError:
    line, column = _position(text, offset)
    if exc.line == 1:
        exc.column += column - 1
    exc.line += line - 1
    return exc


class _Translator:
    def __init__(self):
        self.depth = 0

    def expr(self, node) -> str:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise located(node, f"expression nested more than {MAX_DEPTH} levels deep")
        try:
            if isinstance(node, Token):
                raise located(node, f"unexpected {str(node)!r}")
            return getattr(self, f"n_{node.data}")(node)
        finally:
            self.depth -= 1

    def n_integer(self, node) -> str:
        return str(int(node.children[0]))

    def n_floating(self, node) -> str:
        return repr(float(node.children[0]))

    def n_string(self, node) -> str:
        return repr(decode_string(node.children[0]))

    def n_true(self, node) -> str:
        return "True"

    def n_false(self, node) -> str:
        return "False"

    def n_null(self, node) -> str:
        return "None"

    def n_variable(self, node) -> str:
        return f"J({str(node.children[0])!r})"

    def n_ternary(self, node) -> str:
        cond, a, b = node.children
        return f"({self.expr(a)} if jbool({self.expr(cond)}) else {self.expr(b)})"

    def n_or_(self, node) -> str:
        a, _, b = node.children
        return f"(jbool({self.expr(a)}) or jbool({self.expr(b)}))"

    def n_and_(self, node) -> str:
        a, _, b = node.children
        return f"(jbool({self.expr(a)}) and jbool({self.expr(b)}))"

    def n_compare(self, node) -> str:
        a, op, b = node.children
        return f"{JCOMPARE[str(op)]}({self.expr(a)}, {self.expr(b)})"

    def n_arith(self, node) -> str:
        a, op, b = node.children
        return f"{JARITH[str(op)]}({self.expr(a)}, {self.expr(b)})"

    def n_neg(self, node) -> str:
        return f"jneg({self.expr(node.children[0])})"

    def n_not_(self, node) -> str:
        return f"(not jbool({self.expr(node.children[1])}))"

    def n_empty(self, node) -> str:
        return f"jempty({self.expr(node.children[1])})"

    def n_property(self, node) -> str:
        value, name = node.children
        return f"jprop({self.expr(value)}, {str(name)!r})"

    def n_index(self, node) -> str:
        value, key = node.children
        return f"jindex({self.expr(value)}, {self.expr(key)})"

    def n_method(self, node) -> str:
        value, name, args = node.children
        name = str(name)
        args = children(args) if args is not None else []
        if isinstance(value, Tree) and value.data == "variable" and str(value.children[0]) == "execution":
            if name == "getVariable" and len(args) == 1:
                return f"J(jstr({self.expr(args[0])}))"
            raise located(node.children[1], f"execution.{name}() is not supported (only execution.getVariable('x'))")
        if name not in JMETHODS:
            known = ", ".join(sorted(JMETHODS))
            raise located(node.children[1], f"method {name}() is not supported (supported: {known})")
        return f"jmethod({', '.join([self.expr(value), repr(name)] + [self.expr(a) for a in args])})"

    def n_function(self, node) -> str:
        name, args = node.children
        args = children(args) if args is not None else []
        if str(name) not in FUNCTIONS:
            raise located(name, f"unknown function '{name}'")
        if len(args) != FUNCTIONS[str(name)]:
            raise located(node, f"{name}() takes {FUNCTIONS[str(name)]} argument(s), not {len(args)}")
        return "now()"
