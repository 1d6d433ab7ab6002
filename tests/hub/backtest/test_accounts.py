"""Who bears what, and the ledger postings of a worked case: their sums are the printed totals."""

from __future__ import annotations

import pytest

from hub.backtest import run
from hub.backtest.accounts import creditor_share
from hub.backtest.figures import ClaimKind, CollectionFee, collection_fee
from hub.ledger.postings import add_up, balance_of, check_balanced


@pytest.mark.parametrize(
    ("recovered", "costs", "fee", "from_debtor", "borne", "net"),
    [
        (0, 10_000, 0, 0, 10_000, -10_000),  # nothing collected: the creditor bears every act
        (4_000, 10_000, 2_580, 4_000, 8_580, -8_580),  # part of the costs taken from what was collected
        (50_000, 10_000, 6_000, 10_000, 6_000, 34_000),  # costs fully on the debtor; the fee stays
    ],
)
def test_costs_are_taken_first_from_what_is_collected(
    recovered: int, costs: int, fee: int, from_debtor: int, borne: int, net: int
) -> None:
    share = creditor_share(recovered, costs, CollectionFee(fee, 0))
    assert share.costs_from_debtor_cents == from_debtor
    assert share.borne_cents == borne
    assert share.net_cents == net == recovered - costs - fee


def test_the_collection_fee_is_not_due_on_wage_claims_and_carries_vat() -> None:
    from datetime import date

    on = date(2025, 6, 2)
    assert collection_fee(100_000, on, ClaimKind.WAGE).total_cents == 0
    assert collection_fee(0, on, ClaimKind.CONSUMER).total_cents == 0
    small = collection_fee(10_000, on, ClaimKind.CONSUMER)
    big = collection_fee(1_000_000, on, ClaimKind.CONSUMER)
    assert 0 < small.emolument_cents < big.emolument_cents
    assert big.vat_cents == (big.emolument_cents * 2 + 5) // 10  # 20 %, half up
    # The engagement fee (DEP) charged on the claim is deducted from it, never below zero.
    less = collection_fee(1_000_000, on, ClaimKind.CONSUMER, engagement_fee_deducted_cents=5_000)
    assert less.emolument_cents == big.emolument_cents - 5_000
    assert (
        collection_fee(10_000, on, ClaimKind.CONSUMER, engagement_fee_deducted_cents=99_999).total_cents == 0
    )


def test_printed_totals_agree_with_the_ledger_postings() -> None:
    result = run(5, 40, history=200, keep_postings=True)
    for key, totals in result.totals.items():
        transactions = result.ledger[key]
        assert transactions, key
        for entries in transactions:
            check_balanced(entries)
        ledger = add_up((p.account, p.currency, p.amount_cents) for entries in transactions for p in entries)
        assert balance_of(ledger, "collected_by_office") == totals.recovered_cents > 0
        assert balance_of(ledger, "case_collections") == -totals.recovered_cents
        assert balance_of(ledger, "written_off") == totals.borne_cents > 0
        assert (
            -balance_of(ledger, "payable_to_office") == totals.act_costs_cents + totals.collection_fees_cents
        )
        still_charged = sum(
            balance_of(ledger, a) for a in ("fees_emoluments", "fees_disbursements", "fees_vat")
        )
        assert still_charged == totals.act_costs_cents + totals.collection_fees_cents - totals.borne_cents
        net = balance_of(ledger, "collected_by_office") + balance_of(ledger, "payable_to_office")
        assert net == totals.net_cents


def test_another_seed_gives_other_figures() -> None:
    one, two = run(1, 30, history=100), run(2, 30, history=100)
    assert one.totals["hub"].as_dict() != two.totals["hub"].as_dict()
    assert one.totals["every_act"].recovered_cents != two.totals["every_act"].recovered_cents
