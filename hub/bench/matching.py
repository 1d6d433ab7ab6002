"""The three-way match of fee invoice lines (``hub.invoices.matching.match_lines``): each line
against the act report it names and the tariff of the act's date, on facts made up here, with one
line in fifty billing above the tariff and one in a hundred billing an act twice. Only the pure
match is timed: the facts the service gathers from the database are not (target: 100k lines
under 10 s)."""

from __future__ import annotations

import time
import uuid
from datetime import date
from typing import Any

from hub.bench import Bench, Row, in_child, measured
from hub.invoices.matching import ActFacts, Facts, LineToMatch, Tariff, match_lines

OFFICE = uuid.UUID(int=1)
TARIFF = Tariff(period="2026", emolument_cents=5158, engagement_fee_cents=880, vat_rate_bp=2000)


def synthetic(lines: int) -> tuple[dict[str, ActFacts], list[LineToMatch]]:
    """An act per line (by the office's reference) and the lines billing them."""
    acts = {
        f"A/{n}": ActFacts(
            id=uuid.UUID(int=n + 10),
            office_id=OFFICE,
            office_reference=f"A/{n}",
            act_code="SERVE_TITLE",
            act_date=date(2026, 3, 1),
            case_id=uuid.UUID(int=n % 5000 + 10_000_000),
            mandate_id=uuid.UUID(int=n % 5000 + 20_000_000),
            disbursements_cents=880,
            flagged=False,
            approval_id=None,
            in_mandate=True,
            tariff=TARIFF,
        )
        for n in range(lines)
    }
    rows = [
        LineToMatch(
            line_id=str(n),
            net_cents=TARIFF.ceiling_cents + (100 if n % 50 == 0 else 0),
            vat_rate_bp=TARIFF.vat_rate_bp,
            office_act_reference=f"A/{n - 1 if n % 100 == 0 and n else n}",
            act_code="SERVE_TITLE",
        )
        for n in range(lines)
    ]
    return acts, rows


async def run_match(lines: int) -> dict[str, Any]:
    acts, rows = synthetic(lines)
    facts = Facts(
        office_id=OFFICE,
        by_id={str(a.id): a for a in acts.values()},
        by_reference=acts,
        by_approval={},
    )
    started = time.perf_counter()
    results = match_lines(rows, facts)
    seconds = time.perf_counter() - started
    matched = sum(1 for r in results if r.matched)
    return {
        "count": lines,
        "seconds": seconds,
        "note": f"{matched:,} matched, {seconds:.2f} s (target < 10 s at 100k)",
    }


async def group(bench: Bench) -> list[Row]:
    lines = bench.scale.invoice_lines
    result, rss = await in_child("hub.bench.matching:run_match", lines)
    return [
        measured(
            "matching",
            f"three-way match, {lines:,} invoice lines",
            "line/s",
            result,
            engine="none",
            peak_rss_mb=rss,
            process="bench child",
            raw="matching",
        )
    ]
