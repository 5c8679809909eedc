"""JUEL and FEEL as designers write them: per language, expressions with their Python results, the
subset's refusals (located, at check time), and the sandbox's bounds on the translated code."""
from __future__ import annotations

import datetime as dt

import pytest

from engine.errors import ExpressionRefused
from engine.model.expressions import FEEL, JUEL, TESTS, ExpressionSyntaxError, check, tag, translate
from engine.model.expressions.runtime import MAX_ITEMS, ExpressionFailed, YearsMonths
from engine.model.expressions.syntax import MAX_DEPTH, MAX_SOURCE
from engine.model.sandbox import SandboxEnvironment

DATA = {
    "amount": 1500, "type": "A", "approved": True, "rejected": False, "nothing": None, "count": 3,
    "name": "Zhang San", "empty text": "", "tags": ["food", "hot"], "items": [{"amount": 1}, {"amount": 5}],
    "applicant": {"name": "示例", "age": 40, "address": {"city": "宁波"}}, "riskLevels": ["green", "red"],
    "Vacation Approval": "Approved", "fraud": False, "clarified": "yes", "days": 3, "申请人": {"年龄": 17},
    "start": dt.date(2026, 12, 1), "results": {"review": {"decision": "approve"}},
}


@pytest.fixture(scope="module")
def env():
    return SandboxEnvironment()


def run(env, language: str, text: str, data: dict | None = None, **tests):
    return env.evaluate(tag(language, text, **tests), dict(DATA if data is None else data))


# --- FEEL: expressions and their Python results ----------------------------------------------------------------

FEEL_TABLE = [
    # literals, variables, paths
    ("1000", 1000), ("1.5", 1.5), ('"text"', "text"), ('"a\\"b\\n"', 'a"b\n'), ("true", True), ("false", False),
    ("null", None), ("amount", 1500), ("missing", None), ("applicant.name", "示例"), ("applicant.address.city", "宁波"),
    ("applicant.missing.deeper", None), ("申请人.年龄 >= 18", False), ("Vacation Approval", "Approved"),
    ("items.amount", [1, 5]),
    # comparisons and logic (three-valued)
    ('amount > 1000 and type = "A"', True), ("amount != 1500", False), ("amount <= 1500", True),
    ('type = "B" or amount < 2000', True), ("not(approved)", False), ("not(nothing)", None),
    ("nothing = null", True), ("amount = null", False), ('amount = "1500"', None), ("amount < nothing", None),
    ("false and nothing", False), ("true and nothing", None), ("true or nothing", True), ("false or nothing", None),
    ("amount between 1000 and 2000", True), ("count between 4 and 9", False),
    # arithmetic
    ("amount * 2 + 1", 3001), ("10 / 4", 2.5), ("10 / 5", 2), ("1 / 0", None), ("2 ** 10", 1024), ("-count", -3),
    ("amount - nothing", None), ('"a" + "b"', "ab"), ('"a" + 1', None),
    # strings
    ('contains(name, "San")', True), ('starts with(name, "Zh")', True), ('ends with(name, "x")', False),
    ("upper case(type)", "A"), ('lower case("ABC")', "abc"), ("string length(name)", 9),
    ('substring("foobar", 3)', "obar"), ('substring("foobar", 3, 2)', "ob"), ('substring before("a-b", "-")', "a"),
    ('substring after("a-b", "-")', "b"), ("string(amount)", "1500"), ('number("12.5")', 12.5),
    ('string join(tags, ", ")', "food, hot"),
    # in: lists, ranges, tests
    ('type in ("A", "B")', True), ('"dismissed" in ("resigned", "other")', False), ("amount in [1000..2000]", True),
    ("amount in (1500..2000]", False), ("count in ]1..3)", False), ("count in < 5", True), ("count in (< 2, > 2)", True),
    ('"hot" in tags', True), ("nothing in (1, 2)", False),
    # lists and contexts
    ("[1, 2, 3]", [1, 2, 3]), ("[]", []), ('{a: 1, "b c": [true]}', {"a": 1, "b c": [True]}),
    ('{total: amount * 2}.total', 3000), ("[10, 20, 30][2]", 20), ("[10, 20, 30][-1]", 30), ("[10, 20][5]", None),
    ("items[amount > 2]", [{"amount": 5}]), ("[1, 2, 3, 4][item > 2]", [3, 4]), ("count(tags)", 2),
    ("sum([1, 2, 3])", 6), ("sum(1, 2)", 3), ("min(3, 1, 2)", 1), ("max([4, 9])", 9), ("mean([2, 4])", 3),
    ('list contains(tags, "food")', True), ('append(tags, "x")', ["food", "hot", "x"]),
    ("concatenate([1], [2, 3])", [1, 2, 3]), ("distinct values([1, 1, 2])", [1, 2]), ("flatten([[1], [2, [3]]])",
                                                                                      [1, 2, 3]),
    ("reverse([1, 2])", [2, 1]), ("index of([1, 2, 1], 1)", [1, 3]), ("sublist([1, 2, 3], 2)", [2, 3]),
    ("is empty([])", True), ('get value(applicant, "age")', 40), ("all([true, true])", True), ("any([false, true])", True),
    # some / every / for / if
    ('some risk in riskLevels satisfies risk = "red"', True), ('every risk in riskLevels satisfies risk = "yellow"',
                                                                False),
    ("some x in [1, 2], y in [3, 4] satisfies x + y = 6", True), ("every i in items satisfies i.amount > 0", True),
    ("for i in 1..3 return i * 2", [2, 4, 6]), ("for x in [1, 2], y in [10, 20] return x + y", [11, 21, 12, 22]),
    ("for i in items return i.amount", [1, 5]), ('if amount > 1000 then "big" else "small"', "big"),
    ('if nothing then "yes" else "no"', "no"),
    # dates and durations
    ('date("2026-12-01")', dt.date(2026, 12, 1)), ("date(2026, 2, 28)", dt.date(2026, 2, 28)),
    ('date("2026-12-01") + duration("P3D")', dt.date(2026, 12, 4)), ('duration("P3D")', dt.timedelta(days=3)),
    ('duration("PT4H30M").minutes', 30), ('duration("P1Y2M")', YearsMonths(14)),
    ('date("2026-01-31") + duration("P1M")', dt.date(2026, 2, 28)), ('start > date("2026-11-30")', True),
    ('date("2026-12-10") - start', dt.timedelta(days=9)), ("start.year", 2026), ("start.weekday", 2),
    ('date and time("2026-12-01T09:30:00").hour', 9), ('@"2026-12-01" = start', True), ('@"P2D" < @"P3D"', True),
    ('years and months duration(date("2025-01-15"), start)', YearsMonths(22)), ('time("09:30:00").minute', 30),
    ('string(duration("P1DT2H"))', "P1DT2H"),
    # numbers
    ("abs(-2)", 2), ("floor(1.7)", 1), ("ceiling(1.2)", 2), ("decimal(1.256, 2)", 1.26), ("modulo(7, 3)", 1),
    ("odd(3)", True), ("even(3)", False),
    # the Camunda 8 marker
    ("=approved", True), ("= not(fraud)", True),
]


@pytest.mark.parametrize("text, expected", FEEL_TABLE, ids=[t for t, _ in FEEL_TABLE])
def test_feel(env, text, expected):
    result = run(env, FEEL, text)
    assert result == expected and type(result) is type(expected), (result, expected)


FEEL_TESTS_TABLE = [  # (input entry, input value, matches)
    ('"resigned"', "resigned", True), ('"resigned"', "dismissed", False), ('"dismissed","contract_ended"',
                                                                           "contract_ended", True),
    ('"dismissed","contract_ended"', "resigned", False), ("< 12", 6, True), ("< 12", 30, False), (">= 12", 12, True),
    ("[12..60)", 60, False), ("[12..60]", 60, True), ("true", True, True), ("true", False, False), ("null", None, True),
    ('not("resigned")', "dismissed", True), ('not("resigned", "other")', "other", False), ("? > 3 and ? < 9", 5, True),
    ("> 3", None, False), ("< 12", "ten", False), ('date("2026-01-01")', dt.date(2026, 1, 1), True),
    ("-2", -2, True), ("amount", 1500, True), ("count", 1500, False),
]


@pytest.mark.parametrize("text, value, matches", FEEL_TESTS_TABLE, ids=[f"{t} <- {v!r}" for t, v, _ in FEEL_TESTS_TABLE])
def test_feel_unary_tests(env, text, value, matches):
    """A decision table input entry: true only when a test holds (null never matches)."""
    result = env.evaluate(tag(FEEL, text, tests=True), dict(DATA), {"?": value})
    assert (result is True) == matches, result


# --- JUEL -------------------------------------------------------------------------------------------------------

JUEL_TABLE = [
    ("${approved}", True), ("${!approved}", False), ("${not approved}", False), ("${amount > 1000 && type == 'A'}", True),
    ("${amount gt 1000 and type eq \"A\"}", True), ("${amount lt 1000 || rejected}", False), ("${amount ne 1500}", False),
    ("${amount le 1500}", True), ("${count ge 4}", False), ("${empty nothing}", True), ("${empty tags}", False),
    ("${!empty name}", True), ("${nothing == null}", True), ("${amount == '1500'}", True), ("${approved == 'true'}", True),
    ("${amount + 1}", 1501), ("${amount - count * 2}", 1494), ("${7 / 2}", 3.5), ("${7 div 2}", 3.5), ("${7 % 3}", 1),
    ("${7 mod 3}", 1), ("${-count}", -3), ("${nothing + 1}", 1), ("${'2' + 3}", 5),
    ("${applicant.name}", "示例"), ("${applicant['age'] > 18}", True), ("${applicant.address.city}", "宁波"),
    ("${applicant.missing}", None), ("${tags[0]}", "food"), ("${tags[5]}", None), ("${items[1].amount}", 5),
    ("${results.review.decision == 'approve'}", True), ("${amount > 1000 ? 'big' : 'small'}", "big"),
    ("${name.startsWith('Zh')}", True), ("${name.contains('San')}", True), ("${name.toUpperCase()}", "ZHANG SAN"),
    ("${name.toLowerCase().endsWith('san')}", True), ("${name.length()}", 9), ("${tags.size()}", 2),
    ("${tags.contains('hot')}", True), ("${applicant.containsKey('age')}", True), ("${name.equals('Zhang San')}", True),
    ("${' x '.trim()}", "x"), ("${name.substring(0, 5)}", "Zhang"), ("${name.isEmpty()}", False),
    ("${execution.getVariable('amount')}", 1500), ("P${days}D", "P3D"), ("Dear ${applicant.name}", "Dear 示例"),
    ("#{approved}", True), ("${clarified == 'yes'}", True), ("${clarified == 'no'}", False), ("${true}", True),
    ("${1.5e1}", 15.0), ("${null}", None),
]


@pytest.mark.parametrize("text, expected", JUEL_TABLE, ids=[t for t, _ in JUEL_TABLE])
def test_juel(env, text, expected):
    result = run(env, JUEL, text)
    assert result == expected and type(result) is type(expected), (result, expected)


def test_juel_unknown_identifier_is_an_error_as_in_camunda_7(env):
    with pytest.raises(ExpressionFailed, match="cannot resolve identifier 'missing'"):
        run(env, JUEL, "${missing}")


def test_juel_now(env):
    assert run(env, JUEL, "${now()}").year >= 2025


# --- the MIWG corpus's expressions in the subset (as the reference files write them) --------------------------

MIWG_TABLE = [  # (language, text, data, expected)
    (JUEL, "${approved}", {"approved": True}, True), (JUEL, "${!approved}", {"approved": True}, False),
    (JUEL, "${clarified == 'yes'}", {"clarified": "yes"}, True), (JUEL, "${clarified == 'no'}", {"clarified": "yes"},
                                                                   False),
    (FEEL, "= approved", {"approved": False}, False), (FEEL, "= not(approved)", {"approved": False}, True),
    (FEEL, '= some risk in riskLevels satisfies risk = "red"', {"riskLevels": ["yellow", "red"]}, True),
    (FEEL, '= every risk in riskLevels satisfies risk = "yellow"', {"riskLevels": ["yellow", "red"]}, False),
    (FEEL, "=fraud", {"fraud": True}, True),
    (FEEL, 'Vacation Approval = "Approved"', {"Vacation Approval": "Approved"}, True),
    (FEEL, 'Vacation Approval = "Manual Validation Required"', {"Vacation Approval": "Approved"}, False),
]


@pytest.mark.parametrize("language, text, data, expected", MIWG_TABLE, ids=[t for _, t, _, _ in MIWG_TABLE])
def test_miwg_expressions(env, language, text, data, expected):
    assert run(env, language, text, data) is expected


# --- refused when checked, located ------------------------------------------------------------------------------

REFUSED = [  # (language, text, fragment, column)
    (FEEL, "amount == 1000", "FEEL compares with '=', not '=='", 9),
    (FEEL, "approved && fraud", "FEEL writes 'and', not '&&'", 10),
    (FEEL, "type = 'A'", "FEEL strings use double quotes", 8),
    (FEEL, "foo(amount)", "unknown function 'foo'", 1),
    (FEEL, "= upper case(name, 2)", "upper case() takes 1 argument(s), not 2", 3),
    (FEEL, 'substring(string: "x", start position: 1)', "named arguments are not supported", 11),
    (FEEL, 'date("2026-13-01")', 'date("2026-13-01"): not a valid date', 6),
    (FEEL, 'duration("3 days")', "not a valid duration", 10),
    (FEEL, "? > 3", "'?' (the input value) is only allowed in a decision table input entry", 1),
    (FEEL, "< 5", "only allowed after 'in'", 1),
    (FEEL, "(1, 2)", "only allowed after 'in'", 1),
    (FEEL, "amount >", "unexpected end of expression", 9),
    (FEEL, "a.b(1)", "only FEEL's built-in functions can be called", 1),
    (FEEL, "function(x) x + 1", "unexpected", 13),
    (FEEL, "${approved}", "this is JUEL, not FEEL", 1),
    (FEEL, "=", "empty expression", 2),
    (FEEL, '"unterminated', "unexpected character", 1),
    (TESTS, "in (1, 2)", "unexpected", 1),
    (TESTS, '"a",', "unexpected end of expression", 5),
    (JUEL, "${amount = 1}", "JUEL compares with '==' (or eq), not '='", 10),
    (JUEL, "${fn:contains(name, 'x')}", "EL functions with a prefix (fn:...) are not supported", 5),
    (JUEL, "${name.getClass()}", "method getClass() is not supported", 8),
    (JUEL, "${execution.setVariable('a', 1)}", "execution.setVariable() is not supported", 13),
    (JUEL, "${foo(1)}", "unknown function 'foo'", 3),
    (JUEL, "${approved", "'${' is never closed", 1),
    (JUEL, "${}", "empty ${}", 3),
    (JUEL, "${a +}", "unexpected", 6),
    (JUEL, "ok ${a ? b}", "unexpected", 11),
]


@pytest.mark.parametrize("language, text, fragment, column", REFUSED, ids=[t for _, t, _, _ in REFUSED])
def test_outside_the_subset_is_refused_with_its_column(env, language, text, fragment, column):
    exc = check(language, text)
    assert isinstance(exc, ExpressionSyntaxError), exc
    assert fragment in exc.message, exc.message
    assert (exc.line, exc.column) == (1, column), str(exc)
    with pytest.raises(ExpressionRefused, match="expression refused"):  # and it never runs
        env.evaluate(tag(language if language != TESTS else FEEL, text, tests=language == TESTS), dict(DATA))


def test_error_in_a_later_line_is_located_by_line_and_column():
    exc = check(FEEL, 'amount > 1000\nand type = = "A"')
    assert (exc.line, exc.column) == (2, 12), str(exc)
    assert str(exc).endswith("at line 2, column 12")


def test_composite_juel_error_column_counts_the_literal_text():
    exc = check(JUEL, "P${days +}D")
    assert (exc.line, exc.column) == (1, 10), str(exc)


# --- the sandbox ------------------------------------------------------------------------------------------------


def test_translation_names_no_case_data():
    """Variables are read through V()/J() by name: data can neither shadow a helper nor reach Python names."""
    assert translate(FEEL, "eq + V") == "add(V('eq'), V('V'))"
    assert translate(JUEL, "${__import__}") == "J('__import__')"


def test_data_named_like_helpers_is_just_data(env):
    assert run(env, FEEL, "eq + V + call", {"eq": 1, "V": 2, "call": 3}) == 6
    assert run(env, JUEL, "${tests + jbool}", {"tests": 1, "jbool": 2}) == 3


@pytest.mark.parametrize("language, text", [
    (FEEL, '"x".__class__'), (FEEL, "applicant.__class__"), (FEEL, "applicant.__dict__"),
    (FEEL, "start.__class__"), (FEEL, 'date("2026-01-01").replace'), (JUEL, "${applicant.__class__}"),
    (JUEL, "${name.__class__}"), (JUEL, "${applicant['__class__']}"),
])
def test_paths_reach_only_case_data(env, language, text):
    """`a.b` reads a mapping key (or a date/duration property), never a Python attribute."""
    assert run(env, language, text) is None


def test_dunder_names_are_only_data_keys(env):
    assert run(env, FEEL, "__import__", {"__import__": 7}) == 7
    assert run(env, FEEL, "__builtins__") is None


def test_iteration_budget(env):
    with pytest.raises(ExpressionFailed, match=f"more than {MAX_ITEMS} items"):
        run(env, FEEL, "for i in 1..1000000000 return i")
    with pytest.raises(ExpressionFailed, match="items"):
        run(env, FEEL, "some i in 1..100000, j in 1..100000 satisfies i + j < 0")


def test_size_limits(env):
    with pytest.raises(ExpressionFailed, match="exponent"):
        run(env, FEEL, "9 ** 100000")
    big = {"s": "x" * 600_000}
    with pytest.raises(ExpressionFailed, match="text longer"):
        run(env, FEEL, "s + s", big)
    with pytest.raises(ExpressionFailed, match="text longer"):
        run(env, JUEL, "${s}${s}", big)
    assert f"longer than {MAX_SOURCE} characters" in str(check(FEEL, "1 + " * 5000 + "1"))
    assert f"nested more than {MAX_DEPTH} levels" in str(check(FEEL, "[" * 100 + "1" + "]" * 100))
    assert check(FEEL, "(" * 100 + "1" + ")" * 100) is None  # parentheses add no depth
    assert f"nested more than {MAX_DEPTH} levels" in str(check(JUEL, "${" + "-" * 100 + "1}"))


def test_timer_expressions_give_iso_text(env):
    assert env.evaluate(tag(FEEL, '=duration("P" + string(days) + "D")', timer=True), dict(DATA)) == "P3D"
    assert env.evaluate(tag(JUEL, "PT${days}H", timer=True), dict(DATA)) == "PT3H"
    assert env.evaluate(tag(FEEL, 'date and time("2026-12-01T09:00:00")', timer=True), {}) == "2026-12-01T09:00:00"


def test_python_is_untouched(env):
    """Untagged text is Python, evaluated as before."""
    assert env.evaluate("amount > 1000 and 'food' in tags", dict(DATA)) is True
