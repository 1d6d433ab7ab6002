"""Case updates as the cases module knows them: what staff may record about a case after it was
opened (``CaseUpdateIn``), what makes one meaningless on the case as it stands (``update_errors``,
every error found), and how one changes the facts the rules read (``apply_update``). No I/O.

Who is told, and what stops, is the mandates module's (``hub.mandates.service.case_updates``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hub.cases.models import Case
from hub.kit.errors import ErrorItem
from hub.offices.service import DEPARTEMENT
from hub.recovery import facts
from schemas import v1
from schemas.v1.mandate import PostalCode

Kind = v1.CaseUpdateKind
# Integer cents only: 12.5, "1250" and 0 are refused (422), as on the ledger's routes.
PaymentCents = Annotated[int, Field(strict=True, gt=0, le=v1.MAX_CENTS)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
EXAMPLE: dict[str, Any] = {
    "kind": "payment_received",
    "reference": "CRM-2026-88412",
    "effective_on": "2026-03-11",
    "payment": {"amount_cents": 25000, "currency": "EUR", "received_on": "2026-03-11"},
    "comment": "Virement du débiteur reçu par l'agence.",
}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PaymentIn(_In):
    amount_cents: PaymentCents
    currency: v1.Currency = "EUR"
    received_on: date


class NewAddressIn(_In):
    line1: v1.Text
    postcode: PostalCode
    city: v1.Text
    departement: str | None = Field(default=None, description="e.g. 75, 2A, 974")


class CaseUpdateIn(_In):
    """One update of a case; ``payment`` only with ``payment_received``, ``address`` only with
    ``address_changed``, ``insolvency_kind`` only with ``insolvency_declared``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    kind: Kind
    reference: Reference = Field(
        description="The agency system's own id of this update: a retry with the same one on the same "
        "case is refused (409 case_update.duplicate), never applied twice"
    )
    effective_on: date = Field(description="When it happened (not in the future)")
    payment: PaymentIn | None = None
    address: NewAddressIn | None = None
    insolvency_kind: facts.InsolvencyKind | None = None
    comment: v1.Text | None = None


def _only_with(data: CaseUpdateIn, kind: Kind, field: str) -> list[ErrorItem]:
    given = getattr(data, field) is not None
    if data.kind is kind and not given and field != "insolvency_kind":
        return [ErrorItem(field, "case_update.details_missing", f"a {kind.value} update needs {field}")]
    if data.kind is not kind and given:
        return [
            ErrorItem(
                field, "case_update.details_unexpected", f"{field} goes only with a {kind.value} update"
            )
        ]
    return []


def update_errors(
    case: Case, data: CaseUpdateIn, *, today: date, collected_cents: int = 0
) -> list[ErrorItem]:
    """What makes ``data`` meaningless on ``case`` as it stands (every error found): details of
    another kind, a date in the future, a payment in another currency or above the balance (what is
    owed less the direct payments and the ``collected_cents`` the offices collected), a département
    that is none, a dispute closed that the case does not record."""
    balance = max(case.outstanding_cents - collected_cents, 0)
    errors = [
        *_only_with(data, Kind.PAYMENT_RECEIVED, "payment"),
        *_only_with(data, Kind.ADDRESS_CHANGED, "address"),
        *_only_with(data, Kind.INSOLVENCY_DECLARED, "insolvency_kind"),
    ]
    if data.effective_on > today:
        errors.append(ErrorItem("effective_on", "case_update.in_future", "effective_on is in the future"))
    payment = data.payment
    if payment is not None:
        if payment.received_on > today:
            errors.append(
                ErrorItem("payment.received_on", "case_update.in_future", "received_on is in the future")
            )
        if payment.currency != case.currency:
            errors.append(
                ErrorItem(
                    "payment.currency",
                    "case_update.currency_mismatch",
                    f"case {case.ref} is in {case.currency}, not {payment.currency}",
                )
            )
        elif payment.amount_cents > balance:
            errors.append(
                ErrorItem(
                    "payment.amount_cents",
                    "case_update.payment_exceeds_balance",
                    f"{payment.amount_cents} cents is above the balance of case {case.ref} "
                    f"({balance} cents, after {collected_cents} cents the offices collected); "
                    "record what the balance takes, and refund the rest",
                )
            )
    address = data.address
    if address is not None and address.departement is not None:
        if not DEPARTEMENT.match(address.departement.strip().upper()):
            errors.append(
                ErrorItem(
                    "address.departement",
                    "case_update.departement_invalid",
                    f"{address.departement!r} is not a French département",
                )
            )
    if data.kind is Kind.DISPUTE_CLOSED and case.disputed is not True:
        errors.append(
            ErrorItem("kind", "case_update.no_open_dispute", f"case {case.ref} records no open dispute")
        )
    return errors


def apply_update(case: Case, data: CaseUpdateIn) -> None:
    """Changes the facts of ``case`` (its debtor loaded) that the rules read, as ``data`` says; the
    caller has checked it (``update_errors``)."""
    match data.kind:
        case Kind.PAYMENT_RECEIVED:
            assert data.payment is not None
            case.paid_cents += data.payment.amount_cents
        case Kind.ADDRESS_CHANGED:
            assert data.address is not None
            debtor = case.debtor
            debtor.address_line1 = data.address.line1
            debtor.postcode = data.address.postcode
            debtor.city = data.address.city
            dep = data.address.departement
            debtor.departement = dep.strip().upper() if dep else None
            case.address_known = True
        case Kind.DISPUTE_OPENED | Kind.DISPUTE_CLOSED:
            case.disputed = data.kind is Kind.DISPUTE_OPENED
        case Kind.PAYMENT_PLAN_AGREED | Kind.PAYMENT_PLAN_BROKEN:
            case.payment_plan_active = data.kind is Kind.PAYMENT_PLAN_AGREED
        case Kind.DEBTOR_DECEASED:
            case.debtor_deceased = True
        case Kind.INSOLVENCY_DECLARED:
            case.insolvency_proceedings = True
            case.insolvency_kind = data.insolvency_kind.value if data.insolvency_kind else None
        case Kind.INSOLVENCY_ENDED:
            # Explicitly over: an office's earlier report of the proceedings no longer blocks either.
            case.insolvency_proceedings = False
            case.insolvency_kind = None
        case Kind.LIMITATION_REACHED:
            case.limitation_reached_on = data.effective_on
    if case.closed_on is None and closes_case(case, data):
        case.closed_on = data.effective_on  # its personal data's retention runs from here (hub.gdpr)


def closes_case(case: Case, data: CaseUpdateIn) -> bool:
    """Whether the update ends the case: the balance paid off, the debtor dead, the claim lapsed."""
    if data.kind is Kind.PAYMENT_RECEIVED:
        return case.outstanding_cents <= 0
    return data.kind in (Kind.DEBTOR_DECEASED, Kind.LIMITATION_REACHED)
