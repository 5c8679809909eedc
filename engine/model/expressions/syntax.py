"""What the JUEL and FEEL translators share: the located error, limits on source, and Lark error wording."""
from __future__ import annotations

import re
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

MAX_SOURCE = 10_000  # characters of one expression
MAX_DEPTH = 64       # nesting of one expression


class ExpressionSyntaxError(ValueError):
    """An expression outside its language's supported subset, located in the expression's own text."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column

    def where(self) -> str:
        return f"at column {self.column}" if self.line == 1 else f"at line {self.line}, column {self.column}"

    def __str__(self) -> str:
        return f"{self.message} {self.where()}"


def load_grammar(name: str, start) -> Lark:
    text = (Path(__file__).with_name(name)).read_text(encoding="utf-8")
    return Lark(text, parser="lalr", start=start, propagate_positions=True, maybe_placeholders=True)


def located(node, message: str) -> ExpressionSyntaxError:
    meta = getattr(node, "meta", None)
    if isinstance(node, Token):
        return ExpressionSyntaxError(message, node.line or 1, node.column or 1)
    if meta is not None and not meta.empty:
        return ExpressionSyntaxError(message, meta.line, meta.column)
    return ExpressionSyntaxError(message)


_READABLE = {"NAME": "a name", "IDENT": "a name", "NUMBER": "a number", "INT": "a number", "FLOAT": "a number",
             "STRING": "a string", "$END": "the end"}


def _expected(parser: Lark, names) -> str:
    shown = []
    for name in sorted(names):
        if name in _READABLE:
            label = _READABLE[name]
        else:
            try:
                pattern = parser.get_terminal(name).pattern
            except KeyError:
                continue
            label = f"'{pattern.value}'" if pattern.type == "str" else name.lower().replace("_", " ")
        if label not in shown:
            shown.append(label)
    return ", ".join(shown[:8]) + (", ..." if len(shown) > 8 else "")


def parse_error(parser: Lark, exc: UnexpectedInput, text: str, hints) -> ExpressionSyntaxError:
    """Lark's exception as one line a designer can act on: what was found, where, what would fit."""
    line, column = exc.line if exc.line > 0 else 1, exc.column if exc.column > 0 else 1
    if isinstance(exc, UnexpectedCharacters):
        found = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        message = f"unexpected character {found!r}"
        expected = getattr(exc, "allowed", None)
    elif isinstance(exc, (UnexpectedToken, UnexpectedEOF)):
        token = getattr(exc, "token", None)
        if token is None or token.type == "$END":
            message = "unexpected end of expression"
            line, column = _end(text)
        else:
            message = f"unexpected {str(token)!r}"
        expected = getattr(exc, "expected", None)
    else:
        message, expected = "cannot parse", None
    hint = hints(text, exc) if hints else None
    if hint:
        message = f"{message} ({hint})"
    elif expected:
        message = f"{message}; expected {_expected(parser, expected)}"
    return ExpressionSyntaxError(message, line, column)


def _end(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def check_size(text: str) -> None:
    if len(text) > MAX_SOURCE:
        raise ExpressionSyntaxError(f"expression longer than {MAX_SOURCE} characters")


def children(tree: Tree) -> list:
    """A node's children without the placeholders of absent optional parts."""
    return [c for c in tree.children if c is not None]


def decode_string(token: Token, quotes: str = '"') -> str:
    """A string literal's value: the quotes removed, backslash escapes applied."""
    body, out, i = str(token)[1:-1], [], 0
    simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            n = body[i + 1]
            if n in simple:
                out.append(simple[n])
                i += 2
                continue
            if n == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2:i + 6]):
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
                continue
            raise ExpressionSyntaxError(f"unknown escape \\{n} in a string", token.line,
                                        (token.column or 1) + 1 + i)
        out.append(c)
        i += 1
    return "".join(out)
