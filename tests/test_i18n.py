"""Every word a page shows has both languages: template strings, the engine's vocabulary, the titles of codes."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from engine import casefile, titles
from engine.model.guide import HANDLING, ONLINE
from engine.window import notices
from web import frontdesk
from web.i18n import STRINGS

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "web" / "templates").rglob("*.html"))
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")  # Chinese characters (punctuation such as 、 and （ is not words)
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
LITERAL = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"")
LANGUAGE_SWITCH = {"中文"}  # the link to the Chinese page is written in Chinese in both languages


def english_of(key: str) -> str:
    assert key in STRINGS, f"no English for {key!r}"
    return STRINGS[key]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "web" / "templates")))
def test_every_template_string_has_both_languages(path):
    """Chinese in a template only inside `_()`-translated literals, and every such literal in the catalogue."""
    text = path.read_text(encoding="utf-8")
    bare = CJK.findall(JINJA.sub(" ", text))
    outside = [w for w in re.findall(r"[^\s<>]*[\u3400-\u9fff][^\s<>]*", JINJA.sub(" ", text)) if w not in LANGUAGE_SWITCH]
    assert not outside, f"{path.name}: Chinese outside a translation call: {outside} ({len(bare)} characters)"
    missing = []
    for block in JINJA.findall(text):
        for a, b in LITERAL.findall(block):
            literal = a or b
            if CJK.search(literal) and (literal not in STRINGS or CJK.search(STRINGS[literal])):
                missing.append(literal)
    assert not missing, f"{path.name}: no English for {missing}"


def test_the_catalogue_itself_is_english_on_the_english_side():
    cjk = {k: v for k, v in STRINGS.items() if CJK.search(v)}
    assert not cjk, cjk
    codes = [k for k in STRINGS if not CJK.search(k)]
    assert not codes, f"keys that are codes, not Chinese text: {codes}"


def test_python_literals_the_pages_translate_are_in_the_catalogue():
    """flash() messages and the web layer's word tables are looked up in the catalogue when shown."""
    missing = []
    for path in sorted((ROOT / "web").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "flash" and node.args:
                arg = node.args[0]
                texts = [arg.value] if isinstance(arg, ast.Constant) else [
                    a.value for a in ast.walk(arg) if isinstance(a, ast.Constant) and isinstance(a.value, str)
                    and isinstance(arg, ast.IfExp)]
                missing += [f"{path.name}: {t}" for t in texts if isinstance(t, str) and CJK.search(t)
                            and t not in STRINGS]
    assert not missing, missing


def test_the_engine_vocabulary_pages_show_has_english():
    words = [*casefile.DECISION_TEXT.values(), *casefile.RULE_TEXT.values(),
             *(n for levels in casefile.LEVEL_NAMES.values() for n in levels.values()),
             *notices.STATUS_TEXT.values(), *notices.KINDS.values(), "未提交", "未提交（非必需）", *HANDLING, *ONLINE,
             *frontdesk.MATERIAL_STATUSES.values()]
    missing = [w for w in words if w not in STRINGS]
    assert not missing, missing


def test_every_title_of_a_code_has_both_languages():
    for t in titles.all_titles():
        assert CJK.search(str(t)) and t.en and not CJK.search(t.en), repr(t)
    assert str(titles.group_title("market_lead")) == "市场监管局（审核）"
    assert titles.group_title("market_lead").en == "Market Regulation Bureau (second review)"
    assert titles.group_title("newdept", "新部门") == "新部门" and titles.group_title("newdept") == "newdept"
    assert titles.by_chinese("公安局").en == "Public Security Bureau"
