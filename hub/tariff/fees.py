"""The proportional fees on money the office recovers: A444-31 on the debtor, A444-32 on the creditor.

- The recovery fee (A444-31, no. 128) is borne by the debtor: flat up to a limit, marginal brackets
  above, a cap; the rates are doubled for a maintenance claim.
- The collection fee (A444-32, no. 129, "droit d'encaissement") is borne by the creditor on money
  collected; it is not due for wage or maintenance claims (R444-53 3°).
- Both add up; the engagement fee (DEP) charged earlier on the claim is deducted from each, never
  below zero.

The figures are the tariff period's in force on the date (``catalogue.toml``); each result carries
that period, its source and whether the figure is confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hub.tariff.catalogue import (
    Catalogue,
    ProportionalTerms,
    TariffPeriod,
    bracket_slices,
    load_catalogue,
    require_amount,
)
from hub.tariff.data import Provenance, eur, percent


@dataclass(frozen=True)
class ProportionalFee:
    """One proportional fee in cents, the words that justify it, and the figure's provenance."""

    cents: int
    explanation: str
    provenance: Provenance


def _brackets_words(terms: ProportionalTerms, collected_cents: int, rate_factor: int) -> str:
    parts = " + ".join(
        f"{percent(rate * rate_factor)} of {eur(part)}"
        for rate, part in bracket_slices(terms.brackets, collected_cents)
    )
    return f"by brackets of {eur(collected_cents)}: {parts}"


def _fee(
    label: str,
    terms: ProportionalTerms,
    period: TariffPeriod,
    collected_cents: int,
    deducted_cents: int,
    rate_factor: int = 1,
    doubled: str = "",
) -> ProportionalFee:
    gross = terms.amount_cents(collected_cents, rate_factor)
    if collected_cents <= terms.flat_up_to_cents:
        how = f"flat amount for a sum up to {eur(terms.flat_up_to_cents)}"
        doubled = ""
    elif gross == terms.cap_cents:
        how = f"the cap of {eur(terms.cap_cents)}, which the brackets reach on {eur(collected_cents)}"
    else:
        how = _brackets_words(terms, collected_cents, rate_factor)
    text = f"{label} on {eur(collected_cents)}: {eur(gross)}, {how}{doubled}."
    net = max(gross - deducted_cents, 0)
    if deducted_cents:
        text += (
            f" Less the engagement fee (DEP) of {eur(deducted_cents)} already charged on this claim: "
            f"{eur(net)}" + (" (never below zero)." if deducted_cents > gross else ".")
        )
    provenance = period.provenance(label, terms.source, terms.confirmed)
    return ProportionalFee(net, f"{text} Tariff {period.name} ({period.span()}).", provenance)


def _require_deduction(cents: int) -> None:
    require_amount(cents, "a deducted engagement fee")


def recovery_fee(
    collected_cents: int,
    on: date,
    *,
    maintenance: bool = False,
    engagement_fee_deducted_cents: int = 0,
    catalogue: Catalogue | None = None,
) -> ProportionalFee:
    """The A444-31 recovery fee the debtor bears on ``collected_cents`` recovered on ``on``.

    ``engagement_fee_deducted_cents``: the DEP already charged on the claim, deducted from it.
    """
    require_amount(collected_cents, "a collected sum")
    _require_deduction(engagement_fee_deducted_cents)
    period = (catalogue or load_catalogue()).period_on(on)
    terms = period.recovery_fee
    factor = terms.maintenance_rate_factor if maintenance else 1
    doubled = " (rates doubled for a maintenance claim)" if maintenance and factor != 1 else ""
    label = "Recovery fee on the debtor (A444-31)"
    return _fee(label, terms, period, collected_cents, engagement_fee_deducted_cents, factor, doubled)


def collection_fee(
    collected_cents: int,
    on: date,
    *,
    claim_kind: str,
    engagement_fee_deducted_cents: int = 0,
    catalogue: Catalogue | None = None,
) -> ProportionalFee:
    """The A444-32 "droit d'encaissement" the creditor bears on ``collected_cents`` collected on ``on``.

    None for the claim kinds the tariff exempts (wage, maintenance). ``engagement_fee_deducted_cents``:
    the DEP already charged on the claim, deducted from it.
    """
    require_amount(collected_cents, "a collected sum")
    _require_deduction(engagement_fee_deducted_cents)
    period = (catalogue or load_catalogue()).period_on(on)
    terms = period.collection_fee
    label = "Collection fee on the creditor (A444-32, droit d'encaissement)"
    if claim_kind in terms.not_for_claims:
        provenance = period.provenance(label, terms.source, terms.confirmed)
        text = (
            f"{label}: none, the fee is not due on a {claim_kind} claim (R444-53 3°). "
            f"Tariff {period.name} ({period.span()})."
        )
        return ProportionalFee(0, text, provenance)
    return _fee(label, terms, period, collected_cents, engagement_fee_deducted_cents)
