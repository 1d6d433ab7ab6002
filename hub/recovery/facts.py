"""What the recovery and policy rules know about a case: frozen inputs, built by the caller.

The mandates service builds a :class:`CaseFacts` from database rows and passes it, with a date, to
``hub.recovery.plausibility.assess`` and ``hub.policy.guardrails.check``. Nothing here reads a
database or a clock.

Money is integer cents, never ``float``. **Unknown evidence is ``None``, never zero**: a bank
balance of ``None`` means "we do not know the account", ``0`` means "the account is known and
empty". The rules treat ``None`` with a stated neutral assumption, and say so in their explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from hub.kit.errors import InvalidInput
from schemas.v1.mandate import DebtorKind, TitleKind
from schemas.v1.outcomes import OutcomeCode

__all__ = [
    "ActRecord",
    "CaseFacts",
    "ClaimKind",
    "DebtorKind",
    "Evidence",
    "InsolvencyKind",
    "InvalidFacts",
    "OutcomeCode",
    "Title",
    "TitleKind",
]

_CURRENCY = re.compile(r"^[A-Z]{3}$")


class InvalidFacts(InvalidInput):
    """The case facts are inconsistent (negative amount, service before issue...): fix the case data."""

    code = "invalid_case_facts"


class ClaimKind(StrEnum):
    """The nature of the debt, which sets its limitation period and some fees.

    - ``consumer``: créance d'un professionnel sur un consommateur (2 years, art. L218-2 C. conso).
    - ``commercial``: créance entre commerçants / de droit commun (5 years).
    - ``wage``: créance salariale.
    - ``maintenance``: pension alimentaire.
    """

    CONSUMER = "consumer"
    COMMERCIAL = "commercial"
    WAGE = "wage"
    MAINTENANCE = "maintenance"


class InsolvencyKind(StrEnum):
    """Which insolvency proceedings, when the agency knows (the guardrails infer it otherwise).

    - ``over_indebtedness``: a "surendettement" file declared admissible by the commission; it
      suspends and forbids enforcement against the debtor's goods (art. L722-2 C. conso).
    - ``over_indebtedness_filed``: a file lodged with the commission, admissibility not decided
      yet; nothing is suspended by law, a person reviews each coercive act.
    - ``collective_proceedings``: "sauvegarde", "redressement" or "liquidation judiciaire" opened;
      the opening judgment stops every individual enforcement (art. L622-21 C. com).
    """

    OVER_INDEBTEDNESS = "over_indebtedness"
    OVER_INDEBTEDNESS_FILED = "over_indebtedness_filed"
    COLLECTIVE_PROCEEDINGS = "collective_proceedings"


def _cents(name: str, value: int | None, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if type(value) is not int:
        raise TypeError(f"{name} must be integer cents, got {type(value).__name__}")
    if value < 0:
        raise InvalidFacts(f"{name} cannot be negative, got {value}")


def _flag(name: str, value: bool | None) -> None:
    if value is not None and type(value) is not bool:
        raise TypeError(f"{name} must be true, false or unknown (None), got {type(value).__name__}")


@dataclass(frozen=True, kw_only=True)
class Title:
    """The enforceable title ("titre exécutoire") the enforcement acts rely on."""

    kind: TitleKind
    issued_on: date
    """Date of the decision, order or deed."""
    served_on: date | None = None
    """Date it was served on the debtor ("signification"); ``None`` = not served, or not known."""

    def __post_init__(self) -> None:
        if self.served_on is not None and self.served_on < self.issued_on:
            raise InvalidFacts(
                f"the title is served on {self.served_on.isoformat()}, before it was issued "
                f"on {self.issued_on.isoformat()}"
            )

    @property
    def is_injunction(self) -> bool:
        """An "ordonnance portant injonction de payer": void unless served within 6 months."""
        return self.kind is TitleKind.PAYMENT_ORDER


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """What is known about the debtor's means and situation. Every field: ``None`` = unknown."""

    bank_balance_cents: int | None = None
    """Known balance of a known account; ``None`` when no account or balance is known."""
    monthly_net_income_cents: int | None = None
    """Net monthly pay ("rémunération nette"), for the wage-garnishment scale."""
    dependents: int | None = None
    """People the debtor supports ("personnes à charge"), each raising the scale's bands."""
    seizable_goods_value_cents: int | None = None
    """Estimated value of movable goods that may be seized (before the auction discount)."""
    address_known: bool | None = None
    """``False``: the debtor is known not to live at the address on file (e.g. after a PV 659)."""
    last_no_goods_report_on: date | None = None
    """Date of the last "PV de carence" (a visit that found no seizable goods)."""
    vulnerable: bool | None = None
    """Flagged vulnerable by the agency (illness, disability, hardship)."""
    payment_plan_active: bool | None = None
    """An agreed payment plan ("échéancier") is running."""
    disputed: bool | None = None
    """The debtor disputes the claim ("contestation")."""
    insolvency_proceedings: bool | None = None
    """Over-indebtedness or insolvency proceedings ("surendettement", "procédure collective") are
    under way: taken as admissible or opened, so enforcement is barred, unless ``insolvency_kind``
    says the file is only lodged."""
    insolvency_kind: InsolvencyKind | None = None
    """Which proceedings, when known; only with ``insolvency_proceedings=True``. ``None``: the
    guardrails infer it from the debtor (a company: collective proceedings; a person:
    over-indebtedness, or collective proceedings if a trader)."""
    bank_balance_seen_on: date | None = None
    """When the known balance was seen: a balance seen a year ago is weak evidence."""
    pending_debits_cents: int | None = None
    """Debits pending on the known account when its balance was seen (cheques, card payments): the
    bank may still settle them in the 15 days after a garnishment (art. L162-1 CPCE)."""
    income_seen_on: date | None = None
    """When the debtor's pay was known to be ``monthly_net_income_cents``."""
    goods_valued_on: date | None = None
    """When the seizable goods were estimated."""
    vehicle_value_cents: int | None = None
    """Estimated value of the debtor's vehicle, for an immobilisation (the seizure of the vehicle)."""
    vehicle_valued_on: date | None = None
    debtor_deceased: bool | None = None
    """The debtor died (a ``debtor_deceased`` case update): no act is directed at them any more."""
    limitation_reached_on: date | None = None
    """The agency recorded that the claim's limitation period ran out on this day (a
    ``limitation_reached`` case update): nothing may be pursued from then on."""

    def __post_init__(self) -> None:
        _cents("bank_balance_cents", self.bank_balance_cents, optional=True)
        _cents("pending_debits_cents", self.pending_debits_cents, optional=True)
        _cents("vehicle_value_cents", self.vehicle_value_cents, optional=True)
        _cents("monthly_net_income_cents", self.monthly_net_income_cents, optional=True)
        _cents("seizable_goods_value_cents", self.seizable_goods_value_cents, optional=True)
        if self.dependents is not None:
            if type(self.dependents) is not int:
                raise TypeError(f"dependents must be an integer, got {type(self.dependents).__name__}")
            if self.dependents < 0:
                raise InvalidFacts(f"dependents cannot be negative, got {self.dependents}")
        for name in (
            "address_known",
            "vulnerable",
            "payment_plan_active",
            "disputed",
            "insolvency_proceedings",
            "debtor_deceased",
        ):
            _flag(name, getattr(self, name))
        if self.insolvency_kind is not None:
            if not isinstance(self.insolvency_kind, InsolvencyKind):
                raise TypeError(f"insolvency_kind must be an InsolvencyKind, got {self.insolvency_kind!r}")
            if self.insolvency_proceedings is not True:
                raise InvalidFacts("insolvency_kind is given, but insolvency_proceedings is not true")


@dataclass(frozen=True, kw_only=True)
class ActRecord:
    """One act on the case: performed and reported, or ordered and not reported yet.

    ``outcome is None`` means no act report has arrived (an act already ordered, or one planned in
    the same mandate): it counts for pacing and prerequisites, never as evidence of insolvency nor
    for learning expected recovery.
    """

    act_code: str
    on: date
    """The act's date when reported; the day it was ordered (or planned) otherwise."""
    outcome: OutcomeCode | None = None
    office: str | None = None
    seized_cents: int = 0
    collected_cents: int = 0
    reference: str | None = None
    """The office's own reference of the act report, so a reason can name it (``None``: not known)."""

    def __post_init__(self) -> None:
        _cents("seized_cents", self.seized_cents)
        _cents("collected_cents", self.collected_cents)

    @property
    def brought_money(self) -> bool:
        return self.seized_cents > 0 or self.collected_cents > 0


@dataclass(frozen=True, kw_only=True)
class CaseFacts:
    """Everything the rules need about one case ("dossier"), as of the day it is assessed."""

    principal_cents: int
    interest_cents: int = 0
    costs_cents: int = 0
    """Recoverable costs already incurred ("frais")."""
    paid_cents: int = 0
    """Payments received ("acomptes"), deducted from the balance."""
    currency: str = "EUR"
    claim_kind: ClaimKind
    debtor_kind: DebtorKind
    title: Title | None = None
    evidence: Evidence = field(default_factory=Evidence)
    claim_started_on: date | None = None
    """When the limitation period of a claim without title started running ("point de départ de la
    prescription": due date of the unpaid sum, or the last interruption such as an acknowledgement of
    the debt). ``None`` = unknown."""
    acts: tuple[ActRecord, ...] = ()
    """The acts on this case, in any order."""
    debtor_acts_elsewhere: tuple[ActRecord, ...] = ()
    """Acts against the same debtor on the debtor's other cases: they count for pacing only."""
    creditor_reclaims_vat: bool = False
    """The creditor deducts the VAT it pays (most banks cannot): VAT on costs it bears is then no cost."""
    fees_borne_cents: int = 0
    """Fees charged on the case so far, from the ledger (``hub.recovery.stop_loss``)."""
    recovered_cents: int = 0
    """Money recovered on the case so far, from the ledger and the agency's direct payments."""

    def __post_init__(self) -> None:
        for name in (
            "principal_cents",
            "interest_cents",
            "costs_cents",
            "paid_cents",
            "fees_borne_cents",
            "recovered_cents",
        ):
            _cents(name, getattr(self, name))
        if not _CURRENCY.match(self.currency):
            raise InvalidFacts(f"currency must be an ISO 4217 code such as EUR, got {self.currency!r}")
        if not isinstance(self.acts, tuple) or not isinstance(self.debtor_acts_elsewhere, tuple):
            raise TypeError("acts and debtor_acts_elsewhere must be tuples of ActRecord")

    @property
    def outstanding_cents(self) -> int:
        """Principal + interest + recoverable costs - payments; an overpayment leaves nothing owed."""
        owed = self.principal_cents + self.interest_cents + self.costs_cents - self.paid_cents
        return max(owed, 0)

    def acts_before(self, on: date, *, codes: frozenset[str] | None = None) -> list[ActRecord]:
        """This case's acts dated on or before ``on`` (optionally of some codes), latest first."""
        found = [a for a in self.acts if a.on <= on and (codes is None or a.act_code in codes)]
        return sorted(found, key=lambda a: a.on, reverse=True)
