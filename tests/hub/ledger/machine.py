"""A hypothesis state machine for the ledger: random postings (every movement, and arbitrary balanced
and unbalanced transactions over random accounts, cases, offices, currencies and dates) and random
reversals, against a plain in-memory model. After every step, for every case, office and creditor
and for a period, the ledger's balances equal the model's sums and a raw SUM over the stored entries,
every transaction balances per currency, and every amount read back is an ``int``.

The same rules run against two ledgers (``ledgers.py``): ``PureLedger``, the pure rules of
``hub.ledger.postings`` with entries in a list, and ``DatabaseLedger``, the real service and
repository on SQLite or PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Protocol

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from hub.kit.errors import Conflict, HubError, InvalidInput, NotFound
from hub.ledger import postings as p
from hub.ledger.postings import Balances, Posting, Statement

CURRENCIES = ("EUR", "CHF")
FIRST_DAY, LAST_DAY = date(2026, 1, 1), date(2026, 12, 31)
# Above 2**53: an amount that went through a float on its way would come back changed.
MAX_CENTS = 10**16
CASES_PER_CREDITOR = (2, 1)
OFFICES = 2


@dataclass(frozen=True)
class Entry:
    """One stored entry with what its balances are filtered on."""

    transaction_id: uuid.UUID
    account: str
    currency: str
    cents: int
    case_id: uuid.UUID | None
    office_id: uuid.UUID | None
    on: date
    kind: str


@dataclass(frozen=True)
class Parties:
    offices: list[uuid.UUID]
    creditor_of: dict[uuid.UUID, uuid.UUID]  # case -> creditor

    @property
    def cases(self) -> list[uuid.UUID]:
        return list(self.creditor_of)

    @property
    def creditors(self) -> list[uuid.UUID]:
        return sorted(set(self.creditor_of.values()))


class Ledger(Protocol):
    """What the machine drives: the real service on a database, or the pure rules in memory."""

    parties: Parties

    def post(
        self,
        kind: str,
        lines: list[Posting],
        *,
        on: date,
        source: str,
        case: uuid.UUID | None,
        office: uuid.UUID,
    ) -> uuid.UUID: ...
    def reverse(self, transaction_id: uuid.UUID, *, reason: str, on: date) -> uuid.UUID: ...
    def balances(self, **where: Any) -> Balances: ...
    def statement(self, office: uuid.UUID, start: date, end: date) -> Statement: ...
    def stored_entries(self) -> list[Entry]:
        """Every entry of this sequence's offices, read back as stored (types included)."""
        ...

    def raw_sums(self) -> list[tuple[Entry, object]]:
        """SUM(amount) grouped by every dimension, straight from storage: (group as an Entry with
        cents 0 and no transaction, the sum as read)."""
        ...

    def unbalanced(self) -> list[uuid.UUID]: ...
    def close(self) -> None: ...


# The model: what the ledger must hold, kept as plainly as possible.


@dataclass
class Model:
    parties: Parties
    entries: list[Entry] = field(default_factory=list)
    dates: dict[uuid.UUID, date] = field(default_factory=dict)
    reverses: dict[uuid.UUID, uuid.UUID | None] = field(default_factory=dict)
    reversed_by: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)

    def record(
        self,
        transaction_id: uuid.UUID,
        kind: str,
        lines: list[tuple[str, str, int, uuid.UUID | None, uuid.UUID | None]],
        on: date,
        reverses: uuid.UUID | None = None,
    ) -> None:
        for account, currency, cents, case, office in lines:
            self.entries.append(Entry(transaction_id, account, currency, cents, case, office, on, kind))
        self.dates[transaction_id] = on
        self.reverses[transaction_id] = reverses
        if reverses is not None:
            self.reversed_by[reverses] = transaction_id

    def of(self, transaction_id: uuid.UUID) -> list[Entry]:
        return [e for e in self.entries if e.transaction_id == transaction_id]

    def sums(self, keep: Callable[[Entry], bool], rows: list[Entry] | None = None) -> Balances:
        totals: dict[str, dict[str, int]] = {}
        for entry in self.entries if rows is None else rows:
            if keep(entry):
                per = totals.setdefault(entry.account, {})
                per[entry.currency] = per.get(entry.currency, 0) + entry.cents
        return {
            account: {c: cents for c, cents in sorted(per.items()) if cents}
            for account, per in sorted(totals.items())
            if any(per.values())
        }

    def filters(self, period: tuple[date, date]) -> list[tuple[dict[str, Any], Callable[[Entry], bool]]]:
        """Every balance query the machine checks, with the entries it must add up."""
        start, end = period
        creditor_of = self.parties.creditor_of
        checks: list[tuple[dict[str, Any], Callable[[Entry], bool]]] = []
        for case in self.parties.cases:
            checks.append(({"case_id": case}, lambda e, c=case: e.case_id == c))
        for office in self.parties.offices:
            checks.append(({"office_id": office}, lambda e, o=office: e.office_id == o))
        for creditor in self.parties.creditors:
            checks.append(
                (
                    {"creditor_id": creditor},
                    lambda e, k=creditor: e.case_id is not None and creditor_of[e.case_id] == k,
                )
            )
        in_period: Callable[[Entry], bool] = lambda e: start <= e.on < end  # noqa: E731
        first_case, first_creditor = self.parties.cases[0], self.parties.creditors[0]
        checks.append(
            (
                {"case_id": first_case, "start": start, "end": end},
                lambda e: e.case_id == first_case and in_period(e),
            )
        )
        checks.append(
            (
                {"creditor_id": first_creditor, "start": start, "end": end},
                lambda e: e.case_id is not None and creditor_of[e.case_id] == first_creditor and in_period(e),
            )
        )
        return checks


# Strategies.

dates = st.dates(FIRST_DAY, LAST_DAY)
# An effective date: any day, or often a day at the edge of the period the sequence checks (its
# first day, the day before, its end, which is outside): where an off-by-one in a query shows.
Day = date | tuple[str, int]
days = dates | st.tuples(st.sampled_from(["start", "end"]), st.integers(-1, 1))
cents = st.integers(0, MAX_CENTS)
currencies = st.sampled_from(CURRENCIES)
accounts = st.sampled_from([*p.ACCOUNTS, "adjustment"])
lines_of = st.lists(
    st.tuples(accounts, currencies, st.integers(-MAX_CENTS, MAX_CENTS)), min_size=1, max_size=5
)


@st.composite
def movements(draw: st.DrawFn) -> tuple[str, list[Posting]]:
    """One of the six movements, built by its posting builder (empty when every amount is zero)."""
    kind = draw(st.sampled_from(p.KINDS))
    currency = draw(currencies)
    if kind in (p.ACT_FEES, p.WRITE_OFF):
        build = p.act_fee_postings if kind == p.ACT_FEES else p.write_off_postings
        amounts = draw(st.tuples(cents, cents, cents) | st.just((0, 0, 0)))
        return kind, build(
            emoluments_cents=amounts[0],
            disbursements_cents=amounts[1],
            vat_cents=amounts[2],
            currency=currency,
        )
    amount = draw(cents | st.just(0))
    simple: dict[str, Callable[[int, str], list[Posting]]] = {
        p.COLLECTION: lambda c, cur: p.collection_postings(collected_cents=c, currency=cur),
        p.REMITTANCE: lambda c, cur: p.remittance_postings(remitted_cents=c, currency=cur),
        p.INVOICE: lambda c, cur: p.invoice_postings(invoiced_cents=c, currency=cur),
        p.INVOICE_PAYMENT: lambda c, cur: p.invoice_payment_postings(paid_cents=c, currency=cur),
    }
    return kind, simple[kind](amount, currency)


@st.composite
def balanced_lines(draw: st.DrawFn) -> list[Posting]:
    """Random entries over random accounts, each currency closed by one more entry, put anywhere."""
    lines = [Posting(a, c, cur) for a, cur, c in draw(lines_of)]
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.currency] += line.amount_cents
    for currency, total in sorted(totals.items()):
        lines.insert(draw(st.integers(0, len(lines))), Posting(draw(accounts), -total, currency))
    return lines


@st.composite
def unbalanced_lines(draw: st.DrawFn) -> list[Posting]:
    """Random entries that do not sum to zero in at least one currency."""
    lines = [Posting(a, c, cur) for a, cur, c in draw(lines_of)]
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.currency] += line.amount_cents
    if not any(totals.values()):
        off_by = draw(st.integers(1, MAX_CENTS))
        lines.append(Posting(draw(accounts), off_by, lines[0].currency))
    return lines


def ints_only(balances: Balances) -> Balances:
    for per in balances.values():
        for value in per.values():
            assert type(value) is int, f"{value!r} is a {type(value).__name__}, not int"
    return balances


class LedgerMachine(RuleBasedStateMachine):
    transactions = Bundle("transactions")

    def __init__(self, ledger: Ledger) -> None:
        super().__init__()
        self.ledger = ledger
        self.parties = ledger.parties
        self.model = Model(ledger.parties)
        self.period = (FIRST_DAY, LAST_DAY)
        self.count = 0

    # Often a month's first day, as a monthly report's: an office's statement opens with its months
    # before the period as the database keeps them, and the entries of the period's first month
    # before its start.
    @initialize(start=dates | dates.map(lambda day: day.replace(day=1)), days=st.integers(0, 200))
    def choose_a_period(self, start: date, days: int) -> None:
        self.period = (start, start + timedelta(days=days))

    def _day(self, day: Day) -> date:
        if isinstance(day, date):
            return day
        anchor, delta = day
        return (self.period[0] if anchor == "start" else self.period[1]) + timedelta(days=delta)

    def _who(self, case: int | None, office: int) -> tuple[uuid.UUID | None, uuid.UUID]:
        return (None if case is None else self.parties.cases[case]), self.parties.offices[office]

    def _post(
        self, kind: str, lines: list[Posting], on: date, case: int | None, office: int
    ) -> uuid.UUID | None:
        case_id, office_id = self._who(case, office)
        if not lines:
            try:
                self.ledger.post(kind, lines, on=on, source=f"test:{kind}", case=case_id, office=office_id)
            except p.UnbalancedTransaction:
                return None
            raise AssertionError("a transaction without entries was written")
        transaction_id = self.ledger.post(
            kind, lines, on=on, source=f"test:{kind}", case=case_id, office=office_id
        )
        self.model.record(
            transaction_id,
            kind,
            [(x.account, x.currency, x.amount_cents, case_id, office_id) for x in lines],
            on,
        )
        return transaction_id

    @rule(
        target=transactions,
        movement=movements(),
        on=days,
        case=st.none() | st.integers(0, sum(CASES_PER_CREDITOR) - 1),
        office=st.integers(0, OFFICES - 1),
    )
    def post_a_movement(
        self, movement: tuple[str, list[Posting]], on: Day, case: int | None, office: int
    ) -> Any:
        kind, lines = movement
        posted = self._post(kind, lines, self._day(on), case, office)
        return multiple() if posted is None else posted

    @rule(
        target=transactions,
        lines=balanced_lines(),
        kind=st.sampled_from([*p.KINDS, "adjustment"]),
        on=days,
        case=st.none() | st.integers(0, sum(CASES_PER_CREDITOR) - 1),
        office=st.integers(0, OFFICES - 1),
    )
    def post_balanced_entries(
        self, lines: list[Posting], kind: str, on: Day, case: int | None, office: int
    ) -> Any:
        return self._post(kind, lines, self._day(on), case, office)

    @rule(lines=unbalanced_lines(), on=dates, office=st.integers(0, OFFICES - 1))
    def unbalanced_entries_are_refused(self, lines: list[Posting], on: date, office: int) -> None:
        try:
            self.ledger.post(
                "adjustment",
                lines,
                on=on,
                source="test:unbalanced",
                case=None,
                office=self.parties.offices[office],
            )
        except p.UnbalancedTransaction:
            return
        raise AssertionError(f"unbalanced entries were written: {lines}")

    @rule(
        target=transactions,
        transaction=transactions,
        later=st.integers(-3, 90) | days,
        reason=st.sampled_from(["entered twice", "wrong amount", " "]),
    )
    def reverse(self, transaction: uuid.UUID, later: int | Day, reason: str) -> Any:
        """Dated some days after the original (or before: refused), or at an edge of the period."""
        original_on = self.model.dates[transaction]
        on = original_on + timedelta(days=later) if isinstance(later, int) else self._day(later)
        expected: tuple[type[HubError], list[str]] | None = None
        invalid = [
            code
            for code, wrong in (
                ("ledger.reason_required", not reason.strip()),
                ("ledger.reversal_before_original", on < original_on),
            )
            if wrong
        ]
        if invalid:
            expected = (InvalidInput, invalid)
        elif self.model.reverses[transaction] is not None:
            expected = (Conflict, ["ledger.reversal_not_reversible"])
        elif transaction in self.model.reversed_by:
            expected = (Conflict, ["ledger.already_reversed"])
        try:
            reversal = self.ledger.reverse(transaction, reason=reason, on=on)
        except HubError as error:
            assert expected is not None, f"reversal refused: {error.code} {error.detail}"
            kind, codes = expected
            assert isinstance(error, kind)
            assert ([e.code for e in error.errors] if kind is InvalidInput else [error.code]) == codes
            return multiple()
        assert expected is None, f"reversal written although {expected[1]}"
        original = self.model.of(transaction)
        self.model.record(
            reversal,
            original[0].kind,
            [(e.account, e.currency, -e.cents, e.case_id, e.office_id) for e in original],
            on,
            reverses=transaction,
        )
        return reversal

    @rule()
    def an_unknown_transaction_is_not_found(self) -> None:
        try:
            self.ledger.reverse(uuid.uuid4(), reason="x", on=FIRST_DAY)
        except NotFound as error:
            assert error.code == "ledger.transaction_not_found"
            return
        raise AssertionError("an unknown transaction was reversed")

    @invariant()
    def storage_holds_exactly_the_models_entries(self) -> None:
        self.count += 1
        stored = self.ledger.stored_entries()
        for entry in stored:
            assert type(entry.cents) is int, f"{entry.cents!r} read back as {type(entry.cents).__name__}"
        key = lambda e: (e.transaction_id.int, e.account, e.currency, e.cents)  # noqa: E731
        assert sorted(stored, key=key) == sorted(self.model.entries, key=key)
        per_transaction: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
        for entry in stored:
            per_transaction[(entry.transaction_id, entry.currency)] += entry.cents
        assert not any(per_transaction.values()), "a stored transaction does not balance"
        assert self.ledger.unbalanced() == []

    @invariant()
    def every_balance_equals_the_model_and_a_raw_sum(self) -> None:
        raw = []
        for group, total in self.ledger.raw_sums():
            # PostgreSQL sums BIGINT as NUMERIC (Decimal): fine if whole; a float never is.
            assert not isinstance(total, float), f"a float sum: {total!r}"
            assert int(total) == total, f"a fractional sum: {total!r}"  # type: ignore[call-overload]
            raw.append(replace(group, cents=int(total)))  # type: ignore[call-overload]
        for where, keep in self.model.filters(self.period):
            expected = self.model.sums(keep)
            assert ints_only(self.ledger.balances(**where)) == expected, where
            assert self.model.sums(keep, raw) == expected, where

    @invariant()
    def each_office_statement_equals_its_entries(self) -> None:
        start, end = self.period
        for office in self.parties.offices:
            statement = self.ledger.statement(office, start, end)
            assert ints_only(statement.opening) == self.model.sums(
                lambda e, o=office: e.office_id == o and e.on < start
            )
            in_period = [e for e in self.model.entries if e.office_id == office and start <= e.on < end]
            assert ints_only(statement.movements()) == self.model.sums(lambda e: True, in_period)
            kinds = {e.kind for e in in_period}
            by_kind = {k: self.model.sums(lambda e, k=k: e.kind == k, in_period) for k in sorted(kinds)}
            assert statement.by_kind() == {k: b for k, b in by_kind.items() if b}
            assert all(type(line.cents) is int and line.cents for line in statement.lines)
            assert statement.by_act() == {}  # no act report behind these sources

    def teardown(self) -> None:
        self.ledger.close()
