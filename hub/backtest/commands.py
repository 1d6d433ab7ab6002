"""``hub backtest``: mounted by ``hub.cli``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def backtest(
    seed: Annotated[
        int, typer.Option(help="Seed of the simulated portfolio: the same seed, the same figures")
    ] = 1,
    cases: Annotated[int, typer.Option(min=1, max=1_000_000, help="Cases in the portfolio")] = 5000,
    out: Annotated[Path | None, typer.Option(help="Also write the figures as JSON to this file")] = None,
) -> None:
    """Simulate a portfolio and run it three ways (every act, the naive rule, the hub's rule): money
    recovered, costs borne by the creditor, net, acts ordered and avoided, false and missed flags."""
    from hub.backtest import run
    from hub.backtest.report import table_lines

    result = run(seed, cases)
    for line in table_lines(result):
        typer.echo(line)
    if out is not None:
        out.write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")
        typer.echo(f"written to {out}")
