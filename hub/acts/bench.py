"""The batch import measured: an office's file of act reports on many cases, 1 % refused, applied
by ``run_batch`` as ``POST /v1/act-reports/batch`` and ``hub reports import`` apply it."""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.xml import codec
from hub.acts import batch as batches
from hub.bootstrap import inbound_processor
from hub.cases.models import Case, Creditor, Debtor
from hub.database import unit_of_work
from hub.kit.heap import settle_collector
from hub.mandates.models import Mandate
from hub.messaging.signing import ReceiptSigner
from hub.offices import service as offices
from hub.offices.models import Office
from schemas import v1
from schemas.v1 import SAMPLES_DIR


async def office_with_mandates(session: AsyncSession, cases: int) -> tuple[Office, list[str]]:
    """A new office with ``cases`` cases, each under a per-act mandate issued to it."""
    code = f"BENCH{uuid.uuid4().hex[:8].upper()}"
    office = await offices.add_office(session, code=code, name=f"Bench office {code}")
    creditor = Creditor(id=uuid.uuid4(), name=f"Bench creditor {code}")
    session.add(creditor)
    refs: list[str] = []
    for n in range(cases):
        debtor = Debtor(id=uuid.uuid4(), kind="person", name=f"Débiteur {n}", departement="75")
        case = Case(
            id=uuid.uuid4(),
            ref=f"C-{code}-{n}",
            creditor_id=creditor.id,
            debtor_id=debtor.id,
            claim_kind="consumer",
            principal_cents=250_000 + n,
            currency="EUR",
        )
        mandate = Mandate(
            id=uuid.uuid4(),
            ref=f"M-{code}-{n}",
            case_id=case.id,
            office_id=office.id,
            kind="per_act",
            acts=["SERVE_TITLE", "PAYMENT_ORDER"],
            currency="EUR",
            status="issued",
            created_by="bench@hub",
            issued_at=datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
        )
        session.add_all([debtor, case, mandate])
        refs.append(mandate.ref)
    await session.flush()
    return office, refs


def reports(
    office: str, mandate_refs: list[str], count: int, *, bad_every: int = 100
) -> Iterator[v1.ActReport]:
    """``count`` reports, round-robin over the mandates; every ``bad_every``-th one names an unknown
    mandate, so it is refused with its error."""
    base = v1.ActReport.model_validate_json((SAMPLES_DIR / "valid" / "act_report.json").read_bytes())
    for n in range(1, count + 1):
        yield base.model_copy(
            update={
                "envelope": base.envelope.model_copy(
                    update={"message_id": f"CR-{office}-{n}", "sender": office}
                ),
                "office_reference": f"A/{office}/{n}",
                "mandate_ref": "M-UNKNOWN" if n % bad_every == 0 else mandate_refs[n % len(mandate_refs)],
                "act_date": date(2026, 3, 1),
            }
        )


@dataclass(frozen=True)
class BatchRun:
    office_code: str
    seconds: float
    cpu_seconds: float  # of this process (the database server's is not in it)
    accepted: int
    refused: int


async def measure_batch(
    sessions: async_sessionmaker[AsyncSession], count: int, *, cases: int = 200
) -> BatchRun:
    """Seconds to take a file of ``count`` records for a new office (hashed, recorded, applied) as
    ``hub reports import`` does, and what it accepted and refused."""
    async with unit_of_work(sessions) as session:
        office, refs = await office_with_mandates(session, cases)
    processor = inbound_processor(ReceiptSigner("bench-" * 8))
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as folder:
        path = Path(folder) / "batch.xml"
        with path.open("wb") as sink:
            codec.write_batch(reports(office.code, refs, count), sink)
        started, cpu_started = time.perf_counter(), time.process_time()
        with path.open("rb") as stream:
            sha256 = batches.sha256_stream(stream)
        async with unit_of_work(sessions) as session:
            batch = await batches.start_batch(session, office, sha256)
        settle_collector()
        with path.open("rb") as stream:
            result = await batches.run_batch(sessions, processor, office, batch.id, stream, listed=None)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return BatchRun(office.code, seconds, cpu_seconds, result.accepted_count, len(result.refused))
