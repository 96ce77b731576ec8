"""DMN input cells as the engine evaluates them, and why a cell cannot work (checked at deploy).

SpiffWorkflow turns a cell into one Python expression: with `?` the cell is the expression (`?`
is the input); a cell that parses on its own is compared for equality, `(input) == (cell)`;
otherwise the cell is appended to the input (`> 10000` → `input > 10000`). An appended cell that
is not a comparison (`>> 10000`, `+ 5`) computes a number instead of a test, and a cell that
compares a numeric column with text (or a text column with `<` against a number) fails or never
matches at run time; both are refused with what to write instead.
"""

from __future__ import annotations

import ast
import re

INPUT_NAME = "dmninputexpr"
# the same replacement the engine makes: `?` outside quotes becomes the input
_QUESTION = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")
_NUMERIC = frozenset({"integer", "int", "long", "double", "number", "float", "decimal"})
_TEXT = frozenset({"string", "str"})
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _parses(source: str) -> bool:
    try:
        ast.parse(source, mode="eval")
    except SyntaxError:
        return False
    return True


def dmn_cell_expression(input_expression: str, cell: str) -> str | None:
    """The Python expression the engine evaluates for `cell`, or None when it cannot parse."""
    text = cell.strip()
    replaced = _QUESTION.sub(INPUT_NAME, text)
    if INPUT_NAME in replaced:
        return replaced if _parses(replaced) else None
    if _parses(text):
        return f"({input_expression}) == ({text})"
    combined = f"{input_expression} {text}"
    return combined if _parses(combined) else None


def _is_input(node: ast.AST, input_dump: str) -> bool:
    return (isinstance(node, ast.Name) and node.id == INPUT_NAME) or ast.dump(node) == input_dump


def dmn_cell_problem(source: str, cell: str, type_ref: str) -> str | None:
    """Why the cell's expression `source` cannot be a working test of a `type_ref` column."""
    tree = ast.parse(source, mode="eval").body
    text = cell.strip()
    if isinstance(tree, (ast.BinOp, ast.JoinedStr)) or (
        isinstance(tree, ast.Constant) and not isinstance(tree.value, bool)
    ):
        return (
            "it computes a value instead of testing the input; write a comparison such as "
            f"'>= {text.lstrip('<>=!*/+-%&|^~ ')}' or a plain value to compare with"
        )
    kind = type_ref.strip().lower()
    if kind not in _NUMERIC and kind not in _TEXT:
        return None
    first = tree.left if isinstance(tree, ast.Compare) else None
    input_dump = ast.dump(first) if first is not None and not isinstance(first, ast.Constant) else ""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
            if isinstance(op, (ast.In, ast.NotIn)):
                continue
            pair = (left, right) if isinstance(right, ast.Constant) else (right, left)
            other, constant = pair
            if not isinstance(constant, ast.Constant) or not _is_input(other, input_dump):
                continue
            value = constant.value
            if kind in _NUMERIC and isinstance(value, str):
                return f"the column is {type_ref} but the cell compares it with the text {value!r}"
            if (
                kind in _TEXT
                and isinstance(op, _ORDERING)
                and isinstance(value, (int, float))
                and not isinstance(value, bool)
            ):
                return f"the column is {type_ref} but the cell orders it against the number {value!r}"
    return None
