"""Decision tables whose cells are FEEL (or JUEL), evaluated by SpiffWorkflow's DMN engine.

SpiffWorkflow reads every cell as Python: it checks output entries with `ast.parse` and turns an input
entry into `(input) == (entry)` or `input + entry`. For a table in another language the parser tags each
cell with its language (expressions.dialect.mark_dmn); `CellParser` keeps tagged output entries as they
are, and `TableEngine` tests a tagged input entry as FEEL unary tests against the input's value, which
the sandbox evaluates. Untagged (Python) cells take the library's own path unchanged.
"""
from __future__ import annotations

from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.parser.DMNParser import DMNParser
from SpiffWorkflow.dmn.specs.model import OutputEntry

from .expressions import TESTS, untag

INPUT = "?"  # the name FEEL unary tests read the input value by


class CellParser(DMNParser):
    """DMNParser that does not parse a tagged (non-Python) output entry as Python."""

    def _parse_input_output_element(self, decision_table, element, cls, idx):
        if cls is OutputEntry and untag(_text_of(element)) is not None:
            entry = cls(element.attrib["id"], decision_table.outputs[idx])
            for child in element:
                if child.tag.endswith("description"):
                    entry.description = child.text
                elif child.tag.endswith("text"):
                    entry.text = child.text
            return entry
        return super()._parse_input_output_element(decision_table, element, cls, idx)


def _text_of(element) -> str:
    for child in element:
        if isinstance(child.tag, str) and child.tag.endswith("text"):
            return child.text or ""
    return ""


class TableEngine(DMNEngine):
    """DMNEngine that tests FEEL input entries as unary tests; Python entries go the library's way."""

    def evaluate(self, input_expr, match_expr, task):
        tagged = untag(match_expr)
        if tagged is None or tagged[0] != TESTS:
            return super().evaluate(input_expr, match_expr, task)
        script_engine = task.workflow.script_engine
        value = script_engine.evaluate(task, input_expr)
        return script_engine.evaluate(task, match_expr, external_context={INPUT: value}) is True
