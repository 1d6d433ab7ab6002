"""The canonical XML codec: golden round trips of every sample, every expected error, streamed batches,
and generated messages that survive encode -> decode unchanged."""

from __future__ import annotations

import io
import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from schemas.v1 import (
    MAX_CENTS,
    XSD_DIR,
    ActReport,
    Address,
    Claim,
    Debtor,
    DebtorKind,
    Envelope,
    FeesClaimed,
    Mandate,
    OutcomeCode,
    PerActTerms,
    Priority,
    Title,
    TitleKind,
    WholeFileTerms,
    parse_json,
)
from tests.schemas.samples import expected, ids, invalid, valid

codec = pytest.importorskip(
    "adapters.xml.codec", reason="adapters.xml.hardened has not landed yet", exc_type=ImportError
)

GOLDEN = Path(__file__).parent / "golden"
VALID_XML = valid(".xml")
INVALID_XML = invalid(".xml")
XSD = etree.XMLSchema(etree.parse(str(XSD_DIR / "edi.xsd")))


def c14n(data: bytes) -> str:
    """C14N 2.0 with insignificant whitespace between elements removed."""
    tree = etree.ElementTree(etree.fromstring(data))
    return str(etree.canonicalize(tree, strip_text=True))


@pytest.mark.parametrize("path", VALID_XML, ids=ids(VALID_XML))
def test_valid_sample_passes_the_xsd_and_the_model(path: Path) -> None:
    XSD.assertValid(etree.fromstring(path.read_bytes()))
    message = codec.decode(path.read_bytes())
    assert message.envelope.kind == parse_json(path.with_suffix(".json").read_bytes()).envelope.kind
    assert message == parse_json(path.with_suffix(".json").read_bytes()), "XML and JSON samples differ"


@pytest.mark.parametrize("path", VALID_XML, ids=ids(VALID_XML))
def test_golden_round_trip(path: Path) -> None:
    message = codec.decode(path.read_bytes())
    encoded = codec.encode(message)
    assert c14n(encoded) == c14n(path.read_bytes())
    assert codec.decode(encoded) == message
    golden = GOLDEN / path.name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_bytes(encoded)
    assert encoded == golden.read_bytes(), (
        f"encoding changed; if intended, rerun with UPDATE_GOLDEN=1 ({golden})"
    )


def test_encoding_is_deterministic() -> None:
    message = codec.decode(VALID_XML[0].read_bytes())
    first = codec.encode(message)
    assert first.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n")
    assert all(codec.encode(message) == first for _ in range(3))


@pytest.mark.parametrize("path", INVALID_XML, ids=ids(INVALID_XML))
def test_invalid_sample_is_refused_with_every_expected_error(path: Path) -> None:
    with pytest.raises(codec.XmlRejected) as caught:
        codec.decode(path.read_bytes())
    found = {(e.code, e.path) for e in caught.value.errors}
    wanted = {(e["code"], e["path"]) for e in expected(path)["errors"]}
    assert wanted <= found, f"missing {wanted - found}; found {found}"
    assert all(e.message for e in caught.value.errors)


def test_several_errors_are_reported_at_once_with_lines() -> None:
    path = next(p for p in INVALID_XML if p.stem == "act_report_several_errors")
    with pytest.raises(codec.XmlRejected) as caught:
        codec.decode(path.read_bytes())
    assert len(caught.value.errors) >= 6
    assert all(e.line is not None for e in caught.value.errors)


def test_errors_are_capped() -> None:
    lines = "".join(
        "<line><description>x</description><netCents>x</netCents><vatRateBp>0</vatRateBp></line>"
        for _ in range(150)
    )
    bad = next(p for p in VALID_XML if p.stem == "fee_invoice").read_bytes()
    bad = bad.replace(b"<totalNetCents>", lines.encode() + b"<totalNetCents>")
    with pytest.raises(codec.XmlRejected) as caught:
        codec.decode(bad)
    assert 1 <= len(caught.value.errors) <= codec.MAX_ERRORS


def test_a_doctype_is_refused() -> None:
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<actReport xmlns="urn:agency-hub:edi:v1">&x;</actReport>'
    )
    with pytest.raises(codec.XmlRejected):
        codec.decode(evil)


def test_a_batch_is_read_record_by_record() -> None:
    path = valid(".xml", batches=True)[0]
    XSD.assertValid(etree.fromstring(path.read_bytes()))
    records = list(codec.decode_batch_records(io.BytesIO(path.read_bytes())))
    assert len(records) == 3
    assert all(isinstance(r, ActReport) for r in records)
    assert codec.encode_batch([r for r in records if isinstance(r, ActReport)]) == path.read_bytes()


@pytest.mark.parametrize("path", invalid(".xml", batches=True), ids=ids(invalid(".xml", batches=True)))
def test_a_bad_record_does_not_stop_the_batch(path: Path) -> None:
    records = list(codec.decode_batch_records(io.BytesIO(path.read_bytes())))
    wanted = expected(path)["records"]
    assert len(records) == len(wanted)
    for record, want in zip(records, wanted, strict=True):
        if want["accepted"]:
            assert isinstance(record, ActReport)
        else:
            assert isinstance(record, codec.XmlRejected)
            found = {(e.code, e.path) for e in record.errors}
            assert {(e["code"], e["path"]) for e in want["errors"]} <= found


def test_record_outside_a_batch_root_is_refused() -> None:
    report = codec.decode(next(p for p in VALID_XML if p.stem == "act_report").read_bytes())
    body = codec.encode(report).split(b"?>", 1)[1]
    data = b'<other xmlns="urn:agency-hub:edi:v1">' + body + b"</other>"
    (record,) = list(codec.decode_batch_records(io.BytesIO(data)))
    assert isinstance(record, codec.XmlRejected)
    assert record.errors[0].code == "xml.batch_structure"


# --- generated messages -----------------------------------------------------------------------

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

HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HYPOTHESIS
@given(report=ACT_REPORTS)
def test_act_report_survives_encode_decode(report: ActReport) -> None:
    assert codec.decode(codec.encode(report)) == report


@HYPOTHESIS
@given(mandate=MANDATES)
def test_mandate_survives_encode_decode(mandate: Mandate) -> None:
    encoded = codec.encode(mandate)
    XSD.assertValid(etree.fromstring(encoded))
    assert codec.decode(encoded) == mandate
