"""Inventory reconciliation: an office states the mandates it holds open (with the money it says it
collected and the fees it claimed under each); the hub answers every difference with its own view
and keeps that answer as the office's last. Takes a session, never commits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.inventory import compare
from hub.inventory.models import InventoryResult
from hub.inventory.repository import InventoryRepository
from hub.kit.clock import utcnow
from hub.kit.errors import ErrorItem, InvalidInput, NotFound
from hub.offices.models import Office
from hub.offices.repository import OfficeRepository


def _no_duplicates(listed: Sequence[compare.Listed]) -> None:
    seen = Counter(item.ref for item in listed)
    errors = [
        ErrorItem(
            f"/mandates/{n}/ref",
            "inventory.ref_repeated",
            f"mandate {item.ref} is listed {seen[item.ref]} times",
        )
        for n, item in enumerate(listed)
        if seen[item.ref] > 1
    ]
    if errors:
        raise InvalidInput(
            f"{len(errors)} line(s) repeat a mandate; list each mandate once",
            code=errors[0].code,
            errors=errors,
        )


async def reconcile(
    session: AsyncSession, office: Office, listed: Sequence[compare.Listed]
) -> dict[str, Any]:
    """The differences between ``office``'s list and the hub's view, kept as its last result."""
    _no_duplicates(listed)
    repo = InventoryRepository(session)
    mandates = await repo.mandates(office.id, compare.OPEN_HERE, {item.ref for item in listed})
    money = await repo.money_per_mandate(
        office.id, [m.id for m in mandates], {m.id: m.currency for m in mandates}
    )
    known = {m.ref: compare.Known(m.ref, m.status, *money[m.id]) for m in mandates}
    found = compare.differences(listed, known)
    received_at = utcnow()
    result = {
        "office_code": office.code,
        "received_at": received_at.isoformat(),
        **compare.summary(listed, known, found),
        "items": [d.as_dict() for d in found],
    }
    await repo.keep(
        InventoryResult(
            office_id=office.id,
            received_at=received_at,
            listed=len(listed),
            differences=len(found),
            result=result,
            inventory=[
                {
                    "ref": i.ref,
                    "status": i.status,
                    "collected_cents": i.collected_cents,
                    "fees_cents": i.fees_cents,
                }
                for i in listed
            ],
        )
    )
    return result


async def last_result(session: AsyncSession, office: Office) -> dict[str, Any]:
    kept = await InventoryRepository(session).last(office.id)
    if kept is None:
        raise NotFound(f"office {office.code} has not sent an inventory yet", code="inventory.not_found")
    return kept.result


async def last_result_of(session: AsyncSession, office_code: str) -> dict[str, Any]:
    office = await OfficeRepository(session).get_by_code(office_code)
    if office is None:
        raise NotFound(f"no office {office_code}", code="office.not_found")
    return await last_result(session, office)
