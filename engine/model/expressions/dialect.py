"""Which language each expression of a BPMN or DMN file is written in, read from the file.

BPMN, in this order: the expression's own `language` (on a tFormalExpression); the exporter's marker in
the text (`${...}` is JUEL as Camunda 7, Flowable and Activiti write it; a leading `=` is FEEL as Camunda 8
writes it); the `expressionLanguage` of the definitions; otherwise Python, as before. XPath, the BPMN
default that many tools declare out of habit, counts as no declaration; an expression that uses XPath's
`getDataObject` is refused as XPath. A timer written as a plain ISO 8601 value (`P3D`, `R3/PT1H`,
`2026-12-01T09:00:00`) is that value in every language. An informal `tExpression` cannot run.
Where nothing is declared, text that is not Python but is FEEL (`Vacation Approval = "Approved"`) is FEEL.

DMN: `expressionLanguage` on the definitions (or a FEEL `typeLanguage`) sets the table's language, an
`expressionLanguage` on an input expression or a cell overrides it; a table that declares nothing stays
Python, as SpiffWorkflow reads it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from . import FEEL, JUEL, PYTHON, feel, juel, label, tag
from .functions import parse_date_time, parse_duration

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

# (xpath, kind) of every piece of source the engine evaluates.
SOURCES = [
    (".//bpmn:conditionExpression", "expression"),
    (".//bpmn:scriptTask/bpmn:script", "script"),
    (".//bpmn:timeDuration", "timer"),
    (".//bpmn:timeDate", "timer"),
    (".//bpmn:timeCycle", "timer"),
    (".//bpmn:loopCardinality", "expression"),
    (".//bpmn:completionCondition", "expression"),
    (".//bpmn:loopCondition", "expression"),
    (".//bpmn:conditionalEventDefinition/bpmn:condition", "expression"),
    (".//bpmn:messagePath", "expression"),
    (".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression", "expression"),
    (".//spiffworkflow:preScript", "script"),
    (".//spiffworkflow:postScript", "script"),
]

XPATH = "xpath"
INFORMAL = "informal"


@dataclass(frozen=True)
class Written:
    """One expression as the file declares it: its language, its text, and what it is."""

    language: str       # python, juel, feel, xpath, informal, or the name of an unsupported language
    text: str
    kind: str           # expression, script, timer, tests (a DMN input entry)
    literal: bool = False   # a plain ISO 8601 timer value
    why: str = ""           # how the language was found, for messages

    @property
    def supported(self) -> bool:
        return self.language in (PYTHON, JUEL, FEEL)

    def stored(self) -> str:
        """What the parser hands SpiffWorkflow for this expression."""
        if self.literal:
            return repr(self.text)
        if self.language == PYTHON:
            return self.text
        if not self.supported:  # kept so that running it says why it cannot run
            return tag(re.sub(r"[^A-Za-z0-9_-]+", "-", self.language).strip("-") or "unsupported", self.text)
        return tag(self.language, self.text, tests=self.kind == "tests", timer=self.kind == "timer")


def language_named(name: str | None) -> str | None:
    """The language a declaration names: python, juel, feel, xpath, another name, or None when empty."""
    if not name or not name.strip():
        return None
    n = name.strip().lower().rstrip("/")
    if n in ("feel", "s-feel") or n.endswith("/feel") or "/feel/" in n or re.search(r"/spec/feel\b", n):
        return FEEL
    if n in ("juel", "el", "uel", "jsr-245", "jsr245") or "id=245" in n or "expression-language" in n or \
            n.endswith("/juel"):
        return JUEL
    if n in ("python", "text/x-python", "text/python", "application/x-python") or "python.org" in n:
        return PYTHON
    if "xpath" in n:
        return XPATH
    return name.strip()


_XPATH_CALL = re.compile(r"\b(?:bpmn:)?getDataObject\s*\(|\bbpmn:\w+\s*\(")
_ISO_CYCLE = re.compile(r"^R\d*/[^\s/]+(?:/[^\s/]+)?$")


def iso_literal(text: str) -> bool:
    """A timer value written as ISO 8601 itself rather than as an expression."""
    t = text.strip()
    if parse_duration(t) is not None:
        return True
    if _ISO_CYCLE.match(t):
        return all(parse_duration(p) is not None or parse_date_time(p) is not None for p in t.split("/")[1:])
    return bool(re.match(r"^\d{4}-\d{2}-\d{2}", t)) and parse_date_time(t) is not None


def _python_syntax_ok(text: str, kind: str) -> bool:
    try:
        compile(text, "<expression>", "exec" if kind == "script" else "eval")
    except SyntaxError:
        return False
    except (ValueError, MemoryError, RecursionError):
        return False
    return True


def _informal(el) -> bool:
    xsi = el.get(XSI_TYPE) or ""
    return xsi.split(":")[-1] == "tExpression"


def bpmn_language(el, root, kind: str) -> Written:
    """The language one BPMN expression or script is written in (see the module docstring)."""
    text = (el.text or "").strip()
    if kind == "script":
        fmt = el.getparent().get("scriptFormat") if etree.QName(el).localname == "script" else None
        declared = language_named(fmt)
        if declared in (None, PYTHON):
            return Written(PYTHON, text, kind)
        return Written(declared if declared != XPATH else "XPath", text, kind, why=f"scriptFormat '{fmt}'")
    if kind == "timer" and iso_literal(text):
        return Written(PYTHON, text, kind, literal=True)
    own = None if _informal(el) else language_named(el.get("language"))
    if own in (PYTHON, JUEL, FEEL) or (own is not None and own != XPATH):
        return Written(own, text, kind, why=f"language '{el.get('language')}'")
    if juel.is_juel(text) and (text.startswith(("${", "#{")) or not _python_syntax_ok(text, kind)):
        return Written(JUEL, text, kind, why="${...}")
    if text.startswith("="):
        return Written(FEEL, text, kind, why="leading '='")
    file_level = language_named(root.get("expressionLanguage"))
    if file_level in (PYTHON, JUEL, FEEL) or (file_level is not None and file_level != XPATH):
        return Written(file_level, text, kind, why=f"expressionLanguage '{root.get('expressionLanguage')}'")
    if _informal(el):
        return Written(INFORMAL, text, kind, why="xsi:type tExpression")
    if _XPATH_CALL.search(text):
        return Written(XPATH, text, kind, why="getDataObject")
    if not _python_syntax_ok(text, kind) and feel.parses(text):
        return Written(FEEL, text, kind, why="not Python, but FEEL")
    return Written(PYTHON, text, kind)


def bpmn_sources(root):
    """Every (element, Written) of a BPMN document, in document order per kind."""
    for xpath, kind in SOURCES:
        for el in root.iterfind(xpath, _NS):
            if (el.text or "").strip():
                yield el, bpmn_language(el, root, kind)


def mark_bpmn(root) -> None:
    """Replace each expression's text with what SpiffWorkflow should store (tagged when not Python)."""
    for el, written in list(bpmn_sources(root)):
        stored = written.stored()
        if stored != written.text:
            el.text = stored


# --- DMN ------------------------------------------------------------------------------------------------------


def dmn_table_language(root) -> tuple[str, str]:
    """The language of a DMN document's cells and why (expressionLanguage, a FEEL typeLanguage, or neither)."""
    declared = language_named(root.get("expressionLanguage"))
    if declared is not None and declared != XPATH:
        return declared, f"expressionLanguage '{root.get('expressionLanguage')}'"
    if language_named(root.get("typeLanguage")) == FEEL:
        return FEEL, "typeLanguage FEEL"
    return PYTHON, ""


def dmn_cells(root):
    """(table, inputs, rules) per decision table; inputs and rule cells as (element, text element, Written)."""
    default, why = dmn_table_language(root)

    def written(el, text_el, kind):
        own = language_named(el.get("expressionLanguage"))
        language, reason = (own, f"expressionLanguage '{el.get('expressionLanguage')}'") \
            if own is not None and own != XPATH else (default, why)
        text = (text_el.text or "").strip() if text_el is not None else ""
        if kind == "tests" and language == JUEL:
            language = "JUEL input entries"
        return Written(language, text, kind, why=reason)

    for table in root.iter("{*}decisionTable"):
        inputs = []
        for inp in table.iterfind("{*}input"):
            expr = inp.find("{*}inputExpression")
            text_el = expr.find("{*}text") if expr is not None else None
            inputs.append((expr, text_el, written(expr, text_el, "expression") if expr is not None else None))
        rules = []
        for rule in table.iterfind("{*}rule"):
            cells = []
            for entry in rule.iterfind("{*}inputEntry"):
                text_el = entry.find("{*}text")
                cells.append((entry, text_el, written(entry, text_el, "tests")))
            for entry in rule.iterfind("{*}outputEntry"):
                text_el = entry.find("{*}text")
                cells.append((entry, text_el, written(entry, text_el, "expression")))
            rules.append((rule, cells))
        yield table, inputs, rules


def any_cell(text: str) -> bool:
    """`-` (or nothing) in an input entry matches any input."""
    return text.strip() in ("", "-")


def mark_dmn(root) -> None:
    """Tag each non-Python cell so SpiffWorkflow hands it to our engine in its language."""
    for _table, inputs, rules in dmn_cells(root):
        cells = [(el, t, w) for el, t, w in inputs if w is not None]
        for _rule, rule_cells in rules:
            cells.extend(rule_cells)
        for _el, text_el, w in cells:
            if text_el is None or w.language == PYTHON or not w.text or (w.kind == "tests" and any_cell(w.text)):
                continue
            text_el.text = w.stored()


def refusal(written: Written) -> str:
    """The message for an expression in a language onewindow does not run."""
    if written.language == XPATH:
        return "XPath expression: not supported (bpmn:getDataObject); write it in FEEL or Python"
    if written.kind == "script":
        return f"{written.language} script: not supported ({written.why}); scripts are Python"
    if written.language == INFORMAL:
        return ("informal expression (xsi:type tExpression): natural-language text cannot be evaluated; "
                "make it a tFormalExpression")
    return f"{label(written.language)} expression: not supported ({written.why}); write it in FEEL, JUEL or Python"
