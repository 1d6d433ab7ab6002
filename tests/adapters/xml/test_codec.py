"""The canonical XML codec: golden round trips of every sample, every expected error, streamed batches,
and generated messages that survive encode -> decode unchanged."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

from adapters.xml import codec
from schemas.v1 import (
    XSD_DIR,
    ActReport,
    FeeInvoice,
    Mandate,
    parse_json,
)
from tests.schemas.samples import expected, ids, invalid, valid
from tests.schemas.strategies import ACT_REPORTS, FEE_INVOICES, MANDATES

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
    if not golden.exists():
        pytest.fail(f"no golden file for {path.name}: run with UPDATE_GOLDEN=1 and commit {golden}")
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


@HYPOTHESIS
@given(invoice=FEE_INVOICES)
def test_fee_invoice_survives_encode_decode(invoice: FeeInvoice) -> None:
    assert codec.decode(codec.encode(invoice)) == invoice
