"""The one place the back-test reaches the hub's legal figures and rules.

The tariff is moving out of ``hub/acts`` (issue 12) and the recovery rule is being rewritten: when
they land, only the imports of this module change. The simulation prices acts, seizes pay and
leaves the bank minimum with these functions; the hub's rule is asked through ``assess`` and
``check``, and nothing else of it is read, so the back-test does not depend on how it decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from hub.ledger.postings import Posting, act_fee_postings, add_up, collection_postings, write_off_postings
from hub.policy.guardrails import check, hard_blocks
from hub.recovery.facts import (
    ActRecord,
    CaseFacts,
    ClaimKind,
    DebtorKind,
    Evidence,
    OutcomeCode,
    Title,
    TitleKind,
)
from hub.recovery.plausibility import assess
from hub.recovery.recovery_rates import RecoveryRates, learn_recovery_rates
from hub.tariff import collection_fee as tariff_collection_fee
from hub.tariff import seizable_monthly_cents, unseizable_bank_minimum
from hub.tariff.catalogue import ActCost, act_cost, load_catalogue

__all__ = [
    "ActCost",
    "ActRecord",
    "CaseFacts",
    "ClaimKind",
    "CollectionFee",
    "DebtorKind",
    "Evidence",
    "OutcomeCode",
    "Posting",
    "Rates",
    "Title",
    "TitleKind",
    "act_cost",
    "act_fee_postings",
    "add_up",
    "assess",
    "bank_minimum_cents",
    "check",
    "collection_fee",
    "collection_postings",
    "hard_blocks",
    "learn_rates",
    "seizable_pay_cents",
    "write_off_postings",
]

# The act codes the simulated procedure orders (the catalogue's codes; rename here if they change).
SERVE_TITLE = "SERVE_TITLE"
INFO_SEARCH = "INFO_SEARCH"
BANK_GARNISHMENT = "BANK_GARNISHMENT"
GARNISHMENT_NOTICE = "GARNISHMENT_NOTICE"
WAGE_GARNISHMENT = "WAGE_GARNISHMENT_REQUEST"
PAYMENT_ORDER = "PAYMENT_ORDER"
SEIZURE_SALE = "SEIZURE_SALE"
ENFORCEMENT_ACTS = frozenset({BANK_GARNISHMENT, WAGE_GARNISHMENT, PAYMENT_ORDER, SEIZURE_SALE})
"""Acts that insolvency proceedings bar (art. L722-2 C. conso., L622-21 C. com.)."""
SMALL_CLAIM_HOME_SEIZURE_CENTS = 53_500
"""Under this principal a home seizure needs the judge's leave (art. R221-2 CPCE)."""


Rates = RecoveryRates
"""What the cost flag learns from act reports (``assess(..., rates=...)``)."""


def learn_rates(reports: Iterable[tuple[ActRecord, int]]) -> Rates:
    """The cost flag's expected recovery learned once from past act reports, each with the balance
    owed when the act was done (the share of it the act brought back)."""
    return learn_recovery_rates(reports)


def seizable_pay_cents(monthly_net_income_cents: int, dependents: int, on: date) -> int:
    """The share of a month's net pay a wage garnishment may take on ``on`` (the scale and the RSA
    floor in force on the date)."""
    return seizable_monthly_cents(monthly_net_income_cents, dependents, on)


def bank_minimum_cents(on: date) -> int:
    """What a bank must leave on a person's account on ``on`` ("solde bancaire insaisissable", the
    single-person RSA in force on the date)."""
    return unseizable_bank_minimum(on).cents


@dataclass(frozen=True)
class CollectionFee:
    """The A444-32 "droit d'encaissement" on money an office collects, borne by the creditor."""

    emolument_cents: int
    vat_cents: int

    @property
    def total_cents(self) -> int:
        return self.emolument_cents + self.vat_cents


def collection_fee(
    collected_cents: int, on: date, claim_kind: ClaimKind, *, engagement_fee_deducted_cents: int = 0
) -> CollectionFee:
    """The collection fee on ``collected_cents`` collected for a case, less the engagement fee (DEP)
    already charged on the claim (never below zero), with its VAT (the creditor, a bank, cannot
    reclaim it). Not due on wage and maintenance claims (R444-53 3°).

    Read from the tariff period in force (``hub.tariff.collection_fee``); the VAT is added here."""
    period = load_catalogue().period_on(on)
    if collected_cents <= 0:
        return CollectionFee(0, 0)
    fee = tariff_collection_fee(
        collected_cents,
        on,
        claim_kind=claim_kind.value,
        engagement_fee_deducted_cents=engagement_fee_deducted_cents,
    ).cents
    vat = period.vat_cents(fee)
    return CollectionFee(fee, vat)
