"""Who bears what, case by case, and the ledger postings of a worked case.

DOMAIN.md, "Who bears what": enforcement costs fall on the debtor and are taken first from what is
seized, so the creditor bears an act's cost only when too little is recovered to cover it (and its
VAT: the creditor, a bank, cannot reclaim it); it always bears the collection fee on money the office
collects. ``creditor_share`` is that accounting, in one place, to refine as the rule's economics do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from hub.backtest import figures as f
from hub.backtest.figures import ActCost, ClaimKind, Posting
from hub.backtest.procedure import CaseRun


@dataclass(frozen=True)
class CreditorShare:
    """One case's money as the creditor lives it, in cents."""

    recovered_cents: int
    """Money collected from the debtor."""
    act_costs_cents: int
    """Every act's cost, VAT included."""
    costs_from_debtor_cents: int
    """The part of the act costs taken from what was collected."""
    collection_fee: f.CollectionFee
    """The A444-32 fee on what was collected, less the DEP charged on the claim, with its VAT."""

    @property
    def unrecovered_costs_cents(self) -> int:
        return self.act_costs_cents - self.costs_from_debtor_cents

    @property
    def borne_cents(self) -> int:
        """Costs the creditor bears: act costs not covered by what was collected, and the collection fee."""
        return self.unrecovered_costs_cents + self.collection_fee.total_cents

    @property
    def net_cents(self) -> int:
        """What the creditor ends up with: what reached the claim, less the costs it bears."""
        return self.recovered_cents - self.costs_from_debtor_cents - self.borne_cents


def creditor_share(recovered_cents: int, act_costs_cents: int, fee: f.CollectionFee) -> CreditorShare:
    """Costs are taken first from what is collected; the rest of them, and the fee, the creditor bears."""
    return CreditorShare(recovered_cents, act_costs_cents, min(recovered_cents, act_costs_cents), fee)


def closing_day(run: CaseRun) -> date:
    """The day a case's accounts are closed: its last act, or the day it opened."""
    return max((record.on for record in run.acts), default=run.case.opened_on)


def share_of(run: CaseRun) -> CreditorShare:
    kind: ClaimKind = run.case.facts.claim_kind
    engagement = sum(cost.engagement_fee_cents for cost in run.fees)
    fee = f.collection_fee(
        run.recovered_cents, closing_day(run), kind, engagement_fee_deducted_cents=engagement
    )
    return creditor_share(run.recovered_cents, run.costs_cents, fee)


def _fee_postings(cost: ActCost) -> list[Posting]:
    return f.act_fee_postings(
        emoluments_cents=cost.emolument_cents + cost.engagement_fee_cents,
        disbursements_cents=cost.disbursements_cents,
        vat_cents=cost.vat_cents,
        currency="EUR",
    )


def postings(run: CaseRun, share: CreditorShare) -> Iterator[list[Posting]]:
    """The case's transactions, each balanced: the fees of every act ordered, every collection, the
    collection fee, and the write-off of what the creditor bears (fees the debtor will never pay)."""
    charged = {"emoluments": 0, "disbursements": 0, "vat": 0}
    for cost in run.fees:
        yield _fee_postings(cost)
        charged["emoluments"] += cost.emolument_cents + cost.engagement_fee_cents
        charged["disbursements"] += cost.disbursements_cents
        charged["vat"] += cost.vat_cents
    for cents in run.collections:
        yield f.collection_postings(collected_cents=cents, currency="EUR")
    fee = share.collection_fee
    if fee.total_cents:
        yield f.act_fee_postings(
            emoluments_cents=fee.emolument_cents,
            disbursements_cents=0,
            vat_cents=fee.vat_cents,
            currency="EUR",
        )
        charged["emoluments"] += fee.emolument_cents
        charged["vat"] += fee.vat_cents
    # Written off: the unrecovered act costs and the whole collection fee, from the fee accounts in
    # order (emoluments, disbursements, VAT), never more than each was charged.
    left = {"emoluments": fee.emolument_cents, "disbursements": 0, "vat": fee.vat_cents}
    rest = share.unrecovered_costs_cents
    for account in ("emoluments", "disbursements", "vat"):
        take = min(rest, charged[account] - left[account])
        left[account] += take
        rest -= take
    assert rest == 0, "the unrecovered costs exceed the fees charged"
    if any(left.values()):
        yield f.write_off_postings(
            emoluments_cents=left["emoluments"],
            disbursements_cents=left["disbursements"],
            vat_cents=left["vat"],
            currency="EUR",
        )
