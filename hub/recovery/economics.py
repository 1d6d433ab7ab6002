"""The creditor's economics of one act: what it can expect to gain, and what it will bear.

Enforcement costs fall on the debtor (art. L111-8 CPCE) and are taken first from what is seized:
the creditor bears an act's cost only when too little is recovered to cover it, and its VAT only
when it cannot reclaim VAT. It always bears the collection fee ("droit d'encaissement", art.
A444-32) on money the office collects for it, less the engagement fee (DEP) already paid on the
claim, which the tariff deducts from it. So, for an act expected to bring in ``E`` at a cost ``C``
(VAT included) on a balance owed ``O``:

- costs covered from what is seized = min(E, C); the rest of the cost is the creditor's;
- money reaching the creditor = min(E - covered, O);
- the creditor's expected net = that money - the uncovered costs (excl. VAT) - the collection fee
  (excl. VAT) - the VAT on both unless the creditor reclaims it.

The expected recovery is used as if it were certain when the costs are split between debtor and
creditor (a certainty equivalent). The net itself does not depend on that split as long as the act
catches no more than the balance and the costs (net = E - C when E < C + O), which is what the law
lets it catch; only the VAT and the collection fee do, and the fee is then an upper estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hub.recovery.evidence import eur


@dataclass(frozen=True)
class Term:
    """One term of the creditor's expected net: a signed amount (a gain is positive) and its words."""

    code: str
    cents: int
    explanation: str


@dataclass(frozen=True)
class CollectionFee:
    """The collection fee the creditor owes on money collected, as the tariff computes it."""

    cents: int
    """Excluding VAT, after the deduction of the engagement fee already paid."""
    vat_cents: int
    explanation: str
    provenance: str | None = None
    """The tariff figure used, with its period and source (``None``: no fee was computed)."""


@dataclass(frozen=True)
class CreditorNet:
    """What one act (or enforcement path) is worth to the creditor, term by term."""

    expected_recovery_cents: int
    cost_cents: int
    cost_vat_cents: int
    covered_cost_cents: int
    to_creditor_cents: int
    uncovered_cost_cents: int
    """Excluding VAT."""
    collection_fee_cents: int
    collection_fee_provenance: str | None
    unreclaimable_vat_cents: int
    net_cents: int
    terms: tuple[Term, ...]

    @property
    def destroys_value(self) -> bool:
        return self.net_cents < 0

    def lines(self, currency: str = "EUR") -> list[str]:
        text = [f"- {term.explanation}" for term in self.terms]
        text.append(f"  = {eur(self.net_cents, currency)} expected net to the creditor.")
        return text


def _vat_part(amount_cents: int, total_cents: int, vat_cents: int) -> int:
    """The VAT inside ``amount_cents`` of a cost of ``total_cents`` that includes ``vat_cents`` of VAT."""
    if total_cents <= 0 or amount_cents <= 0:
        return 0
    return int(Fraction(amount_cents * vat_cents, total_cents))


def creditor_net(
    *,
    expected_recovery_cents: int,
    cost_cents: int,
    cost_vat_cents: int,
    owed_cents: int,
    collection_fee: CollectionFee,
    reclaims_vat: bool,
    currency: str = "EUR",
) -> CreditorNet:
    """The creditor's expected net; ``collection_fee`` is the fee on the money that reaches it
    (see :func:`to_creditor_cents`)."""
    covered = min(expected_recovery_cents, cost_cents)
    to_creditor = to_creditor_cents(expected_recovery_cents, cost_cents, owed_cents)
    uncovered = cost_cents - covered
    uncovered_vat = _vat_part(uncovered, cost_cents, cost_vat_cents)
    uncovered_excl = uncovered - uncovered_vat
    vat_borne = 0 if reclaims_vat else uncovered_vat + collection_fee.vat_cents
    net = to_creditor - uncovered_excl - collection_fee.cents - vat_borne

    terms = [
        Term(
            "MONEY_TO_CREDITOR",
            to_creditor,
            f"Money expected to reach the creditor: {eur(to_creditor, currency)} "
            f"(expected recovery {eur(expected_recovery_cents, currency)}, of which "
            f"{eur(covered, currency)} first pays the costs; at most the {eur(owed_cents, currency)} owed).",
        ),
        Term(
            "UNCOVERED_COSTS",
            -uncovered_excl,
            f"Costs not covered by what is seized, borne by the creditor: {eur(uncovered_excl, currency)} "
            "excl. VAT."
            if uncovered
            else "Costs not covered by what is seized: none, the expected recovery pays them.",
        ),
        Term("COLLECTION_FEE", -collection_fee.cents, collection_fee.explanation),
    ]
    if reclaims_vat:
        terms.append(Term("VAT_BORNE", 0, "VAT: none borne, the creditor reclaims the VAT it pays."))
    else:
        terms.append(
            Term(
                "VAT_BORNE",
                -vat_borne,
                f"VAT the creditor cannot reclaim: {eur(vat_borne, currency)} "
                f"({eur(uncovered_vat, currency)} on the uncovered costs, "
                f"{eur(collection_fee.vat_cents, currency)} on the collection fee).",
            )
        )
    return CreditorNet(
        expected_recovery_cents=expected_recovery_cents,
        cost_cents=cost_cents,
        cost_vat_cents=cost_vat_cents,
        covered_cost_cents=covered,
        to_creditor_cents=to_creditor,
        uncovered_cost_cents=uncovered_excl,
        collection_fee_cents=collection_fee.cents,
        collection_fee_provenance=collection_fee.provenance,
        unreclaimable_vat_cents=vat_borne,
        net_cents=net,
        terms=tuple(terms),
    )


def to_creditor_cents(expected_recovery_cents: int, cost_cents: int, owed_cents: int) -> int:
    """What reaches the creditor of what is recovered: the rest after the costs, at most what is owed."""
    return min(max(expected_recovery_cents - cost_cents, 0), owed_cents)
