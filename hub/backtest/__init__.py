"""The back-test: a simulated portfolio run three ways, to show what the cost flag saves.

Pure: no database, no clock, no global random state. ``run(seed, cases)`` draws the portfolio
(``world``), works each case through its procedure (``procedure``) under each way's rule (``ways``),
does the accounts and ledger postings (``accounts``) and returns the figures; ``report`` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.backtest.figures import Posting
from hub.backtest.ways import WAYS, Totals, Way, learned_rates, run_way, ways
from hub.backtest.world import portfolio

HISTORY_CASES = 2000
"""Past cases, worked with every act ordered, whose reports the hub's rule learns from."""

__all__ = ["ASSUMPTIONS", "WAYS", "Backtest", "Way", "run"]

ASSUMPTIONS = (
    "Debtors are persons (85 %) or companies; a quarter solvent, nearly half struggling, the rest insolvent.",
    "Each debtor has a hidden account balance, net pay and dependents, goods value, and may have moved away.",
    "Consumer claims run from 100 EUR to 10,000 EUR (median 800); commercial ones up to 100,000 EUR.",
    "What the agency sees is noisy and aged: a balance seen 1 to 24 months ago, an income estimate that "
    "may be from a lost job, an old PV de carence, most fields unknown.",
    "Six offices, each with its own diligence (the chance an act reaching an asset catches it) and "
    "auction yield.",
    "Acts are priced with the tariff in force on their date, on the balance owed, the DEP once per case.",
    "A bank garnishment catches the balance less the unseizable minimum (persons), up to the balance "
    "owed with its costs; it lapses unless its notice follows.",
    "A wage garnishment catches the seizable share of true pay over 12 months (less if the debtor loses "
    "the job), shared with other creditors; it is counted on the day of the act.",
    "A payment order makes some solvent debtors pay what their account bears; a seizure-and-sale "
    "fetches the office's auction share of the goods, below 150 EUR it ends in a PV de carence.",
    "A lapsed title (over 10 years, or an injunction never served) bars every act; admissible "
    "insolvency proceedings bar enforcement from their date. A barred act that is ordered is billed "
    "and brings nothing.",
    "Act costs are taken first from what is collected; the creditor bears the rest, VAT included, and "
    "the collection fee (A444-32) on what is collected, less the DEP charged on the claim.",
    "The hub's rule orders nothing its guardrails block or hold for a person's review, and nothing "
    "flagged; its cost flag learns once from the reports of a history of past cases (every act "
    "ordered, the same offices), never from the portfolio's own.",
)


@dataclass(frozen=True)
class Backtest:
    seed: int
    cases: int
    history_cases: int
    totals: dict[str, Totals]
    ledger: dict[str, list[list[Posting]]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "cases": self.cases,
            "history_cases": self.history_cases,
            "currency": "EUR",
            "ways": {way.key: {"title": way.title, **self.totals[way.key].as_dict()} for way in WAYS},
            "assumptions": list(ASSUMPTIONS),
        }


def run(seed: int, cases: int, *, history: int = HISTORY_CASES, keep_postings: bool = False) -> Backtest:
    """The portfolio of ``seed`` with ``cases`` cases, run every way; the hub's rule learns from
    ``history`` past cases first."""
    rates = learned_rates(portfolio(seed, history, history=True))
    drawn = portfolio(seed, cases)
    totals: dict[str, Totals] = {}
    ledger: dict[str, list[list[Posting]]] = {}
    for way in ways(rates):
        kept: list[list[Posting]] | None = [] if keep_postings else None
        totals[way.key] = run_way(way, drawn, kept)
        if kept is not None:
            ledger[way.key] = kept
    return Backtest(seed, cases, history, totals, ledger)
