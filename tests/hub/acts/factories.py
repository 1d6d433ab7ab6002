"""Rows and messages for the act report tests: an office with a case and a mandate, and reports."""

from __future__ import annotations

import copy
import io
import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.xml import codec
from hub.cases.models import Case, Creditor, Debtor
from hub.mandates.models import Mandate
from hub.offices import service as offices
from hub.offices.models import Office
from schemas import v1
from schemas.v1 import SAMPLES_DIR

SAMPLE: dict[str, Any] = json.loads((SAMPLES_DIR / "valid" / "act_report.json").read_text())
ISSUED_AT = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


@dataclass
class Seeded:
    office: Office
    case: Case
    mandate: Mandate


def office_code() -> str:
    return "CJ" + secrets.token_hex(4).upper()


async def seed(
    session: AsyncSession,
    *,
    code: str | None = None,
    kind: str = "per_act",
    acts: list[str] | None = None,
    status: str = "issued",
    office: Office | None = None,
) -> Seeded:
    """An office (``office``, or a new one) with one case and one mandate issued to it, flushed."""
    code = office.code if office is not None else code or office_code()
    if office is None:
        office = await offices.add_office(session, code=code, name=f"Étude {code}")
    creditor = Creditor(id=uuid.uuid4(), name=f"Banque {code} {secrets.token_hex(3)}")
    debtor = Debtor(id=uuid.uuid4(), kind="person", name="Jean Dupont", departement="75")
    case = Case(
        id=uuid.uuid4(),
        ref=f"C-{code}-{secrets.token_hex(3)}",
        creditor_id=creditor.id,
        debtor_id=debtor.id,
        claim_kind="consumer",
        principal_cents=250_000,
        currency="EUR",
    )
    mandate = Mandate(
        id=uuid.uuid4(),
        ref=f"M-{code}-{secrets.token_hex(3)}",
        case_id=case.id,
        office_id=office.id,
        kind=kind,
        acts=["SERVE_TITLE", "PAYMENT_ORDER"] if acts is None else acts,
        currency="EUR",
        status=status,
        created_by="agent@agence.example",
        issued_at=ISSUED_AT,
    )
    session.add_all([creditor, debtor])
    await session.flush()
    session.add(case)
    await session.flush()
    session.add(mandate)
    await session.flush()
    return Seeded(office, case, mandate)


def report(office: str, mandate_ref: str, n: int | str = 1, **changes: Any) -> dict[str, Any]:
    """The sample act report, sent by ``office`` under ``mandate_ref``, numbered ``n``."""
    data = copy.deepcopy(SAMPLE)
    data["envelope"]["message_id"] = f"CR-{office}-{n}"
    data["envelope"]["sender"] = office
    data["mandate_ref"] = mandate_ref
    data["office_reference"] = f"A/{office}/{n}"
    for key, value in changes.items():
        data[key] = value
    return data


def report_json(office: str, mandate_ref: str, n: int | str = 1, **changes: Any) -> bytes:
    return json.dumps(report(office, mandate_ref, n, **changes)).encode()


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


def batch_reports(
    office: str, mandate_ref: str, count: int, *, bad_every: int = 100
) -> Iterator[v1.ActReport]:
    """``count`` reports; every ``bad_every``-th one is refused for its meaning (alternately an
    unknown mandate and a date in the future)."""
    base = v1.ActReport.model_validate_json(json.dumps(report(office, mandate_ref)))
    for n in range(1, count + 1):
        changes: dict[str, Any] = {
            "envelope": base.envelope.model_copy(update={"message_id": f"CR-{office}-{n}"}),
            "office_reference": f"A/{office}/{n}",
        }
        if n % bad_every == 0:
            if (n // bad_every) % 2:
                changes["mandate_ref"] = "M-UNKNOWN"
            else:
                changes["act_date"] = date(2099, 1, 1)
        yield base.model_copy(update=changes)


def write_batch_file(path: Path, office: str, mandate_ref: str, count: int, *, bad_every: int = 100) -> None:
    with path.open("wb") as sink:
        codec.write_batch(batch_reports(office, mandate_ref, count, bad_every=bad_every), sink)


def renumbered_batch(office: str, mandate_ref: str, count: int, *, numbered: Callable[[int], str]) -> bytes:
    """A batch file of ``count`` reports whose message ids and office references end with
    ``numbered(n)`` (n from 0), apart from the numbers other reports of a test use."""
    renumbered = (
        r.model_copy(
            update={
                "envelope": r.envelope.model_copy(update={"message_id": f"CR-{office}-{numbered(n)}"}),
                "office_reference": f"A/{office}/{numbered(n)}",
            }
        )
        for n, r in enumerate(batch_reports(office, mandate_ref, count))
    )
    sink = io.BytesIO()
    codec.write_batch(renumbered, sink)
    return sink.getvalue()
