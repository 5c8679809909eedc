"""What translated JUEL and FEEL code calls at run time: the languages' value rules, nothing else.

The translators turn every operator, path and call into a call of a function here, so the Python the
sandbox compiles never names case data or attributes itself: variables are read from the task data by
`Frame.var`, paths read mapping keys (and a fixed list of date and duration properties), methods are a
fixed list. Work is bounded per evaluation: iterations share a budget and a deadline, texts and lists
have a maximum size, exponents are capped.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import time
from dataclasses import dataclass

MAX_ITEMS = 100_000        # list items built or visited by one evaluation
MAX_SECONDS = 1.0          # wall time of one evaluation's iterations
MAX_TEXT = 1_000_000       # characters of a string result
MAX_EXPONENT = 1_000       # largest exponent of `**`


class ExpressionFailed(ValueError):
    """A JUEL or FEEL expression could not be evaluated on this data (a limit, an unknown JUEL variable)."""


class Frame:
    """One evaluation: the task data it reads, the input value of a decision cell, and its budget."""

    def __init__(self, data: dict, extra: dict | None = None):
        self.data, self.extra = data, extra or {}
        self.items, self.deadline = 0, time.monotonic() + MAX_SECONDS

    def var(self, name: str):
        """FEEL: a variable, null when the data has no such key."""
        if name in self.extra:
            return self.extra[name]
        return self.data.get(name)

    def jvar(self, name: str):
        """JUEL: a variable; an unknown identifier is an error, as in Camunda 7."""
        if name in self.extra:
            return self.extra[name]
        if name not in self.data:
            raise ExpressionFailed(f"cannot resolve identifier '{name}'")
        return self.data[name]

    def spend(self, n: int = 1) -> None:
        self.items += n
        if self.items > MAX_ITEMS:
            raise ExpressionFailed(f"expression visits more than {MAX_ITEMS} items")
        if time.monotonic() > self.deadline:
            raise ExpressionFailed(f"expression runs longer than {MAX_SECONDS} s")

    def each(self, values):
        """Iterate a list (or a range of integers) within the budget."""
        if isinstance(values, IntRange):
            values = values.values()
        elif not isinstance(values, (list, tuple)):
            values = [values]
        for v in values:
            self.spend()
            yield v


# ---------------------------------------------------------------------------------------------- values


@dataclass(frozen=True)
class YearsMonths:
    """FEEL's years and months duration (P1Y2M), which a timedelta cannot hold."""

    months: int

    def __str__(self) -> str:
        sign, m = ("-" if self.months < 0 else ""), abs(self.months)
        return f"{sign}P{m // 12}Y{m % 12}M" if m >= 12 else f"{sign}P{m}M"


@dataclass(frozen=True)
class Range:
    """A FEEL interval such as [1..10] or (date("2026-01-01")..date("2026-12-31")]."""

    low: object
    high: object
    low_closed: bool
    high_closed: bool

    def holds(self, x):
        lo = lt(self.low, x) if not self.low_closed else le(self.low, x)
        hi = lt(x, self.high) if not self.high_closed else le(x, self.high)
        return and_(lo, hi)


@dataclass(frozen=True)
class IntRange:
    """The integers of `for i in 1..n`, produced lazily within the budget."""

    first: int
    last: int

    def values(self):
        step = 1 if self.last >= self.first else -1
        return range(self.first, self.last + step, step)


class Test:
    """A unary test (`< 5`, `[1..3]`, `"a"`, `? > 3`) applied to a value."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)


def is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _kind(x):
    if is_number(x):
        return "number"
    for k, types in (("boolean", bool), ("string", str), ("date and time", dt.datetime), ("date", dt.date),
                     ("time", dt.time), ("duration", dt.timedelta), ("ym", YearsMonths), ("list", (list, tuple)),
                     ("context", dict)):
        if isinstance(x, types):
            return k
    return None


def _number(x):
    """An int where the value is whole, so decision outputs read 2, not 2.0."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 2 ** 53:
        return int(x)
    return x


def _text(s: str) -> str:
    if len(s) > MAX_TEXT:
        raise ExpressionFailed(f"a text longer than {MAX_TEXT} characters")
    return s


def _items(xs) -> list:
    if len(xs) > MAX_ITEMS:
        raise ExpressionFailed(f"a list longer than {MAX_ITEMS} items")
    return xs


# ---------------------------------------------------------------------------------------------- FEEL


def _comparable(a, b):
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        return None
    if ka == "date and time" and (a.tzinfo is None) != (b.tzinfo is None):
        return None
    return ka


def eq(a, b):
    """FEEL `=`: null equals only null; values of different types are not comparable (null)."""
    if a is None or b is None:
        return a is None and b is None
    kind = _comparable(a, b)
    if kind is None:
        return None
    if kind == "list":
        return len(a) == len(b) and all(eq(x, y) is True for x, y in zip(a, b))
    if kind == "context":
        return a.keys() == b.keys() and all(eq(a[k], b[k]) is True for k in a)
    return a == b


def ne(a, b):
    return not_(eq(a, b))


def _order(a, b):
    if a is None or b is None:
        return None
    kind = _comparable(a, b)
    return kind if kind in ("number", "string", "date", "date and time", "time", "duration", "ym") else None


def lt(a, b):
    return (a < b) if _order(a, b) else None


def le(a, b):
    return (a <= b) if _order(a, b) else None


def gt(a, b):
    return (a > b) if _order(a, b) else None


def ge(a, b):
    return (a >= b) if _order(a, b) else None


COMPARE = {"=": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


def and_(a, b):
    if a is False or b is False:
        return False
    return True if a is True and b is True else None


def or_(a, b):
    if a is True or b is True:
        return True
    return False if a is False and b is False else None


def not_(a):
    return (not a) if isinstance(a, bool) else None


def truth(a) -> bool:
    """`if c then ...`: only true takes the then-branch."""
    return a is True


def between(x, low, high):
    return and_(ge(x, low), le(x, high))


def _add_months(d, months: int):
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31,
            30, 31][month - 1]
    return d.replace(year=year, month=month, day=min(d.day, last))


def add(a, b):
    ka, kb = _kind(a), _kind(b)
    if ka == kb == "number":
        return a + b
    if ka == kb == "string":
        return _text(a + b)
    if ka == kb == "duration":
        return a + b
    if ka == kb == "ym":
        return YearsMonths(a.months + b.months)
    if ka in ("date", "date and time") and kb == "duration":
        return a + b
    if kb in ("date", "date and time") and ka == "duration":
        return b + a
    if ka in ("date", "date and time") and kb == "ym":
        return _add_months(a, b.months)
    if kb in ("date", "date and time") and ka == "ym":
        return _add_months(b, a.months)
    return None


def sub(a, b):
    ka, kb = _kind(a), _kind(b)
    if ka == kb == "number":
        return a - b
    if ka == kb and ka in ("duration", "date"):
        return a - b
    if ka == kb == "date and time" and _comparable(a, b):
        return a - b
    if ka == kb == "ym":
        return YearsMonths(a.months - b.months)
    if ka in ("date", "date and time") and kb == "duration":
        return a - b
    if ka in ("date", "date and time") and kb == "ym":
        return _add_months(a, -b.months)
    return None


def mul(a, b):
    ka, kb = _kind(a), _kind(b)
    if ka == kb == "number":
        return a * b
    if ka == "duration" and kb == "number":
        return a * b
    if kb == "duration" and ka == "number":
        return b * a
    if ka == "ym" and kb == "number":
        return YearsMonths(int(a.months * b))
    if kb == "ym" and ka == "number":
        return YearsMonths(int(b.months * a))
    return None


def div(a, b):
    ka, kb = _kind(a), _kind(b)
    if kb == "number" and b == 0:
        return None
    if ka == kb == "number":
        return _number(a / b)
    if ka == "duration" and kb == "number":
        return a / b
    if ka == kb == "duration" and b:
        return _number(a / b)
    if ka == "ym" and kb == "number":
        return YearsMonths(int(a.months / b))
    return None


def pow_(a, b):
    if not (is_number(a) and is_number(b)):
        return None
    if abs(b) > MAX_EXPONENT and abs(a) not in (0, 1):
        raise ExpressionFailed(f"exponent larger than {MAX_EXPONENT}")
    try:
        return _number(a ** b) if not (a == 0 and b < 0) else None
    except OverflowError:
        raise ExpressionFailed("number too large") from None


ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow_"}


def neg(a):
    if is_number(a) or isinstance(a, dt.timedelta):
        return -a
    if isinstance(a, YearsMonths):
        return YearsMonths(-a.months)
    return None


_PROPERTIES = {
    "date": {"year", "month", "day", "weekday"},
    "date and time": {"year", "month", "day", "weekday", "hour", "minute", "second"},
    "time": {"hour", "minute", "second"},
    "duration": {"days", "hours", "minutes", "seconds"},
    "ym": {"years", "months"},
}


def path(v, name: str):
    """`a.b`: a context's entry, each list item's entry, or a date/duration property; else null."""
    kind = _kind(v)
    if kind == "context":
        return v.get(name)
    if kind == "list":
        return [path(x, name) for x in v]
    if name not in _PROPERTIES.get(kind, ()):
        return None
    if kind == "duration":
        total = int(v.total_seconds())
        sign, total = (-1 if total < 0 else 1), abs(total)
        return sign * {"days": total // 86400, "hours": total % 86400 // 3600, "minutes": total % 3600 // 60,
                       "seconds": total % 60}[name]
    if kind == "ym":
        sign, m = (-1 if v.months < 0 else 1), abs(v.months)
        return sign * (m // 12 if name == "years" else m % 12)
    if name == "weekday":
        return v.isoweekday()
    return {"year": lambda: v.year, "month": lambda: v.month, "day": lambda: v.day, "hour": lambda: v.hour,
            "minute": lambda: v.minute, "second": lambda: v.second}[name]()


def index(v, i):
    """`list[2]`: 1-based, negative from the end; null when out of range."""
    if not isinstance(v, (list, tuple)):
        v = [v]
    if not is_number(i) or int(i) != i or i == 0:
        return None
    i = int(i)
    if abs(i) > len(v):
        return None
    return v[i - 1] if i > 0 else v[i]


def filter_(frame: Frame, v, keep):
    """`list[condition]` (items where it is true) or `list[number]` (an index)."""
    if v is None:
        return None
    items = list(v) if isinstance(v, (list, tuple)) else [v]
    if not items:
        return []
    first = keep(items[0])
    if is_number(first):
        return index(items, first)
    out = []
    for i, item in enumerate(frame.each(items)):
        if (first if i == 0 else keep(item)) is True:
            out.append(item)
    return out


def member(item, name: str, outer):
    """A name inside a filter: `item` itself, else the current item's entry, else the outer name."""
    if name == "item":
        return item
    if isinstance(item, dict) and name in item:
        return item[name]
    return outer


def some(frame: Frame, values, pred):
    if values is None:
        return None
    return any(pred(v) is True for v in frame.each(values))


def every(frame: Frame, values, pred):
    if values is None:
        return None
    return all(pred(v) is True for v in frame.each(values))


def for_(frame: Frame, values, body, splice: bool = False):
    if values is None:
        return None
    out = []
    for v in frame.each(values):
        r = body(v)
        if splice and isinstance(r, list):
            frame.spend(len(r))
            out.extend(r)
        else:
            out.append(r)
    return _items(out)


def int_range(a, b):
    if not (is_number(a) and is_number(b)) or int(a) != a or int(b) != b:
        raise ExpressionFailed("a for range needs two integers")
    return IntRange(int(a), int(b))


def interval(low, high, low_closed: bool, high_closed: bool):
    return Range(low, high, low_closed, high_closed)


def op_test(op: str, value):
    fn = globals()[COMPARE[op]]
    return Test(lambda x: fn(x, value))


def value_test(value):
    """A unary test made from a value: a test or range applies, a list holds, anything else equals."""
    if isinstance(value, Test):
        return value
    if isinstance(value, Range):
        return Test(value.holds)
    if isinstance(value, (list, tuple)):
        return Test(lambda x: True if any(eq(x, v) is True for v in value) else (None if x is None else False))
    return Test(lambda x: eq(x, value))


def result_test(result):
    """A unary test written with `?`: its own value is the answer."""
    return Test(lambda x: result)


def tests(x, *items):
    """`x in (t1, t2)` and a decision cell: true when any test is true, false when all are false."""
    results = [value_test(t)(x) for t in items]
    if any(r is True for r in results):
        return True
    return False if all(r is False for r in results) else None


def in_(x, target):
    return tests(x, target)


def list_(*items):
    return _items(list(items))


def context(*pairs):
    return {k: v for k, v in pairs}


# ---------------------------------------------------------------------------------------------- JUEL


def jbool(x) -> bool:
    """EL coercion to boolean: null is false, "true" (any case) is true."""
    if x is None:
        return False
    if isinstance(x, bool):
        return x
    if isinstance(x, str):
        return x.lower() == "true"
    raise ExpressionFailed(f"cannot coerce {x!r} to a boolean")


def jnum(x):
    """EL coercion to a number: null and "" are 0, numeric text is a number."""
    if x is None or x == "":
        return 0
    if is_number(x):
        return x
    if isinstance(x, str):
        try:
            return int(x)
        except ValueError:
            try:
                return float(x)
            except ValueError:
                pass
    raise ExpressionFailed(f"cannot coerce {x!r} to a number")


def jstr(x) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float) and x.is_integer():
        return str(x)
    return str(x)


def jeq(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if is_number(a) or is_number(b):
        return jnum(a) == jnum(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return jbool(a) == jbool(b)
    if isinstance(a, str) or isinstance(b, str):
        return jstr(a) == jstr(b)
    return a == b


def jne(a, b) -> bool:
    return not jeq(a, b)


def _jorder(a, b):
    if a is None or b is None:
        return None
    if is_number(a) or is_number(b):
        return jnum(a), jnum(b)
    if isinstance(a, str) or isinstance(b, str):
        return jstr(a), jstr(b)
    if type(a) is type(b) and isinstance(a, (dt.date, dt.datetime, dt.time, dt.timedelta)):
        return a, b
    raise ExpressionFailed(f"cannot compare {a!r} with {b!r}")


def jlt(a, b) -> bool:
    p = _jorder(a, b)
    return p is not None and p[0] < p[1]


def jle(a, b) -> bool:
    p = _jorder(a, b)
    return p is not None and p[0] <= p[1]


def jgt(a, b) -> bool:
    p = _jorder(a, b)
    return p is not None and p[0] > p[1]


def jge(a, b) -> bool:
    p = _jorder(a, b)
    return p is not None and p[0] >= p[1]


JCOMPARE = {"==": "jeq", "eq": "jeq", "!=": "jne", "ne": "jne", "<": "jlt", "lt": "jlt", "<=": "jle", "le": "jle",
            ">": "jgt", "gt": "jgt", ">=": "jge", "ge": "jge"}


def jadd(a, b):
    return jnum(a) + jnum(b)


def jsub(a, b):
    return jnum(a) - jnum(b)


def jmul(a, b):
    return jnum(a) * jnum(b)


def jdiv(a, b):
    a, b = jnum(a), jnum(b)
    if b == 0:
        raise ExpressionFailed("division by zero")
    return _number(a / b)


def jmod(a, b):
    a, b = jnum(a), jnum(b)
    if b == 0:
        raise ExpressionFailed("division by zero")
    r = math.fmod(a, b)
    return int(r) if isinstance(a, int) and isinstance(b, int) else r


JARITH = {"+": "jadd", "-": "jsub", "*": "jmul", "/": "jdiv", "div": "jdiv", "%": "jmod", "mod": "jmod"}


def jneg(a):
    return -jnum(a)


def jempty(x) -> bool:
    return x is None or (isinstance(x, (str, list, tuple, dict)) and len(x) == 0)


def jprop(v, name):
    """`a.b` on a map; null on null or anything else (EL resolves beans, we have only data)."""
    return v.get(name) if isinstance(v, dict) else None


def jindex(v, key):
    """`a[k]`: a map entry or a list item (out of range is null, as in EL)."""
    if isinstance(v, dict):
        return v.get(key) if not is_number(key) or key in v else v.get(str(key))
    if isinstance(v, (list, tuple, str)):
        i = jnum(key)
        if int(i) != i:
            return None
        i = int(i)
        return v[i] if 0 <= i < len(v) else None
    return None


def _java_index(s, sub):
    return s.find(sub) if isinstance(s, str) else (s.index(sub) if sub in s else -1)


# Method name -> {receiver kind: implementation}. Only these can be called (checked when translating).
JMETHODS = {
    "contains": {str: lambda s, x: jstr(x) in s, list: lambda v, x: any(jeq(i, x) for i in v)},
    "startsWith": {str: lambda s, x: s.startswith(jstr(x))},
    "endsWith": {str: lambda s, x: s.endswith(jstr(x))},
    "toUpperCase": {str: lambda s: s.upper()},
    "toLowerCase": {str: lambda s: s.lower()},
    "trim": {str: lambda s: s.strip()},
    "length": {str: len},
    "size": {list: len, dict: len},
    "isEmpty": {str: lambda s: not s, list: lambda v: not v, dict: lambda d: not d},
    "equals": {str: jeq, list: jeq, dict: jeq, object: jeq},
    "equalsIgnoreCase": {str: lambda s, x: isinstance(x, str) and s.lower() == x.lower()},
    "indexOf": {str: _java_index, list: lambda v, x: next((i for i, e in enumerate(v) if jeq(e, x)), -1)},
    "substring": {str: lambda s, b, e=None: s[int(jnum(b)):(None if e is None else int(jnum(e)))]},
    "containsKey": {dict: lambda d, k: k in d},
    "get": {dict: lambda d, k: d.get(k), list: jindex},
}


def jmethod(v, name: str, *args):
    impls = JMETHODS[name]
    kind = dict if isinstance(v, dict) else list if isinstance(v, (list, tuple)) else str if isinstance(v, str) else object
    impl = impls.get(kind) or impls.get(object)
    if v is None:
        raise ExpressionFailed(f"cannot call {name}() on null")
    if impl is None:
        raise ExpressionFailed(f"{name}() does not apply to {type(v).__name__} {v!r}")
    try:
        return impl(v, *args)
    except TypeError:
        raise ExpressionFailed(f"{name}() called with {len(args)} argument(s)") from None


def template(*parts) -> str:
    """A composite JUEL expression (`P${days}D`): the parts as text."""
    return _text("".join(jstr(p) for p in parts))


ISO_DURATION = re.compile(r"^(-)?P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
                          r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
