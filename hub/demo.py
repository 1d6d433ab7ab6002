"""Demo data for the embedded first run: a few offices, creditors and cases.

Idempotent: each object is looked up by its natural key first, so a second run adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases import service as cases
from hub.cases.repository import CaseRepository
from hub.cases.service import CaseIn
from hub.console import service as console
from hub.kit.errors import InvalidInput
from hub.kit.http import validation_errors
from hub.offices import service as offices
from hub.offices.models import DeliveryChannel
from hub.offices.repository import OfficeRepository
from hub.settings import get_settings
from hub.staff import service as staff
from hub.staff.models import Role
from hub.staff.repository import StaffRepository


@dataclass(frozen=True)
class DemoOffice:
    code: str
    name: str
    departements: list[str]
    channel: DeliveryChannel
    # Made up, but valid (Luhn, IBAN check digits and RIB key): the demo offices can invoice.
    siret: str
    iban: str
    bic: str


DEMO_OFFICES = [
    DemoOffice(
        "CJ75001",
        "SCP Martin & Associés, Commissaires de justice",
        ["75", "92", "93", "94"],
        DeliveryChannel.PULL,
        siret="75200190900015",
        iban="FR7630004008200001012340185",
        bic="BNPAFRPP",
    ),
    DemoOffice(
        "CJ69001",
        "Étude Girard Commissaires de justice",
        ["69", "01", "42"],
        DeliveryChannel.WEBHOOK,
        siret="69200345200012",
        iban="FR7610278073000002034560140",
        bic="CMCIFR2A",
    ),
    DemoOffice(
        "CJ13001",
        "SELARL Provence Exécution",
        ["13", "83", "84"],
        DeliveryChannel.PULL,
        siret="13200567900015",
        iban="FR7613807000100802123456756",
        bic="CCBPFRPPMAR",
    ),
]
DEMO_CREDITORS = ["Banque Exemple SA", "Télécom Démo SAS"]
# What staff would send to POST /v1/cases, opened through the same use case and its checks.
DEMO_CASES: list[dict[str, Any]] = [
    {
        "ref": "D-2026-0001",
        "creditor": {"name": DEMO_CREDITORS[0]},
        "debtor": {
            "kind": "person",
            "name": "Jean Dupont",
            "address": {
                "line1": "12 rue des Lilas",
                "postcode": "75011",
                "city": "Paris",
                "departement": "75",
            },
        },
        "claim": {"principal_cents": 184_250, "interest_cents": 9_120},
        "claim_kind": "consumer",
        # "Ordonnance portant injonction de payer": the title kind payment_order.
        "title": {"kind": "payment_order", "issued_on": "2025-11-04", "served_on": "2025-12-01"},
        # A known account, seen on a date: the cost flag weighs evidence by its age.
        "evidence": {"bank_balance_cents": 320_000, "bank_balance_seen_on": "2026-11-20"},
    },
    {
        "ref": "D-2026-0002",
        "creditor": {"name": DEMO_CREDITORS[1]},
        "debtor": {
            "kind": "person",
            "name": "Amina Benali",
            "address": {
                "line1": "3 allée des Pins",
                "postcode": "69008",
                "city": "Lyon",
                "departement": "69",
            },
        },
        "claim": {"principal_cents": 9_990},
        "claim_kind": "consumer",
    },
    {
        "ref": "D-2026-0003",
        "creditor": {"name": DEMO_CREDITORS[0]},
        "debtor": {
            "kind": "company",
            "name": "Boulangerie du Port SARL",
            "address": {
                "line1": "1 quai du Port",
                "postcode": "13007",
                "city": "Marseille",
                "departement": "13",
            },
        },
        "claim": {"principal_cents": 1_250_000, "interest_cents": 48_300},
        "claim_kind": "commercial",
        "title": {"kind": "judgment", "issued_on": "2024-06-18", "served_on": "2024-07-02"},
        # A visit found nothing seizable: the flag counts less from goods, fading over two years.
        "evidence": {"last_no_goods_report_on": "2026-09-15"},
    },
]


# The console's demo account (hub/console): an admin, sees every page. Its password is public:
# the account is made only outside production.
DEMO_STAFF_EMAIL = "demo@agence.example"
DEMO_STAFF_PASSWORD = "demo-console-2026"  # noqa: S105 - printed by `hub demo`, for the demo only


@dataclass
class DemoSummary:
    offices: int = 0
    creditors: int = 0
    cases: int = 0
    staff_email: str = DEMO_STAFF_EMAIL
    staff_password: str | None = None  # set when the demo account exists (or was just made)


async def load_demo(session: AsyncSession) -> DemoSummary:
    """Adds what is missing of the demo data through the use cases a user's calls go through
    (``hub offices add``, ``POST /v1/cases``), with their checks: invalid demo data cannot load."""
    added = DemoSummary()
    office_repo = OfficeRepository(session)
    for demo in DEMO_OFFICES:
        if await office_repo.get_by_code(demo.code) is None:
            await offices.add_office(
                session,
                code=demo.code,
                name=demo.name,
                departements=demo.departements,
                delivery_channel=demo.channel,
                siret=demo.siret,
                iban=demo.iban,
                bic=demo.bic,
            )
            added.offices += 1

    repo = CaseRepository(session)
    for name in DEMO_CREDITORS:
        if await repo.creditor_by_name(name) is None:
            added.creditors += 1
    for body in DEMO_CASES:
        if await repo.get_by_ref(body["ref"]) is not None:
            continue
        try:
            data = CaseIn.model_validate(body)
        except ValidationError as exc:
            raise InvalidInput(
                f"demo case {body['ref']} is not valid", errors=validation_errors(list(exc.errors()))
            ) from exc
        await cases.create_case(session, data)
        added.cases += 1
    if get_settings().env != "production":
        user = await StaffRepository(session).by_email(DEMO_STAFF_EMAIL)
        if user is None:
            user, _ = await staff.add_staff(session, DEMO_STAFF_EMAIL, Role.ADMIN)
            user.password_hash = console.hash_password(DEMO_STAFF_PASSWORD)
        if user.password_hash is not None and console.password_matches(
            user.password_hash, DEMO_STAFF_PASSWORD
        ):
            added.staff_password = DEMO_STAFF_PASSWORD
    return added
