"""Mandate fan-out: a CSV of mandates over the run's offices (50 at ci and full size), imported as
``hub mandates import`` does (a transaction per 100 rows, each row through the rules and the
outbox). The cases are imported first, untimed."""

from __future__ import annotations

import tempfile
import time
import uuid
from itertools import islice
from pathlib import Path
from typing import Any

from hub.bench import Bench, Row, in_child, measured

CASES_HEADER = (
    "ref,creditor.name,debtor.kind,debtor.name,debtor.address.departement,claim.principal_cents,"
    "claim_kind,title.kind,title.issued_on,evidence.bank_balance_cents,"
    "debtor.address.line1,debtor.address.postcode,debtor.address.city\n"
)


async def fan_out(url: str, office_count: int, mandate_count: int) -> dict[str, Any]:
    from adapters.csv import read_rows
    from hub.cases import service as cases
    from hub.database import create_engine, session_factory, unit_of_work
    from hub.mandates import service as mandates
    from hub.mandates.commands import CHUNK
    from hub.mandates.service import lifecycle
    from hub.offices import service as offices
    from hub.settings import get_settings

    lifecycle.RATES.configure(get_settings().learned_rates_seconds)  # as hub mandates import does
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        run = uuid.uuid4().hex[:5].upper()
        codes = [f"FAN{run}{n:03d}" for n in range(office_count)]
        async with unit_of_work(sessions) as session:
            for code in codes:
                await offices.add_office(session, code=code, name=f"Étude {code}", departements=["75"])
        with tempfile.TemporaryDirectory(prefix="hub-bench-") as folder:
            cases_csv, mandates_csv = Path(folder) / "cases.csv", Path(folder) / "mandates.csv"
            cases_csv.write_text(
                CASES_HEADER
                + "".join(
                    f"C-{run}-{n},Banque,person,Débiteur {n},75,500000,consumer,judgment,2025-01-02,2000000,"
                    f"{n} rue A,75011,Paris\n"
                    for n in range(mandate_count)
                ),
                encoding="utf-8",
            )
            mandates_csv.write_text(
                "case_ref,office_code,kind,acts[],fee_budget_cents\n"
                + "".join(
                    f"C-{run}-{n},{codes[n % office_count]},per_act,SERVE_TITLE,\n"
                    for n in range(mandate_count)
                ),
                encoding="utf-8",
            )
            async with unit_of_work(sessions) as session:
                await cases.import_rows(session, read_rows(cases_csv))
            summary = mandates.ImportSummary()
            rows = read_rows(mandates_csv)
            started = time.perf_counter()
            while part := list(islice(rows, CHUNK)):
                async with unit_of_work(sessions) as session:
                    await mandates.import_rows(session, part, actor="bench", summary=summary)
            seconds = time.perf_counter() - started
    finally:
        await engine.dispose()
    note = f"{summary.imported:,} imported ({summary.held:,} held), {len(summary.rejected):,} rejected"
    return {"count": mandate_count, "seconds": seconds, "note": note}


async def group(bench: Bench) -> list[Row]:
    scale = bench.scale
    async with bench.database() as url:
        result, rss = await in_child("hub.bench.fanout:fan_out", url, scale.offices, scale.mandates)
    return [
        measured(
            "fanout",
            f"mandates from a CSV to {scale.offices} offices",
            "mandate/s",
            result,
            engine=bench.engine,
            peak_rss_mb=rss,
            process="bench child",
            raw="pg-transactions",
            note="ratio: mandates per single-row transaction",
        )
    ]
