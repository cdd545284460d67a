"""The storage modules' SQL keeps to standard forms that PostgreSQL takes too (DESIGN.md,
"Storage"), where SQLite has them: a later backend must not meet SQLite's shortcuts."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

STORAGE = Path(__file__).resolve().parent.parent / "storage"
SQL_START = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b|\b(FROM|WHERE|SET|VALUES)\b")
# SQLite's shortcuts that have a standard form, and that form.
SHORTCUTS = {
    r"\bINSERT OR (IGNORE|REPLACE)\b": "INSERT ... ON CONFLICT DO NOTHING / DO UPDATE",
    r"\bIS (NOT )?(\?|:\w+|excluded\.|[a-z_]+\.[a-z_]+)": "IS [NOT] DISTINCT FROM",
    r"\b(MAX|MIN)\([^()]*,[^()]*\)": "CASE (a scalar MAX/MIN of two values is SQLite's)",
    r"\bdatetime\(": "a moment computed in Python and compared as the stored text",
}
SHORTCUTS_OF = {"IS": next(p for p in SHORTCUTS if "IS (NOT" in p),
                "MAX": next(p for p in SHORTCUTS if "MAX" in p)}  # fmt: skip
# What may follow a derived table's closing parenthesis: its name.
KEYWORDS = {"WHERE", "ORDER", "GROUP", "JOIN", "LEFT", "UNION", "LIMIT", "ON", "RETURNING"}


def sql_texts(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module that read as SQL (an f-string's holes as ``?``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(
                str(v.value) if isinstance(v, ast.Constant) else "?" for v in node.values
            )
        else:
            continue
        if SQL_START.search(text) and text.upper() != text.lower():
            found.append((node.lineno, text))
    return found


def unnamed_derived_tables(sql: str) -> list[str]:
    """The subqueries in FROM or JOIN that have no name after them."""
    unnamed = []
    for m in re.finditer(r"\b(FROM|JOIN)\s*\(\s*SELECT\b", sql):
        depth, i = 0, m.end() - len("SELECT") - 1
        while i < len(sql):
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            if depth == 0:
                break
            i += 1
        after = sql[i + 1 :].split()
        if not after or after[0].rstrip(",)") == "" or after[0].upper() in KEYWORDS:
            unnamed.append(sql[m.start() : i + 1])
    return unnamed


MODULES = sorted(STORAGE.glob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=[m.stem for m in MODULES])
def test_storage_sql_has_no_sqlite_shortcut_with_a_standard_form(module: Path) -> None:
    problems = [
        f"{module.name}:{line}: {hint}: {sql.strip()[:120]}"
        for line, sql in sql_texts(module)
        for pattern, hint in SHORTCUTS.items()
        if re.search(pattern, sql)
    ]
    problems += [
        f"{module.name}:{line}: a subquery in FROM needs a name: {table[:120]}"
        for line, sql in sql_texts(module)
        for table in unnamed_derived_tables(sql)
    ]
    assert problems == []


def test_the_checks_find_what_they_look_for() -> None:
    assert unnamed_derived_tables("SELECT x FROM (SELECT 1 AS x) WHERE x = 1")
    assert unnamed_derived_tables("SELECT n FROM (SELECT max(a) AS n FROM t)")
    assert not unnamed_derived_tables("SELECT n FROM (SELECT max(a) AS n FROM t) AS next_n")
    assert not unnamed_derived_tables("SELECT x FROM (SELECT 1) one LEFT JOIN t")
    assert re.search(SHORTCUTS_OF["IS"], "WHERE a IS ? AND b = 1")
    assert not re.search(SHORTCUTS_OF["IS"], "WHERE a IS NULL OR a IS NOT DISTINCT FROM ?")
    assert re.search(SHORTCUTS_OF["MAX"], "SET remind = MAX(remind, excluded.remind)")
    assert not re.search(SHORTCUTS_OF["MAX"], "SELECT MAX(position) FROM t")
