"""Hypothesis strategies of valid v1 messages (shared by the model and codec tests)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from schemas.v1 import (
    MAX_CENTS,
    ActReport,
    Address,
    Claim,
    Debtor,
    DebtorKind,
    Envelope,
    FeeInvoice,
    FeesClaimed,
    InvoiceLine,
    Mandate,
    OutcomeCode,
    PerActTerms,
    Priority,
    Seller,
    Title,
    TitleKind,
    WholeFileTerms,
)

# XML 1.0 carries neither C0 controls (tab and newline aside), lone surrogates nor U+FFFE/U+FFFF.
SAFE_TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff")
    | st.sampled_from("\t\n\r"),
    min_size=1,
    max_size=40,
)
REF = st.from_regex(r"\A[A-Za-z0-9._:/-]{1,64}\Z")
MESSAGE_ID = st.from_regex(r"\A[A-Za-z0-9._:-]{1,64}\Z")
PARTY = st.from_regex(r"\A[A-Z0-9]{2,16}\Z")
ACT = st.from_regex(r"\A[A-Z][A-Z0-9_]{1,39}\Z")
CENTS = st.integers(min_value=0, max_value=MAX_CENTS)
DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
INSTANTS = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    OFFSETS,
)


def envelopes(kind: str) -> st.SearchStrategy[Envelope]:
    return st.builds(
        Envelope,
        message_id=MESSAGE_ID,
        kind=st.just(kind),
        version=st.just("1"),
        sender=PARTY,
        recipient=PARTY,
        sent_at=INSTANTS,
        correlation_id=st.none() | MESSAGE_ID,
    )


ACT_REPORTS = st.builds(
    ActReport,
    envelope=envelopes("act_report"),
    mandate_ref=REF,
    act_code=ACT,
    act_date=DATES,
    outcome_code=st.sampled_from([o for o in OutcomeCode if o is not OutcomeCode.REFUSED_OTHER]),
    office_reference=REF,
    currency=st.from_regex(r"\A[A-Z]{3}\Z"),
    seized_cents=CENTS,
    collected_cents=CENTS,
    fees=st.builds(FeesClaimed, emoluments_cents=CENTS, disbursements_cents=CENTS, vat_cents=CENTS),
    approval_id=st.none() | REF,
    comment=st.none() | SAFE_TEXT,
)

ADDRESSES = st.builds(
    Address,
    street=SAFE_TEXT,
    complement=st.none() | SAFE_TEXT,
    postal_code=st.from_regex(r"\A[0-9]{5}\Z"),
    city=SAFE_TEXT,
    country=st.from_regex(r"\A[A-Z]{2}\Z"),
)
DEBTORS = st.one_of(
    st.builds(
        Debtor,
        kind=st.just(DebtorKind.PERSON),
        last_name=SAFE_TEXT,
        first_name=st.none() | SAFE_TEXT,
        birth_date=st.none() | DATES,
        address=ADDRESSES,
    ),
    st.builds(
        Debtor,
        kind=st.just(DebtorKind.COMPANY),
        company_name=SAFE_TEXT,
        siren=st.none() | st.from_regex(r"\A[0-9]{9}\Z"),
        address=ADDRESSES,
    ),
)
TITLES = st.builds(
    lambda kind, issued, days, ref: Title(
        kind=kind,
        issued_on=issued,
        served_on=None if days is None else issued + timedelta(days=days),
        reference=ref,
    ),
    st.sampled_from(TitleKind),
    DATES,
    st.none() | st.integers(min_value=0, max_value=300),
    st.none() | REF,
)
TERMS: st.SearchStrategy[Any] = st.one_of(
    st.builds(PerActTerms, kind=st.just("per_act"), act_codes=st.lists(ACT, min_size=1, max_size=20)),
    st.builds(
        WholeFileTerms,
        kind=st.just("whole_file"),
        fee_budget_cents=st.integers(min_value=1, max_value=MAX_CENTS),
        may_collect=st.booleans(),
    ),
)
MANDATES = st.builds(
    Mandate,
    envelope=envelopes("mandate"),
    mandate_ref=REF,
    case_ref=REF,
    creditor_name=SAFE_TEXT,
    debtor=DEBTORS,
    claim=st.builds(
        Claim,
        currency=st.just("EUR"),
        principal_cents=CENTS,
        interest_cents=CENTS,
        costs_cents=CENTS,
        paid_cents=CENTS,
    ),
    title=st.none() | TITLES,
    terms=TERMS,
    priority=st.sampled_from(Priority),
    instructions=st.none() | SAFE_TEXT,
)


SIGNED = st.integers(min_value=-(10**9), max_value=10**9)
LINES = st.lists(
    st.builds(
        InvoiceLine,
        office_act_reference=REF,
        hub_act_id=st.none() | REF,
        approval_id=st.none() | REF,
        description=SAFE_TEXT,
        net_cents=SIGNED,
        vat_rate_bp=st.sampled_from([0, 550, 1000, 2000]),
    ),
    min_size=1,
    max_size=5,
)


@st.composite
def fee_invoices(draw: st.DrawFn) -> FeeInvoice:
    lines = draw(LINES)
    net = sum(line.net_cents for line in lines)
    vat = draw(SIGNED)
    issued = draw(DATES)
    return FeeInvoice(
        envelope=draw(envelopes("fee_invoice")),
        invoice_number=draw(st.from_regex(r"\A[A-Za-z0-9._/-]{1,40}\Z")),
        issue_date=issued,
        due_date=draw(
            st.none() | st.integers(min_value=0, max_value=90).map(lambda d: issued + timedelta(days=d))
        ),
        seller=Seller(office_code="CJ75001", siret="44205637000004", name=draw(SAFE_TEXT)),
        lines=lines,
        total_net_cents=net,
        total_vat_cents=vat,
        total_gross_cents=net + vat,
    )


FEE_INVOICES = fee_invoices()
