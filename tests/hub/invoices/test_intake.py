"""E-invoices into the canonical form: the seller is the sending office, amounts signed, the same
invoice always the same message id. Pure."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.einvoice import LegalId, read_einvoice
from hub.invoices import intake
from hub.offices.models import Office
from schemas import v1
from tests.hub.invoices.einvoices import OTHER_SIRET, SIRET, Line, cii, ubl

OFFICE = Office(code="CJ75001", name="Étude", siret=SIRET)


@pytest.mark.parametrize(
    ("legal_id", "vat_id", "office_siret", "expected"),
    [
        (LegalId(SIRET, "0009"), None, SIRET, []),
        (LegalId(SIRET[:9], "0002"), None, SIRET, []),  # the SIREN: first 9 digits of the SIRET
        (LegalId(OTHER_SIRET, "0009"), None, SIRET, ["invoice.seller_not_sender"]),
        (LegalId(OTHER_SIRET[:9], "0002"), None, SIRET, ["invoice.seller_not_sender"]),
        (LegalId("83214765600026", "0009"), None, SIRET, ["invoice.seller_id_invalid"]),
        (None, "FR55832147656", SIRET, []),  # no BT-30: the SIREN of the French VAT id
        (None, None, SIRET, ["invoice.seller_id_missing"]),
        (LegalId(SIRET, "0009"), None, None, ["invoice.office_siret_unregistered"]),
    ],
)
def test_the_seller_is_the_sending_office(
    legal_id: LegalId | None, vat_id: str | None, office_siret: str | None, expected: list[str]
) -> None:
    parsed = read_einvoice(ubl("F-1", [Line(5158, ref="A/1")]))
    parsed = replace(parsed, seller=replace(parsed.seller, legal_id=legal_id, vat_id=vat_id))
    office = Office(code="CJ75001", name="Étude", siret=office_siret)
    assert [e.code for e in intake.seller_errors(parsed, office)] == expected


def test_a_credit_note_becomes_negative_fees_with_its_references() -> None:
    reading = intake.read_einvoice_message(
        ubl("AV-1", [Line(5158, ref="A/1", approval="APR-1")], credit=True), OFFICE
    )
    invoice = reading.message
    assert isinstance(invoice, v1.FeeInvoice) and reading.errors == []
    assert invoice.envelope.message_id == "EINV-CJ75001-AV-1" and invoice.envelope.sender == "CJ75001"
    assert (invoice.total_net_cents, invoice.total_vat_cents, invoice.total_gross_cents) == (
        -5158,
        -1032,
        -6190,
    )
    [line] = invoice.lines
    assert (line.office_act_reference, line.approval_id, line.act_code, line.line_id) == (
        "A/1",
        "APR-1",
        "SERVE_TITLE",
        "1",
    )
    assert invoice.mandate_reference == "MDT-1"


def test_refusals_list_every_error_with_the_readers_codes() -> None:
    # Readable: our rules' errors travel with the canonical form, for the handler to add its own.
    reading = intake.read_einvoice_message(cii("F-1", [Line(5158, ref="A/1")], siret=OTHER_SIRET), OFFICE)
    assert reading.message is not None
    assert [e.code for e in reading.errors] == ["invoice.seller_not_sender"]
    assert intake.read_einvoice_message(cii("F-1", [Line(5158, ref="A/1")]), OFFICE).errors == []
    # Not readable as the canonical form (a line naming no act): ours and the form's together.
    with pytest.raises(intake.EInvoiceRefused) as refused:
        intake.read_einvoice_message(ubl("F-1", [Line(5158)], siret=OTHER_SIRET), OFFICE)
    assert [e.code for e in refused.value.errors] == [
        "invoice.seller_not_sender",
        "invoice.line_unreferenced",
    ]
    unregistered = Office(code="CJ75001", name="Étude", siret=None)
    with pytest.raises(intake.EInvoiceRefused) as refused:
        intake.read_einvoice_message(ubl("F-1", [Line(5158, ref="A/1")]), unregistered)
    assert [e.code for e in refused.value.errors] == ["invoice.office_siret_unregistered"]
    broken = ubl("F-2", [Line(5158, ref="A/1")]).replace(
        b'<cbc:PayableAmount currencyID="EUR">61.90', b'<cbc:PayableAmount currencyID="EUR">61.91'
    )
    with pytest.raises(intake.EInvoiceRefused) as refused:
        intake.read_einvoice_message(broken, OFFICE)
    # The rule in the wire form of codes, and by its own name in the message.
    assert {e.code for e in refused.value.errors} == {"en16931.br_co_16"}
    assert all(e.message.startswith("BR-CO-16: ") for e in refused.value.errors)


def test_what_is_an_einvoice_and_its_message_id() -> None:
    assert intake.is_einvoice(ubl("F", [Line(1, ref="A")]), "application/xml")
    assert intake.is_einvoice(cii("F", [Line(1, ref="A")]), "application/xml")
    assert intake.is_einvoice(b"%PDF-1.7 ...", "application/octet-stream")
    assert not intake.is_einvoice(b"<feeInvoice xmlns='urn:agency-hub:edi:v1'/>", "application/xml")
    assert intake.message_id_for("CJ1", "F 2026/1") == intake.message_id_for("CJ1", "F 2026/1")
    assert intake.message_id_for("CJ1", "F 2026/1").startswith(
        "EINV-CJ1-"
    ) and " " not in intake.message_id_for("CJ1", "F 2026/1")
