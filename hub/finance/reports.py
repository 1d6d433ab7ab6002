"""Finance reports as pure functions over plain rows (no I/O): the reconciliation of an office's fees
(reported, tariff, invoiced, paid, disputed) and its scorecard, the "net efficiency" agencies judge
offices on (money recovered minus fees, time to first act, refusals, flagged acts, cost per case).

Every money figure the ledger holds is read from ledger movements (``StatementLine``: the net of one
account for one kind of transaction and act code over the period), defined once here:

=====================  ===========================================================================
figure                 ledger movements over ``[from, to)`` (effective date)
=====================  ===========================================================================
``fees_cents``         fees claimed in act reports ("émoluments", "débours", VAT): the fee accounts
                       (``fees_emoluments``, ``fees_disbursements``, ``fees_vat``) in ``act_fees``
                       transactions (a write-off also moves them, but changes nothing the office
                       claimed)
``collected_cents``    money the office collected ("encaissement"): minus ``case_collections``
``invoiced_cents``     fees invoiced, posted when finance approves an invoice: minus ``fees_invoiced``
                       in ``invoice`` transactions (a payment moves it back)
``paid_cents``         fees paid to the office: minus ``fees_paid``
``remitted_cents``     money handed over to the agency ("reversement"): ``remitted_to_agency``
``written_off_cents``  fees given up as unrecoverable from the debtor: ``written_off``
=====================  ===========================================================================

Reversals are movements of the same kind and act, so every figure is net of corrections. Amounts
are integer cents; ratios and day counts are ``Decimal`` (never float), rounded half up.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from hub.ledger.postings import (
    ACT_FEES,
    CASE_COLLECTIONS,
    FEE_ACCOUNTS,
    FEES_INVOICED,
    FEES_PAID,
    INVOICE,
    REMITTED_TO_AGENCY,
    WRITTEN_OFF,
    StatementLine,
)

ALL_ACTS = "ALL"  # the act_code of an office's totals in the scorecard's rows


@dataclass(frozen=True)
class LedgerFigures:
    """The money figures of one office (or one act type of it) in one currency, from the ledger."""

    fees_cents: int = 0
    collected_cents: int = 0
    invoiced_cents: int = 0
    paid_cents: int = 0
    remitted_cents: int = 0
    written_off_cents: int = 0

    @property
    def net_cents(self) -> int:
        """Net efficiency in money: collected minus the fees claimed."""
        return self.collected_cents - self.fees_cents


def _contribution(line: StatementLine) -> LedgerFigures | None:
    if line.account in FEE_ACCOUNTS and line.kind == ACT_FEES:
        return LedgerFigures(fees_cents=line.cents)
    if line.account == CASE_COLLECTIONS:
        return LedgerFigures(collected_cents=-line.cents)
    if line.account == FEES_INVOICED and line.kind == INVOICE:
        return LedgerFigures(invoiced_cents=-line.cents)
    if line.account == FEES_PAID:
        return LedgerFigures(paid_cents=-line.cents)
    if line.account == REMITTED_TO_AGENCY:
        return LedgerFigures(remitted_cents=line.cents)
    if line.account == WRITTEN_OFF:
        return LedgerFigures(written_off_cents=line.cents)
    return None


def _plus(a: LedgerFigures, b: LedgerFigures) -> LedgerFigures:
    return LedgerFigures(
        a.fees_cents + b.fees_cents,
        a.collected_cents + b.collected_cents,
        a.invoiced_cents + b.invoiced_cents,
        a.paid_cents + b.paid_cents,
        a.remitted_cents + b.remitted_cents,
        a.written_off_cents + b.written_off_cents,
    )


def ledger_figures(
    lines: Iterable[StatementLine], currency: str
) -> tuple[LedgerFigures, dict[str, LedgerFigures]]:
    """The office's figures in ``currency``: its totals, and per act code (the movements of act
    report transactions; invoices and payments name no act, so they appear in the totals only)."""
    total = LedgerFigures()
    per_act: dict[str, LedgerFigures] = {}
    for line in lines:
        if line.currency != currency:
            continue
        part = _contribution(line)
        if part is None:
            continue
        total = _plus(total, part)
        if line.act_code is not None:
            per_act[line.act_code] = _plus(per_act.get(line.act_code, LedgerFigures()), part)
    return total, dict(sorted(per_act.items()))


# --- reconciliation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActRow:
    """One act report, as the tariff check reads it."""

    case_id: uuid.UUID
    act_code: str
    act_date: date
    claim_cents: int  # the case's claim (principal + interest + costs), which sets the coefficient
    currency: str


@dataclass(frozen=True)
class TariffCost:
    """What ``price`` answers for one act: its tariff cost incl. VAT and whether it bore the DEP."""

    total_cents: int
    engagement_fee_cents: int


@dataclass(frozen=True)
class ActTypeLine:
    act_code: str
    acts: int = 0
    unpriced_acts: int = 0  # no tariff for the act on its date (unknown code, no period in force)
    reported_cents: int = 0  # fees claimed, from the ledger
    tariff_cents: int = 0  # the tariff cost of the priced acts

    @property
    def reported_minus_tariff_cents(self) -> int:
        return self.reported_cents - self.tariff_cents


@dataclass(frozen=True)
class DisputeLine:
    """Invoice lines of the period with a finding, by the line's result (its first finding)."""

    code: str
    lines: int
    cents: int  # net + VAT of those lines, signed


@dataclass(frozen=True)
class Reconciliation:
    office_code: str
    start: date
    end: date
    currency: str
    ledger: LedgerFigures
    act_types: tuple[ActTypeLine, ...]
    disputes: tuple[DisputeLine, ...]
    invoices_received: int  # invoice documents issued in the period (any state)
    invoices_received_cents: int  # their gross totals, signed (credits negative), from the invoices

    @property
    def acts(self) -> int:
        return sum(line.acts for line in self.act_types)

    @property
    def unpriced_acts(self) -> int:
        return sum(line.unpriced_acts for line in self.act_types)

    @property
    def tariff_cents(self) -> int:
        return sum(line.tariff_cents for line in self.act_types)

    @property
    def disputed_lines(self) -> int:
        return sum(d.lines for d in self.disputes)

    @property
    def disputed_cents(self) -> int:
        return sum(d.cents for d in self.disputes)


def tariff_per_act_type(
    acts: Sequence[ActRow],
    start: date,
    end: date,
    currency: str,
    price: Callable[[ActRow, bool], TariffCost | None],
) -> dict[str, tuple[int, int, int]]:
    """act code -> (acts, unpriced acts, tariff cents) of the acts dated in ``[start, end)``.

    ``acts`` holds the office's acts on the cases concerned up to ``end`` (earlier ones too), so the
    "droit d'engagement des poursuites" is counted once per case: ``price(act, already_charged)``
    is told whether an earlier act of the case bore it. ``price`` answers None when the act cannot
    be priced. Acts in another currency than the tariff's are unpriced."""
    charged: set[uuid.UUID] = set()
    result: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for act in sorted(acts, key=lambda a: (str(a.case_id), a.act_date)):
        in_period = start <= act.act_date < end
        cost = price(act, act.case_id in charged) if act.currency == currency else None
        if cost is not None and cost.engagement_fee_cents:
            charged.add(act.case_id)
        if not in_period:
            continue
        line = result[act.act_code]
        line[0] += 1
        if cost is None:
            line[1] += 1
        else:
            line[2] += cost.total_cents
    return {code: (n, unpriced, cents) for code, (n, unpriced, cents) in sorted(result.items())}


def reconciliation(
    *,
    office_code: str,
    start: date,
    end: date,
    currency: str,
    lines: Iterable[StatementLine],
    tariff: dict[str, tuple[int, int, int]],
    disputes: Iterable[tuple[str, int, int]],
    invoices_received: tuple[int, int],
) -> Reconciliation:
    """The reconciliation of one office over ``[start, end)``: ``lines`` its ledger movements,
    ``tariff`` from ``tariff_per_act_type``, ``disputes`` (code, lines, cents) and
    ``invoices_received`` (count, gross cents) of the invoices issued in the period."""
    total, per_act = ledger_figures(lines, currency)
    codes = sorted(set(per_act) | set(tariff))
    act_types = []
    for code in codes:
        n, unpriced, tariff_cents = tariff.get(code, (0, 0, 0))
        reported = per_act.get(code, LedgerFigures()).fees_cents
        act_types.append(ActTypeLine(code, n, unpriced, reported, tariff_cents))
    return Reconciliation(
        office_code=office_code,
        start=start,
        end=end,
        currency=currency,
        ledger=total,
        act_types=tuple(act_types),
        disputes=tuple(DisputeLine(code, n, cents) for code, n, cents in sorted(disputes)),
        invoices_received=invoices_received[0],
        invoices_received_cents=invoices_received[1],
    )


# --- scorecard -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActCount:
    acts: int
    flagged: int  # executed although the cost check flagged them, without an approval


@dataclass(frozen=True)
class MandateRow:
    """A mandate sent to the office in the period: when, whether it refused it, its first act."""

    issued_on: date
    refused: bool
    first_act_on: date | None


@dataclass(frozen=True)
class ScoreLine:
    act_code: str
    acts: int
    flagged_acts: int
    ledger: LedgerFigures


@dataclass(frozen=True)
class Scorecard:
    office_code: str
    start: date
    end: date
    currency: str
    total: ScoreLine  # act_code ALL
    act_types: tuple[ScoreLine, ...]
    cases: int  # cases with an act reported in the period
    mandates_sent: int
    mandates_refused: int
    first_act_mandates: int  # mandates sent in the period with an act reported
    first_act_median_days: Decimal | None
    first_act_mean_days: Decimal | None
    # Money the office holds today (whatever the period), collected and not remitted, in
    # ``currency``: the day of its oldest unremitted collection, and whether that is past the
    # agency's remittance deadline (hub.remittances.ageing).
    unremitted_cents: int = 0
    unremitted_oldest_on: date | None = None
    unremitted_overdue: bool = False

    @property
    def refusal_rate(self) -> Decimal | None:
        if not self.mandates_sent:
            return None
        return _decimal(Fraction(self.mandates_refused, self.mandates_sent), "0.0001")

    @property
    def cost_per_case_cents(self) -> int | None:
        return _per(self.total.ledger.fees_cents, self.cases)

    @property
    def recovered_per_case_cents(self) -> int | None:
        return _per(self.total.ledger.collected_cents, self.cases)


def _round(value: Fraction) -> int:
    """Nearest integer, halves away from zero (ROUND_HALF_UP on the magnitude), exactly."""
    sign = -1 if value < 0 else 1
    whole, rest = divmod(abs(value.numerator), value.denominator)
    return sign * (whole + (1 if 2 * rest >= value.denominator else 0))


def _per(cents: int, count: int) -> int | None:
    return _round(Fraction(cents, count)) if count else None


def _decimal(value: Fraction, places: str) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def days_to_first_act(mandates: Iterable[MandateRow]) -> tuple[int, Decimal | None, Decimal | None]:
    """(mandates with a first act, median days, mean days) from issue to the first act reported,
    to a tenth of a day; None when no mandate has an act."""
    days = sorted((m.first_act_on - m.issued_on).days for m in mandates if m.first_act_on is not None)
    if not days:
        return 0, None, None
    middle = len(days) // 2
    median = Fraction(days[middle]) if len(days) % 2 else Fraction(days[middle - 1] + days[middle], 2)
    return len(days), _decimal(median, "0.1"), _decimal(Fraction(sum(days), len(days)), "0.1")


def scorecard(
    *,
    office_code: str,
    start: date,
    end: date,
    currency: str,
    lines: Iterable[StatementLine],
    acts: dict[str, ActCount],
    cases: int,
    mandates: Sequence[MandateRow],
) -> Scorecard:
    """One office's scorecard over ``[start, end)``: ``lines`` its ledger movements, ``acts`` its act
    reports dated in the period per act code, ``cases`` how many cases they concern, ``mandates``
    the mandates issued to it in the period."""
    total, per_act = ledger_figures(lines, currency)
    codes = sorted(set(per_act) | set(acts))
    act_types = tuple(
        ScoreLine(
            code,
            acts.get(code, ActCount(0, 0)).acts,
            acts.get(code, ActCount(0, 0)).flagged,
            per_act.get(code, LedgerFigures()),
        )
        for code in codes
    )
    with_act, median, mean = days_to_first_act(mandates)
    return Scorecard(
        office_code=office_code,
        start=start,
        end=end,
        currency=currency,
        total=ScoreLine(
            ALL_ACTS, sum(c.acts for c in acts.values()), sum(c.flagged for c in acts.values()), total
        ),
        act_types=act_types,
        cases=cases,
        mandates_sent=len(mandates),
        mandates_refused=sum(1 for m in mandates if m.refused),
        first_act_mandates=with_act,
        first_act_median_days=median,
        first_act_mean_days=mean,
    )
