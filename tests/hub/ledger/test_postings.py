"""The pure posting rules: each movement's entries, balance, reversal and the sums of a statement."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from hub.kit.errors import Conflict, InvalidInput
from hub.ledger import postings as p
from hub.ledger.postings import Posting, Statement, StatementLine

EUR = "EUR"


def entries(lines: list[Posting]) -> list[tuple[str, int]]:
    return [(line.account, line.amount_cents) for line in lines]


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (
            p.act_fee_postings(emoluments_cents=5158, disbursements_cents=880, vat_cents=1032, currency=EUR),
            [
                ("fees_emoluments", 5158),
                ("fees_disbursements", 880),
                ("fees_vat", 1032),
                ("payable_to_office", -7070),
            ],
        ),
        (
            p.act_fee_postings(emoluments_cents=1490, disbursements_cents=0, vat_cents=298, currency=EUR),
            [("fees_emoluments", 1490), ("fees_vat", 298), ("payable_to_office", -1788)],
        ),
        (p.act_fee_postings(emoluments_cents=0, disbursements_cents=0, vat_cents=0, currency=EUR), []),
        (
            p.collection_postings(collected_cents=12_345, currency=EUR),
            [("collected_by_office", 12_345), ("case_collections", -12_345)],
        ),
        (p.collection_postings(collected_cents=0, currency=EUR), []),
        (
            p.remittance_postings(remitted_cents=10_000, currency=EUR),
            [("remitted_to_agency", 10_000), ("collected_by_office", -10_000)],
        ),
        (p.remittance_postings(remitted_cents=0, currency=EUR), []),
        (
            p.invoice_postings(invoiced_cents=7070, currency=EUR),
            [("payable_to_office", 7070), ("fees_invoiced", -7070)],
        ),
        (p.invoice_postings(invoiced_cents=0, currency=EUR), []),
        (
            p.invoice_payment_postings(paid_cents=7070, currency=EUR),
            [("fees_invoiced", 7070), ("fees_paid", -7070)],
        ),
        (p.invoice_payment_postings(paid_cents=0, currency=EUR), []),
        (
            p.write_off_postings(
                emoluments_cents=5158, disbursements_cents=880, vat_cents=1032, currency=EUR
            ),
            [
                ("written_off", 7070),
                ("fees_emoluments", -5158),
                ("fees_disbursements", -880),
                ("fees_vat", -1032),
            ],
        ),
        (
            p.write_off_postings(emoluments_cents=0, disbursements_cents=660, vat_cents=0, currency=EUR),
            [("written_off", 660), ("fees_disbursements", -660)],
        ),
        (p.write_off_postings(emoluments_cents=0, disbursements_cents=0, vat_cents=0, currency=EUR), []),
    ],
)
def test_each_movement_posts_its_accounts_and_balances(
    built: list[Posting], expected: list[tuple[str, int]]
) -> None:
    assert entries(built) == expected
    if built:
        p.check_balanced(built)
        assert all(line.account in p.ACCOUNTS and line.currency == EUR for line in built)


def test_a_fee_goes_reported_then_invoiced_then_paid_and_money_collected_then_remitted() -> None:
    lines = [
        *p.act_fee_postings(emoluments_cents=5158, disbursements_cents=880, vat_cents=1032, currency=EUR),
        *p.invoice_postings(invoiced_cents=7070, currency=EUR),
        *p.invoice_payment_postings(paid_cents=7070, currency=EUR),
        *p.collection_postings(collected_cents=20_000, currency=EUR),
        *p.remittance_postings(remitted_cents=20_000, currency=EUR),
    ]
    balances = p.add_up((line.account, line.currency, line.amount_cents) for line in lines)
    assert balances == {
        "case_collections": {EUR: -20_000},
        "fees_disbursements": {EUR: 880},
        "fees_emoluments": {EUR: 5158},
        "fees_paid": {EUR: -7070},
        "fees_vat": {EUR: 1032},
        "remitted_to_agency": {EUR: 20_000},
    }  # nothing left payable, invoiced or held by the office


@pytest.mark.parametrize(
    "build",
    [
        lambda: p.remittance_postings(remitted_cents=-1, currency=EUR),
        lambda: p.invoice_postings(invoiced_cents=-1, currency=EUR),
        lambda: p.invoice_payment_postings(paid_cents=-1, currency=EUR),
        lambda: p.write_off_postings(emoluments_cents=1, disbursements_cents=-1, vat_cents=0, currency=EUR),
    ],
)
def test_a_negative_movement_is_refused_it_is_a_reversal(build: object) -> None:
    with pytest.raises(ValueError, match="reversal"):
        build()  # type: ignore[operator]


@pytest.mark.parametrize("amount", [1.5, Decimal("1"), True, "1"])
def test_amounts_are_integer_cents_only(amount: object) -> None:
    with pytest.raises(TypeError):
        Posting("fees_emoluments", amount)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        p.remittance_postings(remitted_cents=amount, currency=EUR)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "at least one entry"),
        ([Posting("fees_emoluments", 100)], "off by {'EUR': 100}"),
        ([Posting("fees_emoluments", 100), Posting("payable_to_office", -99)], "off by {'EUR': 1}"),
        (  # balanced in total, not per currency
            [Posting("fees_emoluments", 100, "EUR"), Posting("payable_to_office", -100, "CHF")],
            "off by {'EUR': 100, 'CHF': -100}",
        ),
    ],
)
def test_an_unbalanced_transaction_is_refused(lines: list[Posting], message: str) -> None:
    with pytest.raises(p.UnbalancedTransaction, match=message.replace("{", r"\{").replace("}", r"\}")):
        p.check_balanced(lines)


def test_two_currencies_each_balanced_pass() -> None:
    p.check_balanced(
        [
            Posting("fees_emoluments", 100, "EUR"),
            Posting("payable_to_office", -100, "EUR"),
            Posting("fees_emoluments", 7, "CHF"),
            Posting("payable_to_office", -7, "CHF"),
        ]
    )


def test_a_reversal_negates_every_entry() -> None:
    lines = p.act_fee_postings(emoluments_cents=5158, disbursements_cents=880, vat_cents=1032, currency="CHF")
    reversal = p.reversing(lines)
    assert entries(reversal) == [(a, -c) for a, c in entries(lines)]
    assert {line.currency for line in reversal} == {"CHF"}
    p.check_balanced(reversal)
    assert p.add_up((x.account, x.currency, x.amount_cents) for x in [*lines, *reversal]) == {}


def check(transaction: uuid.UUID, reverses: uuid.UUID | None, reversed_by: uuid.UUID | None) -> None:
    on = date(2026, 3, 2)
    p.check_reversal(
        transaction,
        reason="duplicate",
        effective_on=on,
        original_on=on,
        reverses_id=reverses,
        reversed_by=reversed_by,
    )


def test_reversed_once_at_most_and_a_reversal_never() -> None:
    original, reversal = uuid.uuid4(), uuid.uuid4()
    check(original, None, None)
    with pytest.raises(Conflict) as twice:
        check(original, None, reversal)
    assert (twice.value.status, twice.value.code) == (409, "ledger.already_reversed")
    with pytest.raises(Conflict) as of_reversal:
        check(reversal, original, None)
    assert (of_reversal.value.status, of_reversal.value.code) == (409, "ledger.reversal_not_reversible")


def test_a_reversal_says_why_and_is_not_dated_before_what_it_cancels() -> None:
    with pytest.raises(InvalidInput) as refused:
        p.check_reversal(
            uuid.uuid4(),
            reason=" ",
            effective_on=date(2026, 3, 1),
            original_on=date(2026, 3, 2),
            reverses_id=uuid.uuid4(),  # its own refusal comes after the input is right
            reversed_by=None,
        )
    assert refused.value.status == 422
    assert [e.code for e in refused.value.errors] == [
        "ledger.reason_required",
        "ledger.reversal_before_original",
    ]


@pytest.mark.parametrize(
    ("read", "cents"),
    [(0, 0), (-7, -7), (Decimal("123456789012345678"), 123456789012345678), (Decimal("-5"), -5)],
)
def test_amounts_read_back_become_int_exactly(read: object, cents: int) -> None:
    value = p.exact_cents(read)
    assert value == cents and type(value) is int


@pytest.mark.parametrize("read", [1.0, 0.0, Decimal("1.5"), None, True, "3"])
def test_a_float_or_fraction_read_back_is_refused(read: object) -> None:
    with pytest.raises(TypeError, match="integer cents"):
        p.exact_cents(read)


def test_add_up_leaves_zero_balances_out() -> None:
    rows = [("a", "EUR", 5), ("a", "EUR", -5), ("a", "CHF", 3), ("b", "EUR", 0)]
    assert p.add_up(rows) == {"a": {"CHF": 3}}
    assert p.balance_of(p.add_up(rows), "a", "CHF") == 3
    assert p.balance_of(p.add_up(rows), "a") == 0
    assert p.balance_of(p.add_up(rows), "zzz") == 0


def test_a_statement_adds_up_per_kind_per_act_and_from_opening_to_closing() -> None:
    office = uuid.uuid4()
    statement = Statement(
        office_id=office,
        start=date(2026, 3, 1),
        end=date(2026, 4, 1),
        opening={"payable_to_office": {EUR: -1000}, "fees_emoluments": {EUR: 1000}},
        lines=(
            StatementLine("fees_emoluments", EUR, "act_fees", "SERVE_TITLE", 5158),
            StatementLine("payable_to_office", EUR, "act_fees", "SERVE_TITLE", -5158),
            StatementLine("fees_emoluments", EUR, "act_fees", "PAYMENT_ORDER", 2042),
            StatementLine("payable_to_office", EUR, "act_fees", "PAYMENT_ORDER", -2042),
            StatementLine("payable_to_office", EUR, "invoice", None, 7200),
            StatementLine("fees_invoiced", EUR, "invoice", None, -7200),
        ),
    )
    assert statement.movements() == {
        "fees_emoluments": {EUR: 7200},
        "fees_invoiced": {EUR: -7200},
    }
    assert statement.closing() == {
        "fees_emoluments": {EUR: 8200},
        "fees_invoiced": {EUR: -7200},
        "payable_to_office": {EUR: -1000},
    }
    assert statement.by_kind() == {
        "act_fees": {"fees_emoluments": {EUR: 7200}, "payable_to_office": {EUR: -7200}},
        "invoice": {"fees_invoiced": {EUR: -7200}, "payable_to_office": {EUR: 7200}},
    }
    assert statement.by_act() == {
        "PAYMENT_ORDER": {"fees_emoluments": {EUR: 2042}, "payable_to_office": {EUR: -2042}},
        "SERVE_TITLE": {"fees_emoluments": {EUR: 5158}, "payable_to_office": {EUR: -5158}},
    }


@pytest.mark.parametrize(
    ("remitted", "held", "refused"),
    [(5000, 5000, False), (1, 5000, False), (5001, 5000, True), (1, 0, True), (1, -10, True)],
)
def test_a_remittance_is_at_most_what_the_office_holds(remitted: int, held: int, refused: bool) -> None:
    if not refused:
        p.check_remittance(remitted_cents=remitted, collected_cents=held, currency=EUR)
        return
    with pytest.raises(InvalidInput) as caught:
        p.check_remittance(remitted_cents=remitted, collected_cents=held, currency=EUR)
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("/amount_cents", "ledger.remittance_above_collected")
    ]


@pytest.mark.parametrize(
    ("amounts", "codes"),
    [
        ({"fees_emoluments": 5158, "fees_vat": 1032}, []),
        ({"fees_emoluments": 1, "fees_disbursements": 0, "fees_vat": 0}, []),
        (
            {"fees_emoluments": 5159, "fees_vat": 1033},
            [
                ("/emoluments_cents", "ledger.write_off_above_fees"),
                ("/vat_cents", "ledger.write_off_above_fees"),
            ],
        ),
        ({"fees_disbursements": 1}, [("/disbursements_cents", "ledger.write_off_above_fees")]),
        ({"fees_emoluments": 0, "fees_vat": 0}, [("/", "ledger.write_off_empty")]),
    ],
)
def test_a_write_off_is_at_most_what_the_case_owes_per_fee_account(
    amounts: dict[str, int], codes: list[tuple[str, str]]
) -> None:
    charged = {"fees_emoluments": 5158, "fees_vat": 1032}
    if not codes:
        p.check_write_off(amounts=amounts, charged=charged, currency=EUR)
        return
    with pytest.raises(InvalidInput) as caught:
        p.check_write_off(amounts=amounts, charged=charged, currency=EUR)
    assert [(e.path, e.code) for e in caught.value.errors] == codes
