"""Rows the ledger's entries refer to: offices, creditors and their cases."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case, Creditor, Debtor
from hub.offices.models import Office


async def add_offices(session: AsyncSession, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    codes = [f"LG{secrets.token_hex(5).upper()}" for _ in ids]
    await session.execute(
        insert(Office), [{"id": i, "code": c, "name": f"Étude {c}"} for i, c in zip(ids, codes, strict=True)]
    )
    return ids


async def add_creditors_with_cases(
    session: AsyncSession, cases_per_creditor: list[int]
) -> dict[uuid.UUID, uuid.UUID]:
    """One creditor per item of ``cases_per_creditor``, with that many cases: case id -> creditor id."""
    creditors = [uuid.uuid4() for _ in cases_per_creditor]
    await session.execute(
        insert(Creditor), [{"id": c, "name": f"Créancier {secrets.token_hex(6)}"} for c in creditors]
    )
    debtor = uuid.uuid4()
    await session.execute(insert(Debtor), [{"id": debtor, "kind": "person", "name": "Jean Dupont"}])
    owners = {
        uuid.uuid4(): creditor
        for creditor, n in zip(creditors, cases_per_creditor, strict=True)
        for _ in range(n)
    }
    await session.execute(
        insert(Case),
        [
            {
                "id": case,
                "ref": f"C-LG-{secrets.token_hex(6)}",
                "creditor_id": creditor,
                "debtor_id": debtor,
                "claim_kind": "consumer",
                "principal_cents": 100_000,
            }
            for case, creditor in owners.items()
        ],
    )
    return owners
