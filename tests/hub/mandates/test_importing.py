"""A fan-out of mandates from a CSV (``hub.mandates.service.importing``): a fixed number of
statements a mandate, whatever the offices, creditors and mandates already read."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.csv import CsvRow
from hub.mandates import service
from hub.mandates.models import Mandate
from hub.mandates.service import lifecycle
from tests.hub.mandates.factories import RICH, a_case, an_office


async def statements_of_an_import(
    session: AsyncSession, rows: list[CsvRow]
) -> tuple[int, service.ImportSummary]:
    sent: list[str] = []

    def count(_c: object, _cur: object, statement: str, *_: Any) -> None:
        sent.append(statement)

    engine = session.bind.sync_engine  # type: ignore[union-attr]
    event.listen(engine, "before_cursor_execute", count)
    try:
        summary = await service.import_rows(session, rows, actor="test")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(sent), summary


async def test_a_fan_out_sends_a_fixed_number_of_statements_a_mandate(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As ``hub mandates import`` runs: the learned rates read once (here, before counting), not once
    # a mandate.
    monkeypatch.setattr(lifecycle.RATES, "max_age", 3600.0)
    await lifecycle.recent_learned_rates(session)
    offices = [(await an_office(session)).code for _ in range(3)]
    cases = [(await a_case(session, **RICH)).ref for _ in range(15)]

    def rows(refs: list[str]) -> list[CsvRow]:
        return [
            CsvRow(
                line,
                {
                    "case_ref": ref,
                    "office_code": offices[line % 3],
                    "kind": "per_act",
                    "acts": ["SERVE_TITLE"],
                },
            )
            for line, ref in enumerate(refs, start=2)
        ]

    few, done_few = await statements_of_an_import(session, rows(cases[:5]))
    many, done_many = await statements_of_an_import(session, rows(cases[5:]))
    assert (done_few.imported, done_few.held, done_few.rejected) == (5, 0, {})
    assert (done_many.imported, done_many.held, done_many.rejected) == (10, 0, {})
    # Each chunk reads its offices once; a mandate: its savepoint and release, its case with its
    # creditor and debtor (locked), then in one statement its ref, the debtor's acts and mandates,
    # the case's ledger and direct payments (SQLite: a statement each), the mandate and its two
    # steps (SQLite: a statement each), its case's key (given, or read, in one statement; SQLite:
    # read, then given), the message, its step and its outbox row. Was 20 on PostgreSQL (the ref
    # read twice; the creditor, the debtor, its lock, the office and the key's read each a
    # statement of their own), then 14 (the ref and the four reads after the lock apart).
    per_mandate = 10 if session.bind.dialect.name == "postgresql" else 16  # type: ignore[union-attr]
    assert (few, many) == (1 + 5 * per_mandate, 1 + 10 * per_mandate)
    issued = await session.scalars(select(Mandate.status).where(Mandate.created_by == "test"))
    assert sorted(issued) == ["issued"] * 15

    # The same rows again: found imported (their ref checked once their debtor is locked), none twice.
    _, done_again = await statements_of_an_import(session, rows(cases[:5]))
    assert (done_again.imported, done_again.already, done_again.rejected) == (0, 5, {})
