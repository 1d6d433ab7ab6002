"""Fee invoices: intake (our rules, then the three-way match), finance's decisions (approve,
dispute, paid) with the ledger postings and the dispute message. Takes a session, never commits."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.einvoice import EN16931_TOLERANCE_CENTS
from hub.acts.models import ActReport
from hub.cases.models import Case
from hub.invoices import matching
from hub.invoices.intake import syntax_of
from hub.invoices.models import Invoice, InvoiceEvent, InvoiceKind, InvoiceLine, InvoiceState
from hub.invoices.repository import InvoiceRepository
from hub.kit.clock import utcnow
from hub.kit.errors import MAX_ERRORS, Conflict, ErrorItem, InvalidInput, NotFound
from hub.ledger import service as ledger
from hub.ledger.postings import reversing
from hub.mandates.models import Mandate, MandateKind
from hub.messaging.models import StoredMessage
from hub.messaging.outbound import send_to_office
from hub.offices.models import Office
from hub.tariff.catalogue import (
    Catalogue,
    InvalidClaim,
    NoTariffInForce,
    UnknownAct,
    act_cost,
    load_catalogue,
)
from schemas import v1

# "EUR unless agreed": no office has another currency agreed (there is no such setting yet).
ACCEPTED_CURRENCIES = frozenset({"EUR"})
HUB_ACTOR = "hub"

Decision = Literal["approve", "dispute", "paid"]
# Where each decision may be taken from, and where it leads.
TRANSITIONS: dict[str, tuple[frozenset[str], InvoiceState]] = {
    "approve": (frozenset({InvoiceState.MATCHED, InvoiceState.DISPUTED}), InvoiceState.APPROVED),
    "dispute": (frozenset({InvoiceState.MATCHED, InvoiceState.DISPUTED}), InvoiceState.DISPUTED),
    "paid": (frozenset({InvoiceState.APPROVED}), InvoiceState.PAID),
}


def invoice_not_found(invoice_id: object) -> NotFound:
    # Another office's invoice answers exactly like an unknown one.
    return NotFound(f"no invoice {invoice_id}", code="invoice.not_found")


def rule_errors(invoice: v1.FeeInvoice, office: Office) -> list[ErrorItem]:
    """Our rules on a canonical invoice: the seller is the sending office, the currency agreed."""
    errors = []
    if invoice.seller.office_code != office.code:
        errors.append(
            ErrorItem(
                "/seller/office_code",
                "invoice.seller_not_sender",
                f"the seller is {invoice.seller.office_code}, the credential office {office.code}'s",
            )
        )
    if office.siret is None:
        errors.append(
            ErrorItem(
                "/seller/siret",
                "invoice.office_siret_unregistered",
                f"office {office.code} has no SIRET registered with the agency; ask the agency to "
                f"register it (hub offices update {office.code} --siret or PATCH /v1/offices/{office.code})",
            )
        )
    elif invoice.seller.siret != office.siret:
        errors.append(
            ErrorItem(
                "/seller/siret",
                "invoice.seller_not_sender",
                f"the seller's SIRET {invoice.seller.siret} is not office {office.code}'s",
            )
        )
    if invoice.currency not in ACCEPTED_CURRENCIES:
        errors.append(
            ErrorItem(
                "/currency",
                "invoice.currency_not_accepted",
                f"invoices are in {', '.join(sorted(ACCEPTED_CURRENCIES))}, not {invoice.currency}",
            )
        )
    return errors + vat_total_errors(invoice)


def vat_total_errors(invoice: v1.FeeInvoice) -> list[ErrorItem]:
    """The total VAT is the VAT of each rate's taxable amount, rounded to the cent (EN 16931 BR-CO-14
    and BR-CO-17), within what EN 16931 accepts: less than one unit per rate charged (rounding line
    by line), none on a total at 0 %. The e-invoice reader checks the same on the document's VAT
    breakdown; the canonical form carries only the total, which the agency pays."""
    basis: dict[int, int] = defaultdict(int)
    for line in invoice.lines:
        basis[line.vat_rate_bp] += line.net_cents
    computed = sum(_vat_cents(cents, rate) for rate, cents in basis.items())
    allowed = EN16931_TOLERANCE_CENTS * sum(1 for rate in basis if rate)
    if abs(invoice.total_vat_cents - computed) <= allowed:
        return []
    return [
        ErrorItem(
            "/total_vat_cents",
            "invoice.total_vat_mismatch",
            f"total_vat_cents is {invoice.total_vat_cents} but the lines' net amounts at their VAT "
            f"rates give {computed}: state the VAT of each rate's total, rounded to the cent",
        )
    ]


def _vat_cents(net_cents: int, rate_bp: int) -> int:
    exact = Decimal(net_cents) * rate_bp / 10_000
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _disbursement_codes(catalogue: Catalogue) -> frozenset[str]:
    return frozenset(code for period in catalogue.periods for code in period.disbursements)


def _tariff(act: ActReport, case: Case, catalogue: Catalogue) -> matching.Tariff | None:
    """The tariff of the act on its date, on the case's claim before payments (the bracket of the
    claim the procedure was engaged on; the ceiling of ``matching.tariff_ceiling_cents``)."""
    claim = case.principal_cents + case.interest_cents + case.costs_cents
    try:
        cost = act_cost(act.act_code, claim, act.act_date, catalogue=catalogue)
        period = catalogue.period_on(act.act_date)
    except (
        UnknownAct,
        NoTariffInForce,
        InvalidClaim,
    ):  # unknown act code or no tariff in force: nothing to compare with
        return None
    return matching.Tariff(
        cost.tariff_version,
        cost.emolument_cents,
        cost.engagement_fee_cents,
        period.vat_rate_bp,
        frozenset(code for code, item in period.disbursements.items() if item.vat_base),
    )


def _act_facts(act: ActReport, mandate: Mandate, case: Case, catalogue: Catalogue) -> matching.ActFacts:
    return matching.ActFacts(
        id=act.id,
        office_id=act.office_id,
        office_reference=act.office_reference,
        act_code=act.act_code,
        act_date=act.act_date,
        case_id=act.case_id,
        mandate_id=act.mandate_id,
        disbursements_cents=act.disbursements_cents,
        flagged=act.flagged,
        approval_id=act.approval_id,
        in_mandate=mandate.kind != MandateKind.PER_ACT.value or act.act_code in (mandate.acts or []),
        tariff=_tariff(act, case, catalogue),
    )


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


async def gather_facts(
    session: AsyncSession, office: Office, lines: list[matching.LineToMatch], catalogue: Catalogue
) -> matching.Facts:
    """What the match reads, in four queries: the acts named (locked first: see
    ``InvoiceRepository.acts_named``), the approvals quoted, earlier billing."""
    repo = InvoiceRepository(session)
    ids = {act_id for line in lines if (act_id := _uuid(line.hub_act_id)) is not None}
    refs = {line.office_act_reference for line in lines if line.office_act_reference}
    approvals = {line.approval_id for line in lines if line.approval_id}
    rows = await repo.acts_named(office.id, ids=ids, references=refs, approval_ids=approvals)
    acts = [_act_facts(a, m, c, catalogue) for a, m, c in rows]
    quoted = approvals | {a.approval_id for a in acts if a.approval_id}
    approved = frozenset((a.approval_id, a.mandate_id, a.act_code) for a in await repo.approved(quoted))
    billed: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0])
    own = [a.id for a in acts if a.office_id == office.id]
    for act_id, disbursement, net in await repo.billed_before(office.id, own):
        if disbursement:
            billed[act_id][1] += net
        else:
            billed[act_id][0] += -1 if net < 0 else 1
    return matching.Facts(
        office_id=office.id,
        by_id={str(a.id): a for a in acts},
        by_reference={a.office_reference: a for a in acts if a.office_id == office.id},
        by_approval={a.approval_id: a for a in acts if a.approval_id},
        approved=approved,
        billed={k: matching.Billed(fee_lines=v[0], disbursements_cents=v[1]) for k, v in billed.items()},
    )


async def record_invoice(
    session: AsyncSession,
    invoice: v1.FeeInvoice,
    message: StoredMessage,
    office: Office,
    found: Sequence[ErrorItem] = (),
    *,
    catalogue: Catalogue | None = None,
) -> Invoice:
    """Checks our rules (refused with every error, before writing anything: ``found``, what reading
    an e-invoice found wrong, e.g. its seller, then the currency and the number), stores the invoice
    and its lines with the three-way match, and sets it matched or disputed."""
    repo = InvoiceRepository(session)
    errors = list(found) + rule_errors(invoice, office)
    if await repo.number_used(office.id, invoice.invoice_number):
        errors.append(
            ErrorItem(
                "/invoice_number",
                "invoice.number_reused",
                f"invoice {invoice.invoice_number} was already received from this office; a correction "
                "is a credit note and a new invoice",
            )
        )
    if errors:
        raise InvalidInput(f"{len(errors)} error(s) in the invoice", code=errors[0].code, errors=errors)

    cat = catalogue or load_catalogue()
    codes = _disbursement_codes(cat)
    to_match = [
        matching.LineToMatch(
            line_id=line.line_id or str(n),
            net_cents=line.net_cents,
            vat_rate_bp=line.vat_rate_bp,
            office_act_reference=line.office_act_reference,
            hub_act_id=line.hub_act_id,
            approval_id=line.approval_id,
            act_code=line.act_code,
            disbursement=matching.is_disbursement(line.act_code, line.vat_rate_bp, codes),
        )
        for n, line in enumerate(invoice.lines, start=1)
    ]
    results = matching.match_lines(to_match, await gather_facts(session, office, to_match, cat))
    state = matching.invoice_state(results)
    stored = Invoice(
        id=uuid.uuid4(),
        office_id=office.id,
        number=invoice.invoice_number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        kind=(InvoiceKind.CREDIT if invoice.total_gross_cents < 0 else InvoiceKind.INVOICE).value,
        syntax=syntax_of(message.body),
        currency=invoice.currency,
        mandate_reference=invoice.mandate_reference,
        total_net_cents=invoice.total_net_cents,
        total_vat_cents=invoice.total_vat_cents,
        total_gross_cents=invoice.total_gross_cents,
        state=InvoiceState.RECEIVED.value,
        message_pk=message.id,
        received_at=utcnow(),
    )
    rows = [
        InvoiceLine(
            invoice_id=stored.id,
            position=n,
            line_id=check.line_id,
            description=line.description,
            net_cents=line.net_cents,
            vat_rate_bp=line.vat_rate_bp,
            vat_cents=_vat_cents(line.net_cents, line.vat_rate_bp),
            disbursement=check.disbursement,
            office_act_reference=line.office_act_reference,
            hub_act_id=line.hub_act_id,
            approval_id=line.approval_id,
            act_code=line.act_code,
            mandate_reference=invoice.mandate_reference,
            result=result.code,
            detail=result.detail() or None,
            findings=[{"code": f.code.value, "detail": f.detail} for f in result.findings],
            act_report_id=result.act.id if result.act else None,
            case_id=result.act.case_id if result.act else None,
        )
        for n, (line, check, result) in enumerate(zip(invoice.lines, to_match, results, strict=True), start=1)
    ]
    await repo.add(stored, rows)
    await repo.log(stored, None, InvoiceState.RECEIVED.value, actor=office.code, reason=None)
    disputed = sum(1 for r in results if not r.matched)
    reason = "every line matched" if not disputed else f"{disputed} line(s) with findings"
    await transition(session, stored, InvoiceState(state), actor=HUB_ACTOR, reason=reason)
    if stored.state == InvoiceState.DISPUTED:
        await _send_dispute(
            session,
            stored,
            f"Disputed on receipt: {reason}. Each line says what was found; send a credit note for "
            "what was billed wrongly, and a new invoice if something is still due.",
            correlation_id=message.message_id,
        )
    return stored


async def transition(
    session: AsyncSession, invoice: Invoice, to: InvoiceState, *, actor: str, reason: str | None
) -> None:
    before = invoice.state
    invoice.state = to.value
    await InvoiceRepository(session).log(invoice, before, to.value, actor=actor, reason=reason)


# --- finance's decisions -------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionOutcome:
    invoice_id: uuid.UUID
    state: str


async def decide(
    session: AsyncSession,
    invoice_ids: list[uuid.UUID],
    decision: Decision,
    *,
    actor: str,
    comment: str | None,
    today: date | None = None,
    paid_on: date | None = None,
    bank_reference: str | None = None,
    lines: Sequence[str] = (),
) -> list[DecisionOutcome]:
    """Applies one decision to many invoices, all or none: any invoice that cannot take it refuses
    the whole request with every reason (404 unknown, 409 not allowed in its state). ``paid`` needs
    the day the bank paid (``paid_on``, not after today: the ledger's payment is dated on it) and the
    bank's reference of the payment. ``lines``: a dispute of one invoice may name the lines finance
    disputes (their ``line_id``s): the office's ``invoice_dispute`` lists each as ``agency_disputed``
    with the comment, beside the lines the match found wrong. An invoice is paid whole or not at all,
    so the invoice is disputed: the office sends a credit note or a corrected invoice."""
    if decision == "dispute" and not comment:
        raise InvalidInput(
            "say why the invoices are disputed",
            code="invoice.comment_required",
            errors=[ErrorItem("/comment", "invoice.comment_required", "a dispute needs a comment")],
        )
    named = list(dict.fromkeys(lines))
    if named and (decision != "dispute" or len(set(invoice_ids)) != 1):
        raise InvalidInput(
            "lines are named in a dispute of one invoice",
            code="invoice.lines_need_one_dispute",
            errors=[
                ErrorItem(
                    "/lines",
                    "invoice.lines_need_one_dispute",
                    "name lines only with the decision dispute and one invoice",
                )
            ],
        )
    on = today or utcnow().date()
    if decision == "paid":
        check_payment(paid_on, bank_reference, today=on)
    wanted = list(dict.fromkeys(invoice_ids))[: MAX_ERRORS * 10]
    found = {i.id: i for i in await InvoiceRepository(session).many_for_update(wanted)}
    allowed, target = TRANSITIONS[decision]
    missing, refused = [], []
    for n, invoice_id in enumerate(wanted):
        invoice = found.get(invoice_id)
        if invoice is None:
            missing.append(ErrorItem(f"/invoice_ids/{n}", "invoice.not_found", f"no invoice {invoice_id}"))
        elif invoice.state not in allowed or (decision == "dispute" and invoice.dispute_sent_at is not None):
            why = "its dispute was already sent" if invoice.dispute_sent_at else f"it is {invoice.state}"
            refused.append(
                ErrorItem(
                    f"/invoice_ids/{n}",
                    "invoice.transition_not_allowed",
                    f"invoice {invoice_id} cannot be {target.value}: {why}",
                )
            )
    if missing:
        raise NotFound(
            f"{len(missing)} invoice(s) unknown", code="invoice.not_found", errors=missing + refused
        )
    if refused:
        raise Conflict(
            f"{len(refused)} invoice(s) cannot take this decision", code=refused[0].code, errors=refused
        )
    reason = comment
    if named:
        await _check_lines(session, found[wanted[0]], named)
        reason = f"line{'s' if len(named) > 1 else ''} {', '.join(named)}: {comment}"
    outcomes = []
    for invoice_id in wanted:
        invoice = found[invoice_id]
        if decision == "approve":
            await _post(session, invoice, on, paid=False)
        elif decision == "paid":
            assert paid_on is not None and bank_reference is not None  # check_payment
            await _post(session, invoice, paid_on, paid=True)
            invoice.paid_at = utcnow()
            invoice.paid_on = paid_on
            invoice.bank_reference = bank_reference.strip()
        else:
            await _send_dispute(session, invoice, comment or "", named=frozenset(named))
        await transition(session, invoice, target, actor=actor, reason=reason)
        outcomes.append(DecisionOutcome(invoice.id, invoice.state))
    return outcomes


def check_payment(paid_on: date | None, bank_reference: str | None, *, today: date) -> None:
    """A payment is recorded as the bank statement shows it: its day (not in the future) and the
    bank's reference. Every missing or wrong field is listed."""
    errors = []
    if paid_on is None:
        errors.append(
            ErrorItem("/paid_on", "invoice.paid_on_required", "give the day the bank paid (YYYY-MM-DD)")
        )
    elif paid_on > today:
        errors.append(
            ErrorItem(
                "/paid_on",
                "invoice.paid_on_future",
                f"{paid_on.isoformat()} is after today ({today.isoformat()}): record a payment once made",
            )
        )
    if bank_reference is None or not bank_reference.strip():
        errors.append(
            ErrorItem(
                "/bank_reference",
                "invoice.bank_reference_required",
                "give the bank's reference of the payment, as on the statement",
            )
        )
    elif len(bank_reference.strip()) > 100:
        errors.append(
            ErrorItem("/bank_reference", "invoice.bank_reference_too_long", "at most 100 characters")
        )
    if errors:
        raise InvalidInput("the payment is incomplete", code=errors[0].code, errors=errors)


async def _post(session: AsyncSession, invoice: Invoice, on: date, *, paid: bool) -> None:
    """Fees invoiced (on approval) or paid, per case of the acts its lines matched; lines with no
    act and the rounding of VAT per line go to the office without a case. A credit's amounts are
    negative: its postings are the same builders' entries reversed."""
    lines = await InvoiceRepository(session).lines(invoice.id)
    per_case: dict[uuid.UUID | None, int] = defaultdict(int)
    for line in lines:
        per_case[line.case_id] += line.net_cents + (line.vat_cents or 0)
    per_case[None] += invoice.total_gross_cents - sum(per_case.values())
    kind = ledger.INVOICE_PAYMENT if paid else ledger.INVOICE
    for case_id, cents in per_case.items():
        if cents == 0:
            continue
        if paid:
            entries = ledger.invoice_payment_postings(paid_cents=abs(cents), currency=invoice.currency)
        else:
            entries = ledger.invoice_postings(invoiced_cents=abs(cents), currency=invoice.currency)
        await ledger.post(
            session,
            kind,
            reversing(entries) if cents < 0 else entries,
            effective_on=on,
            source=f"invoice:{invoice.id}",
            case_id=case_id,
            office_id=invoice.office_id,
        )


async def _check_lines(session: AsyncSession, invoice: Invoice, named: Sequence[str]) -> None:
    """422 ``invoice.line_unknown`` for each named line the invoice does not have."""
    known = {line.line_id for line in await InvoiceRepository(session).lines(invoice.id)}
    unknown = [
        ErrorItem(f"/lines/{n}", "invoice.line_unknown", f"invoice {invoice.number} has no line {line_id!r}")
        for n, line_id in enumerate(named)
        if line_id not in known
    ]
    if unknown:
        raise InvalidInput(
            f"{len(unknown)} line(s) unknown", code="invoice.line_unknown", errors=unknown[:MAX_ERRORS]
        )


async def _send_dispute(
    session: AsyncSession,
    invoice: Invoice,
    comment: str,
    *,
    correlation_id: str | None = None,
    named: frozenset[str] = frozenset(),
) -> None:
    """Sends the office an ``invoice_dispute`` listing each line with findings and their codes,
    and each line finance ``named`` as ``agency_disputed`` with the comment, through the outbox.
    ``correlation_id`` (the invoice's own message id): the dispute the hub sends when the invoice is
    matched with findings, before any person looked at it; finance may still dispute it once more,
    with its own comment (``dispute_sent_at``)."""
    repo = InvoiceRepository(session)
    office = await repo.office(invoice.office_id)
    assert office is not None
    lines = [line for line in await repo.lines(invoice.id) if line.findings or line.line_id in named]
    message = v1.InvoiceDispute(
        envelope=v1.Envelope(
            # The automatic dispute and finance's are two messages: two ids.
            message_id=f"DSP-{invoice.id.hex}" + ("-R" if correlation_id is not None else ""),
            kind="invoice_dispute",
            version="1",
            sender=v1.AGENCY,
            recipient=office.code,
            sent_at=utcnow(),
            correlation_id=correlation_id,
        ),
        invoice_number=invoice.number[:500],
        invoice_id=str(invoice.id),
        lines=[
            v1.DisputedLine(
                line_id=line.line_id[:500],
                codes=_line_codes(line, named),
                message=_line_message(line, named, comment)[:500],
            )
            for line in lines
        ],
        comment=comment[:4000],
    )
    await send_to_office(session, office, message, parent_id=invoice.message_pk)
    if correlation_id is None:
        invoice.dispute_sent_at = utcnow()


def _line_codes(line: InvoiceLine, named: frozenset[str]) -> list[v1.LineFinding]:
    codes = [v1.LineFinding(f["code"]) for f in line.findings or ()]
    if line.line_id in named:
        return [*codes[:9], v1.LineFinding.AGENCY_DISPUTED]
    return codes[:10]


def _line_message(line: InvoiceLine, named: frozenset[str], comment: str) -> str:
    found = (line.detail or line.result) if line.findings else ""
    if line.line_id not in named:
        return found
    return f"{found}; {comment}" if found else comment


# --- reading ---------------------------------------------------------------------------------


async def invoice_for(session: AsyncSession, invoice_id: uuid.UUID, office: Office | None) -> Invoice:
    """One invoice; for an office only its own (another's answers 404)."""
    invoice = await InvoiceRepository(session).get(invoice_id)
    if invoice is None or (office is not None and invoice.office_id != office.id):
        raise invoice_not_found(invoice_id)
    return invoice


async def lines_of(session: AsyncSession, invoice: Invoice) -> list[InvoiceLine]:
    return await InvoiceRepository(session).lines(invoice.id)


async def events_of(session: AsyncSession, invoice: Invoice) -> list[InvoiceEvent]:
    return await InvoiceRepository(session).events(invoice.id)


async def list_invoices(
    session: AsyncSession,
    *,
    state: str | None,
    office_code: str | None,
    after: uuid.UUID | None,
    limit: int,
    office: Office | None = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
) -> list[tuple[Invoice, str]]:
    """Invoices by id, ``limit`` after ``after``, with their office's code. ``office``: the caller is
    that office, which sees its own invoices only (``office_code`` then narrows nothing more);
    ``issued_from`` included, ``issued_to`` excluded, on the invoice's issue date."""
    return await InvoiceRepository(session).page(
        state=state,
        office_code=office_code,
        after=after,
        limit=limit,
        office_id=office.id if office is not None else None,
        issued_from=issued_from,
        issued_to=issued_to,
    )


async def office_code_of(session: AsyncSession, invoice: Invoice) -> str:
    office = await InvoiceRepository(session).office(invoice.office_id)
    assert office is not None
    return office.code
