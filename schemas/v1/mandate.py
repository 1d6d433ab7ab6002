"""Mandate (agency -> office), its acknowledgement (office -> agency) and its cancellation
(agency -> office: cancelled by the agency, or expired).

A mandate is per-act ("mandat à l'acte": the agency orders the listed acts, one decision at a time)
or whole-file ("mandat au dossier": the office chooses its procedures within a fee budget).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from schemas.v1.common import (
    ActCode,
    Cents,
    Currency,
    LongText,
    PositiveCents,
    Reference,
    Text,
    Timestamp,
    WireModel,
    rule_error,
)
from schemas.v1.envelope import MessageModel

PostalCode = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z][0-9A-Z -]{1,8}[0-9A-Z]$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Siren = Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$")]


class DebtorKind(StrEnum):
    """``person``: personne physique; ``company``: personne morale."""

    PERSON = "person"
    COMPANY = "company"


class Address(WireModel):
    """A postal address (France by default)."""

    street: Text
    """Number and street, e.g. ``12 rue de la Roquette``."""
    complement: Text | None = None
    """Building, floor, "chez", lieu-dit."""
    postal_code: PostalCode
    city: Text
    country: CountryCode = "FR"
    """ISO 3166-1 alpha-2 code."""


class Debtor(WireModel):
    """Who owes: a person (last and first name, birth date if known) or a company (name, SIREN)."""

    kind: DebtorKind
    last_name: Text | None = None
    """Nom de naissance or nom d'usage; required for a person."""
    first_name: Text | None = None
    birth_date: date | None = None
    birth_place: Text | None = None
    company_name: Text | None = None
    """Dénomination sociale; required for a company."""
    siren: Siren | None = None
    address: Address
    """Last known address."""

    @model_validator(mode="after")
    def _identity_complete(self) -> Self:
        if self.kind is DebtorKind.PERSON and self.last_name is None:
            raise rule_error("debtor.last_name_required", "a person needs a last_name", at="last_name")
        if self.kind is DebtorKind.COMPANY and self.company_name is None:
            raise rule_error(
                "debtor.company_name_required", "a company needs a company_name", at="company_name"
            )
        return self


class Claim(WireModel):
    """What is owed, in cents, at the date of the mandate."""

    currency: Currency = "EUR"
    principal_cents: Cents
    """Principal ("principal de la créance")."""
    interest_cents: Cents = 0
    """Interest accrued ("intérêts")."""
    costs_cents: Cents = 0
    """Recoverable costs already incurred ("frais")."""
    paid_cents: Cents = 0
    """Payments already received ("acomptes"), deducted from the balance."""

    @property
    def outstanding_cents(self) -> int:
        """The balance still owed: principal + interest + costs - payments."""
        return self.principal_cents + self.interest_cents + self.costs_cents - self.paid_cents


class TitleKind(StrEnum):
    """The enforceable title ("titre exécutoire"):

    - ``payment_order``: ordonnance portant injonction de payer revêtue de la formule exécutoire.
    - ``judgment``: jugement ou arrêt.
    - ``notarial_deed``: acte notarié revêtu de la formule exécutoire.
    - ``enforceable_certificate``: titre délivré par le commissaire de justice (procédure simplifiée,
      art. L125-1 CPCE).
    - ``other``: autre titre exécutoire.
    """

    PAYMENT_ORDER = "payment_order"
    JUDGMENT = "judgment"
    NOTARIAL_DEED = "notarial_deed"
    ENFORCEABLE_CERTIFICATE = "enforceable_certificate"
    OTHER = "other"


class Title(WireModel):
    """The enforceable title the acts rely on."""

    kind: TitleKind
    issued_on: date
    """Date of the decision or deed."""
    served_on: date | None = None
    """Date it was served on the debtor, if it has been."""
    reference: Reference | None = None
    """Court's or notary's reference (numéro RG, minute)."""

    @model_validator(mode="after")
    def _served_after_issue(self) -> Self:
        if self.served_on is not None and self.served_on < self.issued_on:
            raise rule_error(
                "title.served_before_issued", "served_on cannot be before issued_on", at="served_on"
            )
        return self


class PerActTerms(WireModel):
    """Mandat à l'acte: the office performs exactly the listed acts."""

    kind: Literal["per_act"]
    act_codes: list[ActCode] = Field(min_length=1, max_length=20)
    """The acts ordered, in the order they are to be performed."""


class WholeFileTerms(WireModel):
    """Mandat au dossier: the office chooses its procedures within the fee budget."""

    kind: Literal["whole_file"]
    fee_budget_cents: PositiveCents
    """Fees (emoluments + disbursements, excl. VAT) the office may incur without asking
    (beyond it: a cost request)."""
    may_collect: bool = True
    """Whether the office may collect payments from the debtor (then remitted to the agency)."""


MandateTerms = Annotated[PerActTerms | WholeFileTerms, Field(discriminator="kind")]


class Priority(StrEnum):
    """``low``, ``normal``, ``high`` (e.g. a limitation period close to expiry)."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class Mandate(MessageModel):
    """Agency -> office: a case entrusted to an office, per act or as a whole file."""

    KIND = "mandate"

    mandate_ref: Reference
    """The hub's mandate reference, quoted in every answer about it."""
    case_ref: Reference
    """The agency's case reference ("référence dossier")."""
    creditor_name: Text
    """The creditor on whose behalf the agency acts ("donneur d'ordre")."""
    debtor: Debtor
    claim: Claim
    title: Title | None = None
    """The enforceable title, absent when the mandate is to obtain or serve one."""
    terms: MandateTerms
    priority: Priority = Priority.NORMAL
    instructions: LongText | None = None
    """Free instructions to the office (access code, known employer, vulnerability care...)."""
    approval_id: Reference | None = None
    """The agency's approval of a mandate that was held for review (flagged act or guardrail):
    quote it on the act reports and invoice lines of this mandate."""
    expires_at: Timestamp | None = None
    """The mandate lapses then if no act has been reported under it (a ``mandate_cancel`` with cause
    ``expired`` follows)."""


class RefusalReason(StrEnum):
    """Why an office refuses a mandate:

    - ``out_of_territory``: hors de la compétence territoriale de l'étude.
    - ``conflict_of_interest``: conflit d'intérêts.
    - ``incomplete_file``: dossier incomplet (say what is missing in ``reason_text``).
    - ``other``: autre motif (``reason_text`` required).
    """

    OUT_OF_TERRITORY = "out_of_territory"
    CONFLICT_OF_INTEREST = "conflict_of_interest"
    INCOMPLETE_FILE = "incomplete_file"
    OTHER = "other"


class MandateAck(MessageModel):
    """Office -> agency: the office accepts or refuses a mandate."""

    KIND = "mandate_ack"

    mandate_ref: Reference
    accepted: bool
    office_reference: Reference | None = None
    """The office's own file reference, when accepted."""
    reason: RefusalReason | None = None
    """Required when refused, absent when accepted."""
    reason_text: Text | None = None
    """Explanation; required when ``reason`` is ``other``."""

    @model_validator(mode="after")
    def _reason_when_refused(self) -> Self:
        if self.accepted and self.reason is not None:
            raise rule_error(
                "mandate_ack.reason_unexpected", "an accepted mandate has no reason", at="reason"
            )
        if not self.accepted and self.reason is None:
            raise rule_error("mandate_ack.reason_required", "say why the mandate is refused", at="reason")
        if self.reason is RefusalReason.OTHER and self.reason_text is None:
            raise rule_error(
                "mandate_ack.reason_text_required", "reason 'other' needs a reason_text", at="reason_text"
            )
        return self


class CancelCause(StrEnum):
    """Why a mandate ends before its acts were all reported:

    - ``cancelled``: the agency withdrew it (mandat révoqué), with its reason.
    - ``expired``: its validity ran out before any act was reported (mandat caduc).
    - ``balance_cleared``: the debtor paid the balance to the agency (a ``case_update``
      ``payment_received`` came first): nothing is left to collect.
    """

    CANCELLED = "cancelled"
    EXPIRED = "expired"
    BALANCE_CLEARED = "balance_cleared"


class MandateCancel(MessageModel):
    """Agency -> office: stop every act under this mandate. Act reports on it are refused from
    ``effective_at`` on."""

    KIND = "mandate_cancel"

    mandate_ref: Reference
    cause: CancelCause
    reason: Text
    """Why, in a sentence."""
    effective_at: Timestamp
    """When the mandate ended."""
