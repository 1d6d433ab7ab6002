"""One act report sends the statements the README's table "One act report, statement by statement"
lists, on each engine, in its order: the count is fixed (nothing counted over the tables), and
the README cannot drift from the code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from hub.database import unit_of_work
from hub.offices import service as offices
from tests.hub.acts.factories import bearer, report_json, seed

README = Path(__file__).resolve().parents[3] / "README.md"
SECTION = "## One act report, statement by statement"


def signature(statement: str) -> str:
    """What the README names a statement by: its verb and its main table."""
    words = statement.split()
    if words[0] == "WITH" and "INSERT INTO" in statement:
        # Rows of several tables in one statement, a data-modifying CTE each: the tables written.
        return "INSERT " + ", ".join(re.findall(r"INSERT INTO (\w+)", statement))
    if words[0] == "WITH" and "pg_advisory_xact_lock" in statement:
        # Rows locked in a CTE, then advisory locks: the CTE's table, then the locks.
        return f"SELECT {main_table(statement[statement.index('(') + 1 :])}, pg_advisory_xact_lock"
    if words[0] in ("INSERT", "UPDATE", "DELETE"):
        return f"{words[0]} {words[2] if words[0] != 'UPDATE' else words[1]}"
    if words[0] != "SELECT":
        return " ".join(words[:2])
    if "pg_advisory_xact_lock" in statement:
        return "SELECT pg_advisory_xact_lock"
    if not own_from(statement):
        # Reads folded into one statement, each a subquery of its column list: the tables they read.
        tables = dict.fromkeys(main_table(sub) for sub in column_subqueries(statement))
        return f"SELECT {', '.join(tables)}"
    return f"SELECT {main_table(statement)}"


def own_from(select: str) -> bool:
    """Whether the SELECT has a FROM of its own (not only in subqueries)."""
    depth = 0
    for at, char in enumerate(select):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and re.match(r"\bFROM\b", select[at:]) and (at == 0 or not select[at - 1].isalnum()):
            return True
    return False


def column_subqueries(select: str) -> Iterator[str]:
    """The subqueries of a SELECT's column list (``array((SELECT ...))``), in order."""
    depth = 0
    for at, char in enumerate(select):
        if char == "(" and depth <= 1 and select[at + 1 :].startswith("SELECT"):
            yield select[at + 1 :]
        depth += {"(": 1, ")": -1}.get(char, 0)


def main_table(select: str) -> str:
    """The table of the SELECT's own FROM: not one of a subquery in its column list; the derived
    table's own when it reads from one (``FROM (SELECT ... FROM act_reports) AS anon_1``); the
    lateral subquery's when it reads from a table-valued function joined to one (``FROM
    unnest(...) AS wanted(id) JOIN LATERAL (SELECT ... FROM act_reports)``)."""
    depth = 0
    for at, char in enumerate(select):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and re.match(r"\bFROM\b", select[at:]) and (at == 0 or not select[at - 1].isalnum()):
            rest = select[at + 4 :].lstrip()
            if rest.startswith("("):
                return main_table(rest[1:])
            found = re.match(r"(\w+)", rest)
            assert found is not None, select
            lateral = rest.find("JOIN LATERAL (")
            if rest[found.end() :].startswith("(") and lateral >= 0:
                return main_table(rest[lateral + len("JOIN LATERAL (") :])
            return found.group(1)
    raise AssertionError(f"no FROM in {select}")


def readme_rows(engine: str) -> Iterator[tuple[str, int]]:
    """(statement, how many) of each row of the README's table for ``engine``, then ("total", n)."""
    text = README.read_text()
    table = text[text.index(SECTION) :].split("\n\n")[2]
    header, _, *rows = table.splitlines()
    column = [c.strip() for c in header.strip("|").split("|")].index(engine)
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        count = cells[column].strip("*")
        if count == "—":
            continue
        yield cells[1].strip("`*"), int(count)


async def test_one_act_report_sends_the_statements_the_readme_lists(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with unit_of_work(app.state.sessions) as session:
        s = await seed(session, kind="whole_file")
        key = (await offices.create_key(session, s.office.code)).secret
    headers = bearer(key, **{"Content-Type": "application/json"})
    # The first one puts the mandate in progress and checks the key.
    first = await client.post(
        "/v1/act-reports", content=report_json(s.office.code, s.mandate.ref, 1), headers=headers
    )
    assert first.status_code == 202, first.text

    sent: list[str] = []
    listen = event.listens_for(app.state.engine.sync_engine, "before_cursor_execute")
    listen(lambda _c, _cur, statement, *_: sent.append(signature(statement)))
    second = await client.post(
        "/v1/act-reports", content=report_json(s.office.code, s.mandate.ref, 2), headers=headers
    )
    assert second.status_code == 202, second.text

    engine = "PostgreSQL" if app.state.engine.dialect.name == "postgresql" else "SQLite"
    rows = list(readme_rows(engine))
    assert rows[-1][0] == "total"
    listed = [name for name, count in rows[:-1] for _ in range(count)]
    assert sent == listed, f"README ({engine}) lists {listed}, the code sends {sent}"
    assert len(sent) == rows[-1][1]
