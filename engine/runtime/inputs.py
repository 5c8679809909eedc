"""What the service layer refuses at the door: values that could be stored but not loaded, replayed or shown.

JSON allows NaN and Infinity in Python's reading of it, arbitrarily deep nesting, NUL characters and lone
surrogates; each of them either breaks a later load (a case whose tasks can never be completed again), a
replay, or a page. So every value a user submits — applicant, application data, task data, corrections — is
checked here, before any work, and refused naming the field (422), with nothing committed.
"""
from __future__ import annotations

import math

from ..errors import Invalid

MAX_DEPTH = 16            # forms nest a few levels; nothing legitimate comes near this
MAX_STRING = 20_000       # characters in one string value
MAX_KEY = 200             # characters in one key
MAX_ITEMS = 2_000         # entries in one object or list
MAX_TOTAL = 200_000       # characters of all strings in one submission


def check_value(value, field: str, reserved: frozenset | set = frozenset()) -> None:
    """Raise Invalid naming the first field that cannot be stored faithfully; `reserved`: top-level keys the
    platform writes itself."""
    if isinstance(value, dict):
        for key in value:
            if key in reserved:
                raise Invalid(f"{field}.{key} is set by the platform, not by a request",
                              {f"{field}.{key}": "该字段由系统填写，不能提交 (reserved: set by the platform)"})
    total = 0
    stack = [(value, field, 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Invalid(f"{path} is nested too deeply", {path: f"嵌套层数超过 {MAX_DEPTH} (nested too deeply)"})
        if isinstance(node, dict):
            if len(node) > MAX_ITEMS:
                raise Invalid(f"{path} has too many entries", {path: f"条目超过 {MAX_ITEMS} (too many entries)"})
            for key, child in node.items():
                if not isinstance(key, str):
                    raise Invalid(f"{path} has a non-text key", {path: "键必须是文本 (keys must be text)"})
                _check_text(key, f"{path}.<key>", MAX_KEY)
                stack.append((child, f"{path}.{key}", depth + 1))
        elif isinstance(node, (list, tuple)):
            if len(node) > MAX_ITEMS:
                raise Invalid(f"{path} has too many items", {path: f"条目超过 {MAX_ITEMS} (too many items)"})
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(node))
        elif isinstance(node, str):
            _check_text(node, path, MAX_STRING)
            total += len(node)
            if total > MAX_TOTAL:
                raise Invalid(f"{field} is too large", {field: f"内容超过 {MAX_TOTAL} 字 (too large)"})
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise Invalid(f"{path} is not a finite number", {path: "必须是有限的数 (NaN and Infinity are not numbers)"})
        elif isinstance(node, int) and not isinstance(node, bool):
            if abs(node) > 2 ** 53:
                raise Invalid(f"{path} is too large", {path: "数值过大 (number too large)"})
        elif node is not None and not isinstance(node, bool):
            raise Invalid(f"{path} has an unsupported type", {path: "类型不支持 (unsupported value)"})


def _check_text(text: str, path: str, limit: int) -> None:
    if len(text) > limit:
        raise Invalid(f"{path} is too long", {path: f"超过 {limit} 字 (longer than {limit} characters)"})
    if "\x00" in text:
        raise Invalid(f"{path} contains a NUL character", {path: "含有空字符 (contains a NUL character)"})
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(f"{path} is not valid Unicode text", {path: "含有无效字符 (lone surrogate)"}) from None
