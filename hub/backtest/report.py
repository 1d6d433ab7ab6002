"""The back-test's table, in plain text, one column per way (the same text on every run of a seed)."""

from __future__ import annotations

from collections.abc import Callable

from hub.backtest import Backtest
from hub.backtest.ways import WAYS, Totals
from hub.kit.money import Money


def _eur(cents: int) -> str:
    return f"{Money(cents).display()}"


_ROWS: tuple[tuple[str, Callable[[Totals], str]], ...] = (
    ("money recovered", lambda t: _eur(t.recovered_cents)),
    ("act costs (VAT incl.)", lambda t: _eur(t.act_costs_cents)),
    ("collection fees (A444-32)", lambda t: _eur(t.collection_fees_cents)),
    ("costs borne by the creditor", lambda t: _eur(t.borne_cents)),
    ("net to the creditor", lambda t: _eur(t.net_cents)),
    ("acts ordered", lambda t: str(t.ordered)),
    ("acts avoided", lambda t: str(sum(t.avoided.values()))),
    ("  of which flagged", lambda t: str(t.avoided["flagged"]) if "flagged" in t.avoided else "-"),
    ("  of which blocked or held", lambda t: str(t.avoided["blocked"] + t.avoided["held"])),
    ("  of which cost above balance", lambda t: str(t.avoided["cost_above_balance"])),
    ("barred acts ordered", lambda t: str(t.barred_ordered)),
    ("false flags", lambda t: str(t.false_flags) if t.flags_checked else "-"),
    ("  net they forwent", lambda t: _eur(t.false_flags_forgone_cents) if t.flags_checked else "-"),
    ("missed flags", lambda t: str(t.missed_flags) if t.flags_checked else "-"),
    ("  net they lost", lambda t: _eur(t.missed_flags_lost_cents) if t.flags_checked else "-"),
)


def table_lines(result: Backtest) -> list[str]:
    label_width = max(len(label) for label, _ in _ROWS)
    cells = [[show(result.totals[way.key]) for way in WAYS] for _, show in _ROWS]
    width = max(max(len(way.title) for way in WAYS), *(len(c) for row in cells for c in row))
    lines = [
        f"hub backtest --seed {result.seed} --cases {result.cases} (amounts in EUR, VAT included; the hub's "
        f"rule learned from {result.history_cases} past cases)",
        " " * label_width + "".join(f"  {way.title:>{width}}" for way in WAYS),
    ]
    for (label, _), row in zip(_ROWS, cells, strict=True):
        lines.append(f"{label:<{label_width}}" + "".join(f"  {cell:>{width}}" for cell in row))
    hub = result.totals["hub"]
    lines += [
        "false flag: a flagged act that, ordered, would have raised the creditor's net; missed flag: an act",
        f"not flagged that lowered it ({hub.flags_checked} cost-flag answers checked against the truth).",
    ]
    return lines
