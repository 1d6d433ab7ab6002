"""Demo data for the embedded first run: a few offices, creditors and cases.

Idempotent: each object is looked up by its natural key first, so a second run adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case, ClaimKind, Creditor, Debtor, DebtorKind
from hub.cases.repository import CaseRepository
from hub.offices import service as offices
from hub.offices.models import DeliveryChannel
from hub.offices.repository import OfficeRepository

DEMO_OFFICES = [
    (
        "CJ75001",
        "SCP Martin & Associés, Commissaires de justice",
        ["75", "92", "93", "94"],
        DeliveryChannel.PULL,
    ),
    ("CJ69001", "Étude Girard Commissaires de justice", ["69", "01", "42"], DeliveryChannel.WEBHOOK),
    ("CJ13001", "SELARL Provence Exécution", ["13", "83", "84"], DeliveryChannel.PULL),
]
DEMO_CREDITORS = ["Banque Exemple SA", "Télécom Démo SAS"]
# ref, creditor, debtor (kind, name, line1, postcode, city, dep), claim kind, principal, interest, title
DEMO_CASES = [
    ("D-2026-0001", 0, ("person", "Jean Dupont", "12 rue des Lilas", "75011", "Paris", "75"), "consumer",
     184_250, 9_120, ("injunction", date(2025, 11, 4), date(2025, 12, 1))),
    ("D-2026-0002", 1, ("person", "Amina Benali", "3 allée des Pins", "69008", "Lyon", "69"), "consumer",
     9_990, 0, None),
    ("D-2026-0003", 0, ("company", "Boulangerie du Port SARL", "1 quai du Port", "13007", "Marseille", "13"),
     "commercial", 1_250_000, 48_300, ("judgment", date(2024, 6, 18), date(2024, 7, 2))),
]  # fmt: skip


@dataclass
class DemoSummary:
    offices: int = 0
    creditors: int = 0
    cases: int = 0


async def load_demo(session: AsyncSession) -> DemoSummary:
    added = DemoSummary()
    office_repo = OfficeRepository(session)
    for code, name, departements, channel in DEMO_OFFICES:
        if await office_repo.get_by_code(code) is None:
            await offices.add_office(
                session, code=code, name=name, departements=departements, delivery_channel=channel
            )
            added.offices += 1

    repo = CaseRepository(session)
    creditors: list[Creditor] = []
    for name in DEMO_CREDITORS:
        creditor = await repo.creditor_by_name(name)
        if creditor is None:
            creditor = Creditor(name=name)
            await repo.add(creditor)
            added.creditors += 1
        creditors.append(creditor)

    for ref, creditor_index, debtor, claim_kind, principal, interest, title in DEMO_CASES:
        if await repo.get_by_ref(ref) is not None:
            continue
        kind, name, line1, postcode, city, dep = debtor
        debtor_row = Debtor(
            kind=DebtorKind(kind).value,
            name=name,
            address_line1=line1,
            postcode=postcode,
            city=city,
            departement=dep,
        )
        await repo.add(debtor_row)
        title_kind, issued_on, served_on = title or (None, None, None)
        await repo.add(
            Case(
                ref=ref,
                creditor_id=creditors[creditor_index].id,
                debtor_id=debtor_row.id,
                claim_kind=ClaimKind(claim_kind).value,
                principal_cents=principal,
                interest_cents=interest,
                title_kind=title_kind,
                title_issued_on=issued_on,
                title_served_on=served_on,
            )
        )
        added.cases += 1
    return added
