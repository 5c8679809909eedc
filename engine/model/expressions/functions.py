"""FEEL's built-in functions that onewindow supports, with their arities (checked when translating).

Each takes FEEL values and returns a FEEL value; a wrong type gives null, as the standard says. Regular
expression functions (`matches`, `replace`, `split`) are left out: a pattern can run for exponential time.
"""
from __future__ import annotations

import datetime as dt
import math

from .runtime import (ISO_DURATION, ExpressionFailed, YearsMonths, _items, _number, _text, eq, is_number, lt,
                      not_)


def _str(*xs) -> bool:
    return all(isinstance(x, str) for x in xs)


def parse_duration(s):
    """`P3D`, `PT4H`, `-P1DT2H` (days and time) or `P1Y2M` (years and months); None when not ISO 8601."""
    m = ISO_DURATION.match(s.strip()) if isinstance(s, str) else None
    if not m:
        return None
    neg, years, months, weeks, days, hours, minutes, seconds = m.groups()
    sign = -1 if neg else 1
    if years or months:
        if weeks or days or hours or minutes or seconds:
            return None
        return YearsMonths(sign * (int(years or 0) * 12 + int(months or 0)))
    return sign * dt.timedelta(weeks=int(weeks or 0), days=int(days or 0), hours=int(hours or 0),
                               minutes=int(minutes or 0), seconds=float(seconds or 0))


def parse_date(s):
    try:
        return dt.date.fromisoformat(s) if isinstance(s, str) and len(s.strip()) == 10 else None
    except ValueError:
        return None


def parse_date_time(s):
    if not isinstance(s, str) or "T" not in s:
        return parse_date(s) and dt.datetime.combine(parse_date(s), dt.time())
    try:
        return dt.datetime.fromisoformat(s.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_time(s):
    try:
        return dt.time.fromisoformat(s.strip().replace("Z", "+00:00")) if isinstance(s, str) else None
    except ValueError:
        return None


def parse_temporal(s):
    """`@"..."`: a date, date and time, time or duration, whichever the text is."""
    if not isinstance(s, str):
        return None
    s = s.strip()
    if s.lstrip("-").startswith("P"):
        return parse_duration(s)
    if "T" in s:
        return parse_date_time(s)
    return parse_date(s) if "-" in s else parse_time(s)


def date(a, b=None, c=None):
    if b is None and c is None:
        if isinstance(a, dt.datetime):
            return a.date()
        return a if isinstance(a, dt.date) else parse_date(a)
    if all(is_number(x) and int(x) == x for x in (a, b, c)):
        try:
            return dt.date(int(a), int(b), int(c))
        except ValueError:
            return None
    return None


def date_and_time(a, b=None):
    if b is None:
        if isinstance(a, dt.datetime):
            return a
        if isinstance(a, dt.date):
            return dt.datetime.combine(a, dt.time())
        return parse_date_time(a)
    if isinstance(a, dt.date) and isinstance(b, dt.time):
        return dt.datetime.combine(a if not isinstance(a, dt.datetime) else a.date(), b)
    return None


def time_(a, b=None, c=None):
    if b is None and c is None:
        if isinstance(a, dt.datetime):
            return a.timetz()
        return a if isinstance(a, dt.time) else parse_time(a)
    if all(is_number(x) for x in (a, b, c)):
        try:
            return dt.time(int(a), int(b), int(c))
        except ValueError:
            return None
    return None


def duration(s):
    return parse_duration(s)


def years_and_months_duration(a, b):
    if not (isinstance(a, dt.date) and isinstance(b, dt.date)):
        return None
    months = (b.year - a.year) * 12 + b.month - a.month
    if months > 0 and b.day < a.day:
        months -= 1
    elif months < 0 and b.day > a.day:
        months += 1
    return YearsMonths(months)


def string(x):
    if x is None:
        return None
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, (dt.date, dt.time)):
        return x.isoformat()
    if isinstance(x, dt.timedelta):
        total = int(x.total_seconds())
        sign, total = ("-" if total < 0 else ""), abs(total)
        d, rest = divmod(total, 86400)
        h, rest = divmod(rest, 3600)
        m, s = divmod(rest, 60)
        timepart = "".join(f"{n}{u}" for n, u in ((h, "H"), (m, "M"), (s, "S")) if n)
        return f"{sign}P{d}D" + (f"T{timepart}" if timepart else "") if d or not timepart else f"{sign}PT{timepart}"
    return _text(str(x))


def iso(value):
    """A timer expression's value as the ISO 8601 text SpiffWorkflow's timers read."""
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return string(value)
    if isinstance(value, YearsMonths):
        return str(value)
    return value


def number(s):
    if is_number(s):
        return s
    if not isinstance(s, str):
        return None
    try:
        return int(s) if s.strip().lstrip("+-").isdigit() else _number(float(s))
    except ValueError:
        return None


def _list(args):
    """`sum(1, 2)` and `sum([1, 2])` alike."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        return list(args[0])
    return list(args)


def _numbers(args):
    xs = _list(args)
    return xs if all(is_number(x) for x in xs) else None


def sum_(*args):
    xs = _numbers(args)
    return None if xs is None else (sum(xs) if xs else None)


def mean(*args):
    xs = _numbers(args)
    return _number(sum(xs) / len(xs)) if xs else None


def min_(*args):
    xs = _list(args)
    if not xs or any(lt(xs[0], x) is None for x in xs):
        return None
    return min(xs)


def max_(*args):
    xs = _list(args)
    if not xs or any(lt(xs[0], x) is None for x in xs):
        return None
    return max(xs)


def all_(*args):
    xs = _list(args)
    if any(x is False for x in xs):
        return False
    return True if all(x is True for x in xs) else None


def any_(*args):
    xs = _list(args)
    if any(x is True for x in xs):
        return True
    return False if all(x is False for x in xs) else None


def substring(s, start, length=None):
    if not isinstance(s, str) or not is_number(start) or (length is not None and not is_number(length)):
        return None
    start = int(start)
    begin = start - 1 if start > 0 else len(s) + start
    begin = max(begin, 0)
    return s[begin:] if length is None else s[begin:begin + max(int(length), 0)]


def _lists(*xs):
    return all(isinstance(x, (list, tuple)) for x in xs)


def sublist(v, start, length=None):
    if not _lists(v) or not is_number(start):
        return None
    start = int(start)
    begin = start - 1 if start > 0 else len(v) + start
    return list(v[begin:]) if length is None else list(v[begin:begin + int(length)])


def distinct_values(v):
    if not _lists(v):
        return None
    out = []
    for x in v:
        if not any(eq(x, y) is True for y in out):
            out.append(x)
    return out


def flatten(v):
    if not _lists(v):
        return None
    out = []
    for x in v:
        out.extend(flatten(x) if isinstance(x, (list, tuple)) else [x])
    return _items(out)


def decimal(n, scale):
    if not (is_number(n) and is_number(scale)):
        return None
    q = round(n, int(scale))  # round half to even, as FEEL's decimal() does
    return _number(q) if int(scale) <= 0 or isinstance(q, int) else q


def string_join(v, sep=""):
    if not _lists(v) or not isinstance(sep, str) or not all(isinstance(x, str) or x is None for x in v):
        return None
    return _text(sep.join(x for x in v if x is not None))


def get_entries(c):
    return [{"key": k, "value": v} for k, v in c.items()] if isinstance(c, dict) else None


def now():
    return dt.datetime.now(dt.timezone.utc)


def today():
    return dt.date.today()


def _mod(a, b):
    return _number(a - b * math.floor(a / b)) if is_number(a) and is_number(b) and b else None


# name -> (implementation, least arguments, most arguments or None for any)
FUNCTIONS = {
    "not": (not_, 1, 1),
    "string length": (lambda s: len(s) if _str(s) else None, 1, 1),
    "upper case": (lambda s: s.upper() if _str(s) else None, 1, 1),
    "lower case": (lambda s: s.lower() if _str(s) else None, 1, 1),
    "contains": (lambda s, x: x in s if _str(s, x) else None, 2, 2),
    "starts with": (lambda s, x: s.startswith(x) if _str(s, x) else None, 2, 2),
    "ends with": (lambda s, x: s.endswith(x) if _str(s, x) else None, 2, 2),
    "substring": (substring, 2, 3),
    "substring before": (lambda s, x: s.split(x, 1)[0] if _str(s, x) and x in s else ("" if _str(s, x) else None),
                         2, 2),
    "substring after": (lambda s, x: s.split(x, 1)[1] if _str(s, x) and x in s else ("" if _str(s, x) else None),
                        2, 2),
    "string join": (string_join, 1, 2),
    "string": (string, 1, 1),
    "number": (number, 1, 1),
    "date": (date, 1, 3),
    "date and time": (date_and_time, 1, 2),
    "time": (time_, 1, 3),
    "duration": (duration, 1, 1),
    "years and months duration": (years_and_months_duration, 2, 2),
    "now": (now, 0, 0),
    "today": (today, 0, 0),
    "count": (lambda v: len(v) if _lists(v) else None, 1, 1),
    "sum": (sum_, 1, None),
    "mean": (mean, 1, None),
    "min": (min_, 1, None),
    "max": (max_, 1, None),
    "all": (all_, 1, None),
    "any": (any_, 1, None),
    "list contains": (lambda v, x: any(eq(i, x) is True for i in v) if _lists(v) else None, 2, 2),
    "append": (lambda v, *xs: _items(list(v) + list(xs)) if _lists(v) else None, 1, None),
    "concatenate": (lambda *vs: _items([x for v in vs for x in v]) if _lists(*vs) else None, 0, None),
    "distinct values": (distinct_values, 1, 1),
    "flatten": (flatten, 1, 1),
    "reverse": (lambda v: list(reversed(v)) if _lists(v) else None, 1, 1),
    "index of": (lambda v, x: [i + 1 for i, e in enumerate(v) if eq(e, x) is True] if _lists(v) else None, 2, 2),
    "sublist": (sublist, 2, 3),
    "is empty": (lambda v: len(v) == 0 if _lists(v) else None, 1, 1),
    "get value": (lambda c, k: c.get(k) if isinstance(c, dict) and _str(k) else None, 2, 2),
    "get entries": (get_entries, 1, 1),
    "abs": (lambda n: abs(n) if is_number(n) or isinstance(n, dt.timedelta) else None, 1, 1),
    "floor": (lambda n: math.floor(n) if is_number(n) else None, 1, 1),
    "ceiling": (lambda n: math.ceil(n) if is_number(n) else None, 1, 1),
    "decimal": (decimal, 2, 2),
    "modulo": (_mod, 2, 2),
    "odd": (lambda n: n % 2 == 1 if is_number(n) and int(n) == n else None, 1, 1),
    "even": (lambda n: n % 2 == 0 if is_number(n) and int(n) == n else None, 1, 1),
}

# Functions whose string-literal argument must be valid when the expression is checked.
LITERAL_PARSERS = {"date": parse_date, "date and time": parse_date_time, "time": parse_time,
                   "duration": parse_duration}


def call(name: str, *args):
    try:
        return FUNCTIONS[name][0](*args)
    except ExpressionFailed:
        raise
    except (TypeError, ValueError, OverflowError, ArithmeticError):
        return None
