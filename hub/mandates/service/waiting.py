"""What waits for a person's decision, with what they need to take it: held mandates (a flagged act
or a guardrail asked for a review) and offices' cost requests (asking before an act beyond their
mandate or its budget). Each comes with its case, debtor and balance, the acts with their labels
(English and the French term staff know) and cost, and the reasons in words; a page at a time.

The full assessment of a held mandate (tariff lines, economics, figures: ~7 KB an act) stays on
``GET /v1/mandates/{ref}``; a list item carries its summary only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.repository import CaseRepository
from hub.kit.errors import NotFound
from hub.kit.pagination import page_of
from hub.mandates.models import Approval, Mandate, MandateKind
from hub.mandates.repository import MandateRepository
from hub.offices.repository import OfficeRepository
from hub.tariff.catalogue import load_catalogue

# How staff name each kind of mandate, in English and in French.
KIND_LABELS = {
    MandateKind.PER_ACT.value: ("per-act mandate", "mandat à l'acte"),
    MandateKind.WHOLE_FILE.value: ("whole-file mandate", "mandat au dossier"),
}


@dataclass(frozen=True)
class ActSummary:
    """One act to decide: what it is, what it costs up front, and what the cost flag expects of it."""

    act_code: str
    label: str
    name_fr: str
    fees_cents: int | None
    """The act's own tariff fees (emoluments, disbursements, VAT), paid up front."""
    cost_cents: int | None
    """The cost weighed: the act and the acts it brings along or opens."""
    expected_recovery_cents: int | None
    expected_net_cents: int | None
    flagged: bool | None


@dataclass(frozen=True)
class Reason:
    act_code: str
    code: str
    message: str


@dataclass(frozen=True)
class Debtor:
    case_ref: str
    debtor_name: str
    outstanding_cents: int
    currency: str


@dataclass(frozen=True)
class HeldView:
    mandate: Mandate
    office_code: str
    debtor: Debtor
    acts: list[ActSummary]
    reasons: list[Reason]

    @property
    def fees_cents(self) -> int | None:
        """The up-front fees of the acts ordered (per act); None for a whole-file mandate."""
        if self.mandate.kind != MandateKind.PER_ACT.value:
            return None
        return sum(a.fees_cents or 0 for a in self.acts)


@dataclass(frozen=True)
class CostRequestView:
    approval: Approval
    mandate_ref: str
    mandate_kind: str
    debtor: Debtor
    act: ActSummary
    reasons: list[Reason]


def labels(act_code: str) -> tuple[str, str]:
    """An act's English label and French name (its code when the catalogue no longer knows it)."""
    act = load_catalogue().acts.get(act_code)
    return (act.label_en, act.name_fr) if act is not None else (act_code, act_code)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _own_fees(act_code: str, assessment: dict[str, Any]) -> int | None:
    """The act's own tariff total, the first cost of its path priced for it."""
    explanation = assessment.get("explanation")
    costs = explanation.get("costs") if isinstance(explanation, dict) else None
    for cost in costs if isinstance(costs, list) else []:
        if isinstance(cost, dict) and cost.get("act_code") == act_code:
            return _int(cost.get("total_cents"))
    return None


def act_summary(act_code: str, judged: dict[str, Any] | None, *, fees_cents: int | None = None) -> ActSummary:
    """``judged``: the act's entry in a mandate's stored verdict, or a cost request's assessment."""
    judged = judged or {}
    label, name_fr = labels(act_code)
    inner = judged.get("assessment")
    own = _own_fees(act_code, inner) if isinstance(inner, dict) else None
    flagged = judged.get("flagged")
    return ActSummary(
        act_code=act_code,
        label=label,
        name_fr=name_fr,
        fees_cents=fees_cents if fees_cents is not None else own,
        cost_cents=_int(judged.get("cost_cents")),
        expected_recovery_cents=_int(judged.get("expected_recovery_cents")),
        expected_net_cents=_int(judged.get("expected_net_cents")),
        flagged=flagged if isinstance(flagged, bool) else None,
    )


def _reasons(found: Any, act_code: str = "*") -> list[Reason]:
    return [
        Reason(str(r.get("act_code", act_code)), str(r.get("code", "")), str(r.get("message", "")))
        for r in (found if isinstance(found, list) else [])
        if isinstance(r, dict)
    ]


def held_view(mandate: Mandate, office_code: str, debtor: Debtor) -> HeldView:
    """A held mandate's summary from its stored verdict (``hub.mandates.assessment.Verdict``)."""
    verdict = mandate.assessment or {}
    judged = {str(a.get("act_code")): a for a in verdict.get("acts") or [] if isinstance(a, dict)}
    acts = [act_summary(code, judged.get(code)) for code in mandate.acts]
    return HeldView(mandate, office_code, debtor, acts, _reasons(verdict.get("reasons")))


async def _office_id(session: AsyncSession, code: str | None) -> uuid.UUID | None:
    if code is None:
        return None
    office = await OfficeRepository(session).get_by_code(code)
    if office is None:
        raise NotFound(f"no office with code {code}", code="office.not_found")
    return office.id


async def list_held(
    session: AsyncSession, *, office_code: str | None, case_ref: str | None, after: str | None, limit: int
) -> tuple[list[HeldView], str | None]:
    """Held mandates by ref, ``limit`` after ``after``, of one office or case or all, and the ref to
    read on from (None on the last page). 404 for an unknown office or case."""
    office_id = await _office_id(session, office_code)
    case_id = None
    if case_ref is not None:
        case = await CaseRepository(session).get_by_ref(case_ref)
        if case is None:
            raise NotFound(f"no case with ref {case_ref}", code="case.not_found")
        case_id = case.id
    rows = await MandateRepository(session).waiting_page(
        office_id=office_id, case_id=case_id, after=after, limit=limit
    )
    page, cursor = page_of(rows, limit, lambda row: row.Mandate.ref)
    views = [
        held_view(
            row.Mandate,
            row.office_code,
            Debtor(row.case_ref, row.debtor_name, int(row.outstanding_cents), row.Mandate.currency),
        )
        for row in page
    ]
    return views, cursor


def _cost_request_view(row: Any) -> CostRequestView:
    approval: Approval = row.Approval
    assessed = approval.assessment or {}
    return CostRequestView(
        approval=approval,
        mandate_ref=row.mandate_ref,
        mandate_kind=row.mandate_kind,
        debtor=Debtor(row.case_ref, row.debtor_name, int(row.outstanding_cents), row.currency),
        act=act_summary(approval.act_code, assessed, fees_cents=approval.amount_cents),
        reasons=_reasons(assessed.get("reasons"), approval.act_code),
    )


async def list_cost_requests(
    session: AsyncSession, *, office_code: str | None, after: str | None, limit: int
) -> tuple[list[CostRequestView], str | None]:
    """Offices' cost requests waiting for a decision, by approval id (about the order they came in),
    ``limit`` after ``after``, of one office or all, and the id to read on from (None on the last
    page). 404 for an unknown office."""
    await _office_id(session, office_code)
    rows = await MandateRepository(session).cost_requests_page(
        office_code=office_code, after=after, limit=limit
    )
    page, cursor = page_of(rows, limit, lambda row: row.Approval.approval_id)
    return [_cost_request_view(row) for row in page], cursor


async def cost_request(session: AsyncSession, approval_id: str) -> CostRequestView:
    """One cost request, pending or decided; 404 ``approval.not_found`` for any other id."""
    rows = await MandateRepository(session).cost_requests_page(
        office_code=None, approval_id=approval_id, after=None, limit=1
    )
    if not rows:
        raise NotFound(f"no cost request {approval_id}", code="approval.not_found")
    return _cost_request_view(rows[0])


async def held_context(session: AsyncSession, mandate: Mandate) -> HeldView:
    """One mandate's decision summary (for ``GET /v1/mandates/{ref}``, staff)."""
    case = await CaseRepository(session).get_with_parties_by_id(mandate.case_id)
    office = await OfficeRepository(session).get(mandate.office_id)
    assert case is not None and office is not None  # foreign keys
    debtor = Debtor(case.ref, case.debtor.name, case.outstanding_cents, case.currency)
    return held_view(mandate, office.code, debtor)
