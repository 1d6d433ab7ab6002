"""``hub backtest``: mounted by ``hub.cli``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hub.backtest import HISTORY_CASES


def backtest(
    seed: Annotated[
        int, typer.Option(help="Seed of the simulated portfolio: the same seed, the same figures")
    ] = 1,
    cases: Annotated[int, typer.Option(min=1, max=1_000_000, help="Cases in the portfolio")] = 5000,
    out: Annotated[Path | None, typer.Option(help="Also write the figures as JSON to this file")] = None,
    history: Annotated[
        int, typer.Option(min=0, max=1_000_000, help="Past cases whose reports the hub's rule learns from")
    ] = HISTORY_CASES,
) -> None:
    """Run a simulated portfolio three ways and print what each leaves the creditor.

    Every act ordered, the naive rule (skip an act costing more than the balance owed) and the hub's
    rule (guardrails and cost flag): money recovered, costs borne by the creditor, net, acts ordered
    and avoided, and the cost flag's false and missed flags against the simulation's truth."""
    from hub.backtest import run
    from hub.backtest.report import table_lines

    result = run(seed, cases, history=history)
    for line in table_lines(result):
        typer.echo(line)
    if out is not None:
        out.write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")
        typer.echo(f"written to {out}")
