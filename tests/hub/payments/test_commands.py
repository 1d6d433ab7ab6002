"""``hub finance payment-run ...`` as an operator runs it (subprocesses on an SQLite file): the run
printed and its file written, the run marked paid, clear errors."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from hub.database import create_engine, session_factory, unit_of_work
from hub.kit.clock import utcnow
from hub.offices.repository import OfficeRepository
from tests.hub.acts.factories import seed
from tests.hub.payments.factories import IBAN_FR, approved_invoice, check_pain001, control_sum_cents
from tests.hub.test_cli import hub, hub_env  # noqa: F401 - the CLI fixture


async def _approved(url: str) -> list[int]:
    engine = create_engine(url)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            office = await OfficeRepository(session).get_by_code("CJ75001")
            assert office is not None
            office.iban = IBAN_FR
            s = await seed(session, office=office)
            return [
                (await approved_invoice(session, s, 5158, 1032)).total_gross_cents,
                (await approved_invoice(session, s, 4084, 817)).total_gross_cents,
            ]
    finally:
        await engine.dispose()


def test_a_run_is_created_written_shown_and_marked_paid(hub_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    hub(hub_env, "migrate")
    hub(hub_env, "offices", "add", "CJ75001", "--name", "Étude de Paris", "--departements", "75")
    nothing = hub(hub_env, "finance", "payment-run", "create", ok=False)
    assert nothing.returncode == 1 and "error: no invoice to pay" in nothing.stderr
    amounts = asyncio.run(_approved(hub_env["HUB_DATABASE_URL"]))

    out = tmp_path / "run.xml"
    created = hub(
        hub_env, "finance", "payment-run", "create", "--execution-date", "2099-01-02", "--output", str(out)
    ).stdout
    assert (
        "2 transfer(s), 110.91 EUR, execution 2099-01-02" in created
        and f"pain.001 written to {out}" in created
    )
    assert control_sum_cents(check_pain001(out.read_bytes())) == sum(amounts) == 11091
    match = re.search(r"payment run ([0-9a-f-]{36})", created)
    assert match is not None
    run_id = match.group(1)

    # The bank pays a run on or after the day its file was written: today.
    today = utcnow().date()
    month = today.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    again = tmp_path / "again.xml"
    shown = hub(hub_env, "finance", "payment-run", "show", run_id, "--output", str(again)).stdout
    assert "CJ75001" in shown and "(approved)" in shown and again.read_bytes() == out.read_bytes()

    paid = hub(
        hub_env,
        *(
            "finance",
            "payment-run",
            "paid",
            run_id,
            "--paid-on",
            today.isoformat(),
            "--bank-reference",
            "VIR-7",
        ),
    ).stdout
    assert f"paid on {today.isoformat()} (VIR-7)" in paid and "(paid)" in paid and "(approved)" not in paid

    # The accounting journal of this month as the FEC: the payment (BQ), every entry balanced.
    fec = tmp_path / "fec.txt"
    written = hub(
        hub_env,
        *(
            "finance",
            "journal",
            "--from",
            month.isoformat(),
            "--to",
            next_month.isoformat(),
            "--format",
            "fec",
        ),
        *("--output", str(fec)),
    )
    assert f"written to {fec}" in written.stderr
    records = [line.split("|") for line in fec.read_text(encoding="utf-8").splitlines()[1:]]
    bank = [r for r in records if r[0] == "BQ" and r[4] == "512100"]
    assert sum(Decimal(r[12].replace(",", ".")) for r in bank) == Decimal("110.91")  # paid out
    assert sum(Decimal(r[11].replace(",", ".")) for r in records) == sum(
        Decimal(r[12].replace(",", ".")) for r in records
    )
