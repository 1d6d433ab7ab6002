"""The creditor's net of one act, as a pure computation: costs paid first from what is seized, the
rest of the costs, the collection fee and the VAT borne by the creditor, each term summing to the net."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hub.recovery.economics import CollectionFee, creditor_net, to_creditor_cents

NO_FEE = CollectionFee(0, 0, "Collection fee: none.")


def test_what_is_seized_pays_the_costs_first() -> None:
    net = creditor_net(
        expected_recovery_cents=10_000, cost_cents=12_000, cost_vat_cents=2_000, owed_cents=50_000,
        collection_fee=NO_FEE, reclaims_vat=False,
    )  # fmt: skip
    assert net.covered_cost_cents == 10_000
    assert net.to_creditor_cents == 0
    # 2,000 of the cost is the creditor's: 1/6 of it is VAT.
    assert (net.uncovered_cost_cents, net.unreclaimable_vat_cents) == (1_667, 333)
    assert net.net_cents == -2_000 and net.destroys_value


def test_a_debtor_who_can_pay_everything_bears_the_costs() -> None:
    net = creditor_net(
        expected_recovery_cents=62_000, cost_cents=12_000, cost_vat_cents=2_000, owed_cents=50_000,
        collection_fee=CollectionFee(3_000, 600, "Collection fee: 30.00 EUR."), reclaims_vat=False,
    )  # fmt: skip
    assert net.to_creditor_cents == 50_000
    assert net.uncovered_cost_cents == 0
    assert net.net_cents == 50_000 - 3_000 - 600


def test_a_creditor_that_reclaims_vat_bears_only_the_costs_excluding_vat() -> None:
    net = creditor_net(
        expected_recovery_cents=0, cost_cents=12_000, cost_vat_cents=2_000, owed_cents=50_000,
        collection_fee=NO_FEE, reclaims_vat=True,
    )  # fmt: skip
    assert net.net_cents == -10_000
    assert net.terms[-1].explanation == "VAT: none borne, the creditor reclaims the VAT it pays."


amounts = st.integers(0, 10_000_000)


@given(amounts, amounts, amounts, st.integers(0, 100), st.booleans())
def test_the_terms_sum_to_the_net_and_the_net_is_recovery_less_cost(
    expected: int, cost: int, owed: int, vat_pct: int, reclaims: bool
) -> None:
    vat = cost * vat_pct // 120
    net = creditor_net(
        expected_recovery_cents=expected, cost_cents=cost, cost_vat_cents=vat, owed_cents=owed,
        collection_fee=NO_FEE, reclaims_vat=reclaims,
    )  # fmt: skip
    assert sum(term.cents for term in net.terms) == net.net_cents
    assert net.to_creditor_cents == to_creditor_cents(expected, cost, owed) <= owed
    if expected <= cost + owed and not reclaims:
        # Catching at most the balance and the costs, the creditor's net is exactly recovery - cost.
        assert net.net_cents == expected - cost
    more = creditor_net(
        expected_recovery_cents=expected + 1, cost_cents=cost, cost_vat_cents=vat, owed_cents=owed,
        collection_fee=NO_FEE, reclaims_vat=reclaims,
    )  # fmt: skip
    assert more.net_cents >= net.net_cents
