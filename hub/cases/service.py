"""Use cases of the cases module: open a case ("dossier") with its creditor, debtor, claim, title and
solvency evidence, read it back, import many, and turn one into the facts the rules need.

Unknown evidence stays ``None`` all the way: 0 means "known, and nothing there".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.csv import CsvRow
from hub.cases.models import Case, ClaimKind, Creditor, Debtor, DebtorKind
from hub.cases.repository import CaseRepository
from hub.kit.clock import utcnow
from hub.kit.errors import Conflict, ErrorItem, InvalidInput, NotFound
from hub.kit.http import validation_errors
from hub.offices.service import DEPARTEMENT
from hub.recovery import facts
from schemas.v1.mandate import TitleKind

_Coded = TypeVar("_Coded", bound=StrEnum)
CaseRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:/-]{1,64}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Cents = Annotated[int, Field(ge=0)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreditorIn(_In):
    name: Name
    reclaims_vat: bool | None = None
    """The creditor deducts the VAT it pays; ``null`` keeps what is recorded (false for a new one)."""


class AddressIn(_In):
    line1: str | None = None
    postcode: str | None = None
    city: str | None = None
    departement: str | None = None


class DebtorIn(_In):
    kind: DebtorKind
    name: Name
    address: AddressIn = Field(default_factory=AddressIn)


class ClaimIn(_In):
    principal_cents: Cents
    interest_cents: Cents = 0
    costs_cents: Cents = 0
    paid_cents: Cents = 0
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "EUR"


class TitleIn(_In):
    kind: TitleKind
    issued_on: date
    served_on: date | None = None


class EvidenceIn(_In):
    """Every field: ``null`` = unknown."""

    bank_balance_cents: Cents | None = None
    monthly_net_income_cents: Cents | None = None
    dependents: Annotated[int, Field(ge=0)] | None = None
    seizable_goods_value_cents: Cents | None = None
    address_known: bool | None = None
    last_no_goods_report_on: date | None = None  # last "PV de carence"
    vulnerable: bool | None = None
    payment_plan_active: bool | None = None
    disputed: bool | None = None
    insolvency_proceedings: bool | None = None
    insolvency_kind: facts.InsolvencyKind | None = None
    bank_balance_seen_on: date | None = None
    pending_debits_cents: Cents | None = None  # debits pending on the known account (L162-1 CPCE)
    income_seen_on: date | None = None
    goods_valued_on: date | None = None
    vehicle_value_cents: Cents | None = None
    vehicle_valued_on: date | None = None
    debtor_deceased: bool | None = None
    limitation_reached_on: date | None = None  # recorded by a ``limitation_reached`` case update


class CaseIn(_In):
    ref: CaseRef
    creditor: CreditorIn
    debtor: DebtorIn
    claim: ClaimIn
    claim_kind: ClaimKind
    title: TitleIn | None = None
    claim_started_on: date | None = None
    evidence: EvidenceIn | None = None


def case_errors(data: CaseIn, *, today: date | None = None) -> list[ErrorItem]:
    """What makes a well-formed case meaningless (every error found)."""
    today = today or utcnow().date()
    errors: list[ErrorItem] = []
    dep = data.debtor.address.departement
    if dep is not None and not DEPARTEMENT.match(dep.strip().upper()):
        errors.append(
            ErrorItem(
                "debtor.address.departement",
                "case.departement_invalid",
                f"{dep!r} is not a French département",
            )
        )
    if data.title is not None:
        if data.title.served_on is not None and data.title.served_on < data.title.issued_on:
            errors.append(
                ErrorItem(
                    "title.served_on", "case.title_served_before_issued", "served_on is before issued_on"
                )
            )
        if data.title.issued_on > today:
            errors.append(ErrorItem("title.issued_on", "case.title_in_future", "issued_on is in the future"))
    claim = data.claim
    if claim.paid_cents > claim.principal_cents + claim.interest_cents + claim.costs_cents:
        errors.append(
            ErrorItem("claim.paid_cents", "case.overpaid", "payments exceed what is owed; check paid_cents")
        )
    return errors


def _case_columns(data: CaseIn) -> dict[str, Any]:
    evidence = data.evidence or EvidenceIn()
    return {
        "ref": data.ref,
        "claim_kind": data.claim_kind.value,
        "principal_cents": data.claim.principal_cents,
        "interest_cents": data.claim.interest_cents,
        "costs_cents": data.claim.costs_cents,
        "paid_cents": data.claim.paid_cents,
        "currency": data.claim.currency,
        "title_kind": data.title.kind.value if data.title else None,
        "title_issued_on": data.title.issued_on if data.title else None,
        "title_served_on": data.title.served_on if data.title else None,
        "claim_started_on": data.claim_started_on,
        **evidence.model_dump(),
    }


def _debtor_columns(data: DebtorIn) -> dict[str, Any]:
    dep = data.address.departement
    return {
        "kind": data.kind.value,
        "name": data.name,
        "address_line1": data.address.line1,
        "postcode": data.address.postcode,
        "city": data.address.city,
        "departement": dep.strip().upper() if dep else None,
    }


async def _creditor(repo: CaseRepository, data: CreditorIn) -> Creditor:
    creditor = await repo.creditor_by_name(data.name)
    if creditor is None:
        creditor = Creditor(name=data.name, reclaims_vat=bool(data.reclaims_vat))
        await repo.add(creditor)
    elif data.reclaims_vat is not None and creditor.reclaims_vat != data.reclaims_vat:
        creditor.reclaims_vat = data.reclaims_vat
    return creditor


async def create_case(session: AsyncSession, data: CaseIn) -> Case:
    errors = case_errors(data)
    if errors:
        raise InvalidInput(f"case {data.ref} cannot be opened as given", errors=errors)
    repo = CaseRepository(session)
    if await repo.get_by_ref(data.ref) is not None:
        raise Conflict(f"a case with ref {data.ref} already exists", code="case.exists")
    creditor = await _creditor(repo, data.creditor)
    debtor = Debtor(**_debtor_columns(data.debtor))
    case = Case(creditor=creditor, debtor=debtor, **_case_columns(data))
    await repo.add(debtor, case)
    return case


async def get_case(session: AsyncSession, ref: str) -> Case:
    case = await CaseRepository(session).get_with_parties(ref)
    if case is None:
        raise NotFound(f"no case with ref {ref}", code="case.not_found")
    return case


async def existing_refs(session: AsyncSession, refs: Sequence[str]) -> set[str]:
    return await CaseRepository(session).existing_refs(refs)


async def import_cases(session: AsyncSession, batch: Sequence[CaseIn]) -> int:
    """Inserts checked cases in one executemany per table; the caller has checked each one
    (``case_errors``) and that no ref exists yet."""
    repo = CaseRepository(session)
    creditor_ids: dict[str, uuid.UUID] = {}
    debtors: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    now = utcnow()
    for data in batch:
        if data.creditor.name not in creditor_ids:
            creditor_ids[data.creditor.name] = (await _creditor(repo, data.creditor)).id
        debtor_id = uuid.uuid4()
        debtors.append({"id": debtor_id, "created_at": now, **_debtor_columns(data.debtor)})
        cases.append(
            {
                "id": uuid.uuid4(),
                "created_at": now,
                "creditor_id": creditor_ids[data.creditor.name],
                "debtor_id": debtor_id,
                **_case_columns(data),
            }
        )
    await repo.insert_many(debtors, cases)
    return len(cases)


def reported_act(
    *,
    act_code: str,
    act_date: date,
    outcome_code: str,
    seized_cents: int = 0,
    collected_cents: int = 0,
    office: str | None = None,
    reference: str | None = None,
) -> facts.ActRecord:
    """An accepted act report as the rules read it: what was done, on its act date, with its outcome."""
    return facts.ActRecord(
        act_code=act_code,
        on=act_date,
        outcome=facts.OutcomeCode(outcome_code),
        office=office,
        seized_cents=seized_cents,
        collected_cents=collected_cents,
        reference=reference,
    )


def ordered_act(act_code: str, ordered_on: date) -> facts.ActRecord:
    """An act a mandate ordered that no act report answers yet: dated on the day it was ordered, with
    no outcome, so it counts for prerequisites and pacing but is never evidence of anything."""
    return facts.ActRecord(act_code=act_code, on=ordered_on)


def _stored(case: Case, kind: type[_Coded], value: str, path: str) -> _Coded:
    """A coded value of a stored case as the rules read it. One they cannot read (written before a
    check existed, or around the use cases) is the case's error, named, never a crash."""
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(k.value for k in kind)
        raise facts.InvalidFacts(
            f"case {case.ref} holds a {path} the rules cannot read; correct the case",
            errors=[ErrorItem(path, "case.value_unknown", f"{value!r} is not one of: {allowed}")],
        ) from None


def case_facts(
    case: Case, acts: tuple[facts.ActRecord, ...] = (), elsewhere: tuple[facts.ActRecord, ...] = ()
) -> facts.CaseFacts:
    """What the recovery and policy rules know about ``case`` (its debtor loaded): its own evidence,
    and the acts on it (``acts``) and on the debtor's other cases (``elsewhere``, for pacing), built
    with :func:`reported_act` and :func:`ordered_act`."""
    title = None
    if case.title_kind is not None and case.title_issued_on is not None:
        title = facts.Title(
            kind=_stored(case, TitleKind, case.title_kind, "title.kind"),
            issued_on=case.title_issued_on,
            served_on=case.title_served_on,
        )
    return facts.CaseFacts(
        principal_cents=case.principal_cents,
        interest_cents=case.interest_cents,
        costs_cents=case.costs_cents,
        paid_cents=case.paid_cents,
        currency=case.currency,
        claim_kind=_stored(case, facts.ClaimKind, case.claim_kind, "claim_kind"),
        debtor_kind=_stored(case, facts.DebtorKind, case.debtor.kind, "debtor.kind"),
        title=title,
        evidence=facts.Evidence(
            bank_balance_cents=case.bank_balance_cents,
            monthly_net_income_cents=case.monthly_net_income_cents,
            dependents=case.dependents,
            seizable_goods_value_cents=case.seizable_goods_value_cents,
            address_known=case.address_known,
            last_no_goods_report_on=case.last_no_goods_report_on,
            vulnerable=case.vulnerable,
            payment_plan_active=case.payment_plan_active,
            disputed=case.disputed,
            insolvency_proceedings=case.insolvency_proceedings,
            insolvency_kind=(
                None
                if case.insolvency_kind is None
                else _stored(case, facts.InsolvencyKind, case.insolvency_kind, "evidence.insolvency_kind")
            ),
            bank_balance_seen_on=case.bank_balance_seen_on,
            pending_debits_cents=case.pending_debits_cents,
            income_seen_on=case.income_seen_on,
            goods_valued_on=case.goods_valued_on,
            vehicle_value_cents=case.vehicle_value_cents,
            vehicle_valued_on=case.vehicle_valued_on,
            debtor_deceased=case.debtor_deceased,
            limitation_reached_on=case.limitation_reached_on,
        ),
        claim_started_on=case.claim_started_on,
        acts=acts,
        debtor_acts_elsewhere=elsewhere,
        creditor_reclaims_vat=bool(case.creditor_reclaims_vat),
    )


@dataclass
class ImportSummary:
    """What an import did: rows imported, and every bad row with its line and errors."""

    imported: int = 0
    rejected: dict[int, list[ErrorItem]] = field(default_factory=dict)


BATCH_SIZE = 500


async def import_rows(
    session: AsyncSession, rows: Iterable[CsvRow], on_row: Callable[[], None] = lambda: None
) -> ImportSummary:
    """Imports the good rows of a CSV file in executemany batches; a bad row is listed, not fatal."""
    summary = ImportSummary()
    pending: list[tuple[int, CaseIn]] = []
    seen: set[str] = set()

    async def flush() -> None:
        taken = await existing_refs(session, [data.ref for _, data in pending])
        good = []
        for line, data in pending:
            if data.ref in taken:
                summary.rejected[line] = [ErrorItem("ref", "case.exists", f"case {data.ref} already exists")]
            else:
                good.append(data)
        summary.imported += await import_cases(session, good)
        pending.clear()

    for row in rows:
        try:
            data = CaseIn.model_validate(row.data)
        except ValidationError as exc:
            summary.rejected[row.line] = validation_errors(list(exc.errors()))
        else:
            errors = case_errors(data)
            if data.ref in seen:
                errors.append(
                    ErrorItem("ref", "case.duplicate_in_file", f"{data.ref} appears twice in the file")
                )
            seen.add(data.ref)
            if errors:
                summary.rejected[row.line] = errors
            else:
                pending.append((row.line, data))
        if len(pending) >= BATCH_SIZE:
            await flush()
        on_row()
    await flush()
    return summary
