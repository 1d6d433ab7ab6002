"""Fee invoices through the real API (SQLite and PostgreSQL): intake in every form, each discrepancy
on the right line with the right code, refusals, duplicates, credits, finance's decisions."""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from adapters.xml import codec
from hub.database import unit_of_work
from hub.invoices import intake
from hub.ledger import service as ledger
from hub.ledger.models import LedgerTransaction
from hub.messaging.inbound import Reading
from hub.messaging.models import StoredMessage
from hub.offices.models import Office
from schemas import v1
from tests.hub.acts.factories import bearer
from tests.hub.acts.test_office_receipts import office_verifies
from tests.hub.invoices.einvoices import OTHER_SIRET, SIRET, Line, cii, facturx_pdf, ubl, vat_id
from tests.hub.invoices.factories import World, count_messages, v1_invoice, world

XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def w(app: FastAPI) -> World:
    return await world(app)


async def send(client: httpx.AsyncClient, w: World, body: bytes, content_type: str) -> httpx.Response:
    return await client.post(
        "/v1/invoices", content=body, headers=bearer(w.key, **{"Content-Type": content_type})
    )


async def invoice_of(client: httpx.AsyncClient, w: World, message_id: str) -> dict[str, Any]:
    listed = await client.get(f"/v1/invoices?office={w.code}&limit=500", headers=bearer(w.finance))
    assert listed.status_code == 200, listed.text
    for item in listed.json()["items"]:
        detail = (await client.get(f"/v1/invoices/{item['id']}", headers=bearer(w.key))).json()
        message = await client.get(f"/v1/messages/{detail['message_pk']}", headers=bearer(w.key))
        if message.status_code == 200 and message.json().get("message_id") == message_id:
            return detail
    raise AssertionError(f"no invoice for message {message_id}")


async def disputes_to(app: FastAPI, office_code: str) -> list[dict[str, Any]]:
    """The ``invoice_dispute`` messages queued for the office, as it will read them (JSON)."""
    async with unit_of_work(app.state.sessions) as session:
        found = await session.scalars(
            select(StoredMessage)
            .where(StoredMessage.kind == "invoice_dispute", StoredMessage.recipient == office_code)
            .order_by(StoredMessage.created_at)
        )
        return [codec.decode(m.body).model_dump(mode="json") for m in found]  # the office's codec: XML


def results(invoice: dict[str, Any]) -> list[list[str]]:
    return [[f["code"] for f in line["findings"]] for line in invoice["lines"]]


def discrepancies(w: World, other: World) -> list[Line]:
    """One line per finding code, in this order; ``other`` is another office."""
    approval = f"APR-{w.code}"
    return [
        Line(5158, ref="A/1"),  # matched
        Line(5158, ref="A/404"),  # act_unknown
        Line(5158, ref="A/3"),  # act_not_mandated: flagged, no approval
        Line(5158, ref="A/1"),  # billed_twice (line 1)
        Line(9765, ref="A/2", act_code="PAYMENT_ORDER"),  # above_tariff: 40.84 + 56.80 allowed
        Line(3656, vat_bp=1000, ref="A/4", approval=approval, act_code="SUMMONS"),  # vat_wrong
        Line(881, vat_bp=0, ref="A/1", act_code="DISBURSEMENT", name="Débours"),  # disbursement_unjustified
        Line(3656, approval=f"APR-{other.code}", act_code="SUMMONS"),  # other_office_case: their BT-132
    ]


EXPECTED = [
    [],
    ["act_unknown"],
    ["act_not_mandated"],
    ["billed_twice"],
    ["above_tariff"],
    ["vat_wrong"],
    ["disbursement_unjustified"],
    ["other_office_case"],
]


@pytest.mark.parametrize("content_type", ["application/json", "application/xml"])
async def test_a_v1_invoice_matched_line_by_line(
    app: FastAPI, client: httpx.AsyncClient, w: World, content_type: str
) -> None:
    lines = [
        {
            "office_act_reference": "A/1",
            "description": "Signification",
            "net_cents": 5158,
            "vat_rate_bp": 2000,
            "act_code": "SERVE_TITLE",
        },
        {"office_act_reference": "A/1", "description": "Débours", "net_cents": 880, "vat_rate_bp": 0},
        {
            "hub_act_id": str(w.acts["A/2"].id),
            "description": "Commandement",
            "net_cents": 9764,
            "vat_rate_bp": 2000,
        },
    ]
    body = v1_invoice(w, "F-1", lines)
    if content_type == "application/xml":  # the canonical XML form (schemas/xsd/v1)
        body = codec.encode(v1.FeeInvoice.model_validate_json(body))
    sent = await send(client, w, body, content_type)
    assert sent.status_code == 202, sent.text
    invoice = await invoice_of(client, w, f"FAC-{w.code}-F-1")
    # The receipt names the invoice recorded, signed with the rest: an office can check it and read it.
    assert sent.json()["invoice_id"] == invoice["id"]
    public_key = (await client.get("/v1/receipts/public-key")).json()["public_key_base64"]
    assert office_verifies(public_key, sent.json(), w.code)
    assert not office_verifies(public_key, {**sent.json(), "invoice_id": str(uuid.uuid4())}, w.code)
    message = await client.get(f"/v1/messages/{invoice['message_pk']}", headers=bearer(w.key))
    assert message.json()["sha256"] == hashlib.sha256(body).hexdigest()  # the bytes as sent
    assert invoice["state"] == "matched" and invoice["syntax"] == "v1" and invoice["kind"] == "invoice"
    assert [line["result"] for line in invoice["lines"]] == ["matched"] * 3
    assert await disputes_to(app, w.code) == []  # nothing to dispute, nothing sent
    assert invoice["lines"][2]["act_report_id"] == str(w.acts["A/2"].id)
    assert "events" not in invoice or invoice["events"] is None  # an office does not see the log


@pytest.mark.parametrize("form", ["ubl", "cii"])
async def test_each_discrepancy_on_its_line_with_its_code(
    app: FastAPI, client: httpx.AsyncClient, w: World, form: str
) -> None:
    other = await world(app)
    lines = discrepancies(w, other)
    body = ubl("F-2026-7", lines) if form == "ubl" else cii("F-2026-7", lines)
    sent = await send(client, w, body, "application/xml")
    assert sent.status_code == 202, sent.text
    invoice = await invoice_of(client, w, f"EINV-{w.code}-F-2026-7")
    assert results(invoice) == EXPECTED
    assert invoice["state"] == "disputed" and invoice["syntax"] == form
    # The office is told at once, each line with findings and its codes, from the receipt on.
    [dispute] = await disputes_to(app, w.code)
    assert dispute["envelope"]["correlation_id"] == f"EINV-{w.code}-F-2026-7"
    assert dispute["invoice_id"] == invoice["id"] and dispute["invoice_number"] == "F-2026-7"
    assert [(line["line_id"], line["codes"]) for line in dispute["lines"]] == [
        (str(n), codes) for n, codes in enumerate(EXPECTED, start=1) if codes
    ]
    assert "Disputed on receipt: 7 line(s) with findings" in dispute["comment"]
    assert [line["line_id"] for line in invoice["lines"]] == [str(n) for n in range(1, 9)]
    assert invoice["lines"][7]["act_report_id"] is None  # their act is named, never shown
    assert str(other.acts["A/4"].id) not in str(invoice) and str(other.seeded.case.id) not in str(invoice)


async def test_finance_disputes_the_lines_it_names(app: FastAPI, client: httpx.AsyncClient, w: World) -> None:
    good = ubl("F-L", [Line(5158, ref="A/1"), Line(5158, ref="A/2")])
    bad = cii("F-LK", discrepancies(w, await world(app)))
    assert (await send(client, w, good, "application/xml")).status_code == 202
    assert (await send(client, w, bad, "application/xml")).status_code == 202
    ok = await invoice_of(client, w, f"EINV-{w.code}-F-L")
    ko = await invoice_of(client, w, f"EINV-{w.code}-F-LK")
    assert ok["state"] == "matched" and results(ok) == [[], []]
    finance = bearer(w.finance, **JSON)
    decide = "/v1/invoices/decisions"
    dispute = {"decision": "dispute", "comment": "No visit on that day"}

    # Refused, nothing sent: unknown lines (each one listed), lines with another decision or with
    # two invoices.
    unknown = await client.post(
        decide, json={**dispute, "invoice_ids": [ok["id"]], "lines": ["9", "2", "x"]}, headers=finance
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "invoice.line_unknown"
    assert [e["path"] for e in unknown.json()["errors"]] == ["/lines/0", "/lines/2"]
    for body in (
        {"invoice_ids": [ok["id"]], "decision": "approve", "lines": ["1"]},
        {**dispute, "invoice_ids": [ok["id"], ko["id"]], "lines": ["1"]},
    ):
        refused = await client.post(decide, json=body, headers=finance)
        assert refused.status_code == 422 and refused.json()["code"] == "invoice.lines_need_one_dispute"
    assert len(await disputes_to(app, w.code)) == 1  # the one sent on receipt of the invoice with findings
    assert (await invoice_of(client, w, f"EINV-{w.code}-F-L"))["state"] == "matched"

    # A line the match found right: listed as the agency's, with the comment.
    named = await client.post(
        decide, json={**dispute, "invoice_ids": [ok["id"]], "lines": ["2"]}, headers=finance
    )
    assert named.status_code == 200 and named.json()["items"][0]["state"] == "disputed"
    sent = (await disputes_to(app, w.code))[-1]
    assert sent["invoice_id"] == ok["id"]
    assert sent["lines"] == [
        {"line_id": "2", "codes": ["agency_disputed"], "message": "No visit on that day"}
    ]
    assert sent["comment"] == "No visit on that day"
    log = (await client.get("/v1/invoices/" + ok["id"], headers=bearer(w.staff))).json()["events"]
    assert log[-1]["reason"] == "line 2: No visit on that day"
    # A line with findings: its codes and the agency's, its detail and the comment; the other lines
    # with findings still listed.
    named = await client.post(
        decide, json={**dispute, "invoice_ids": [ko["id"]], "lines": ["2"]}, headers=finance
    )
    assert named.status_code == 200, named.text
    sent = (await disputes_to(app, w.code))[-1]
    [second] = [line for line in sent["lines"] if line["line_id"] == "2"]
    assert second["codes"] == ["act_unknown", "agency_disputed"]
    assert second["message"].startswith("act_unknown: ") and second["message"].endswith(
        "; No visit on that day"
    )
    ko = await invoice_of(client, w, f"EINV-{w.code}-F-LK")
    assert [line["line_id"] for line in sent["lines"]] == [
        line["line_id"] for line in ko["lines"] if line["findings"]
    ]


async def test_another_offices_act_is_named_without_its_data(
    app: FastAPI, client: httpx.AsyncClient, w: World
) -> None:
    other = await world(app)
    theirs = other.acts["A/1"]
    lines = [{"hub_act_id": str(theirs.id), "description": "x", "net_cents": 100, "vat_rate_bp": 2000}]
    assert (await send(client, w, v1_invoice(w, "F-O", lines), "application/json")).status_code == 202
    invoice = await invoice_of(client, w, f"FAC-{w.code}-F-O")
    assert results(invoice) == [["other_office_case"]]
    text = str(invoice)
    assert other.code not in text and str(other.seeded.case.id) not in text and "A/1" not in text


async def test_the_seller_must_be_the_sending_office(client: httpx.AsyncClient, w: World) -> None:
    refused = await send(client, w, ubl("F-S", [Line(5158, ref="A/1")], siret=OTHER_SIRET), "application/xml")
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "invoice.seller_not_sender"
    assert refused.json()["receipt"]["accepted"] is False
    as_v1 = v1_invoice(
        w,
        "F-S1",
        [{"office_act_reference": "A/1", "description": "x", "net_cents": 1, "vat_rate_bp": 2000}],
        seller={"office_code": w.code, "siret": OTHER_SIRET, "name": "x"},
    )
    refused = await send(client, w, as_v1, "application/json")
    assert refused.status_code == 422 and refused.json()["code"] == "invoice.seller_not_sender"
    listed = await client.get(f"/v1/invoices?office={w.code}", headers=bearer(w.finance))
    assert listed.json()["items"] == []  # refused: nothing stored but the raw message
    corrected = await send(client, w, ubl("F-S", [Line(5158, ref="A/1")]), "application/xml")
    assert corrected.status_code == 202, corrected.text  # the refused number is free


async def test_other_currencies_and_reused_numbers_are_refused(client: httpx.AsyncClient, w: World) -> None:
    line = {"office_act_reference": "A/1", "description": "x", "net_cents": 5158, "vat_rate_bp": 2000}
    usd = await send(client, w, v1_invoice(w, "F-U", [line], currency="USD"), "application/json")
    assert usd.status_code == 422 and usd.json()["code"] == "invoice.currency_not_accepted"
    assert (await send(client, w, v1_invoice(w, "F-N", [line]), "application/json")).status_code == 202
    again = v1_invoice(w, "F-N", [line], envelope={**_envelope(w, "other-id")})
    reused = await send(client, w, again, "application/json")
    assert reused.status_code == 422 and reused.json()["code"] == "invoice.number_reused"


@pytest.mark.parametrize("content_type", ["application/json", "application/xml"])
async def test_a_vat_total_the_lines_do_not_carry_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, w: World, content_type: str
) -> None:
    """The agency pays an invoice's total: a total VAT its lines' net amounts at their rates do not
    give (here 20.00 on 51.58 at 20 %, which is 10.32) is refused, in either canonical form."""
    line = {"office_act_reference": "A/1", "description": "x", "net_cents": 5158, "vat_rate_bp": 2000}
    body = v1_invoice(w, "F-V", [line], total_vat_cents=2000, total_gross_cents=5158 + 2000)
    if content_type == "application/xml":
        body = codec.encode(v1.FeeInvoice.model_validate_json(body))
    refused = await send(client, w, body, content_type)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "invoice.total_vat_mismatch"
    assert [e["path"] for e in refused.json()["errors"]] == ["/total_vat_cents"]
    assert refused.json()["receipt"]["accepted"] is False
    listed = await client.get(f"/v1/invoices?office={w.code}", headers=bearer(w.finance))
    assert listed.json()["items"] == []  # nothing stored but the raw message
    right = v1_invoice(w, "F-V", [line], envelope={**_envelope(w, "F-V-again")})
    assert (await send(client, w, right, "application/json")).status_code == 202  # the number is free


@pytest.mark.parametrize("form", ["ubl", "cii"])
async def test_every_error_of_an_einvoice_is_listed_and_nothing_stored(
    app: FastAPI, client: httpx.AsyncClient, w: World, form: str
) -> None:
    line = {"office_act_reference": "A/1", "description": "x", "net_cents": 5158, "vat_rate_bp": 2000}
    assert (await send(client, w, v1_invoice(w, "F-R", [line]), "application/json")).status_code == 202
    build = ubl if form == "ubl" else cii
    wrong = build("F-R", [Line(5158, ref="A/1")], siret=OTHER_SIRET, currency="USD")
    refused = await send(client, w, wrong, "application/xml")
    assert refused.status_code == 422, refused.text
    expected = ["invoice.seller_not_sender", "invoice.currency_not_accepted", "invoice.number_reused"]
    assert [e["code"] for e in refused.json()["errors"]] == expected
    assert refused.json()["receipt"]["accepted"] is False
    assert [e["code"] for e in refused.json()["receipt"]["errors"]] == expected
    listed = await client.get(f"/v1/invoices?office={w.code}", headers=bearer(w.finance))
    assert len(listed.json()["items"]) == 1  # the first F-R only
    assert await count_messages(app, "error_report", w.code) == 1


@pytest.mark.parametrize("form", ["ubl", "cii"])
async def test_every_official_rule_broken_is_listed_and_nothing_stored(
    app: FastAPI, client: httpx.AsyncClient, w: World, form: str
) -> None:
    """The official EN 16931 stylesheets (HUB_EN16931_DIR, tests/conftest.py): an e-invoice without
    the seller's address, with a VAT id without its country and an unknown unit is refused with
    the three rule ids, in the wire form of codes, and nothing of it is stored but its message."""
    body = (ubl if form == "ubl" else cii)("F-O", [Line(5158, ref="A/1")]).decode()
    address = (
        r"(<cac:AccountingSupplierParty><cac:Party>)\s*<cac:PostalAddress>.*?</cac:PostalAddress>"
        if form == "ubl"
        else r"(<ram:SellerTradeParty>.*?)<ram:PostalTradeAddress>.*?</ram:PostalTradeAddress>"
    )
    wrong = re.sub(address, r"\1", body, count=1, flags=re.S)
    assert wrong != body
    wrong = wrong.replace(f">{vat_id(SIRET)}<", f">{vat_id(SIRET)[2:]}<").replace(
        'unitCode="C62"', 'unitCode="XXQ"'
    )
    refused = await send(client, w, wrong.encode(), "application/xml")
    assert refused.status_code == 422, refused.text
    codes = {e["code"] for e in refused.json()["errors"]}
    assert {"en16931.br_08", "en16931.br_co_09", "en16931.br_cl_23"} <= codes, codes
    [address_error] = [e for e in refused.json()["errors"] if e["code"] == "en16931.br_08"]
    assert address_error["message"].startswith("BR-08: ")
    listed = await client.get(f"/v1/invoices?office={w.code}", headers=bearer(w.finance))
    assert listed.json()["items"] == []
    assert await count_messages(app, "error_report", w.code) == 1


async def test_an_einvoice_is_read_off_the_event_loop(
    client: httpx.AsyncClient, w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The official stylesheets are CPU work: the e-invoice is read in a worker thread."""
    threads: list[int] = []
    read = intake.read_einvoice_message

    def recording(raw: bytes, office: Office) -> Reading:
        threads.append(threading.get_ident())
        return read(raw, office)

    monkeypatch.setattr(intake, "read_einvoice_message", recording)
    accepted = await send(client, w, ubl("F-T", [Line(5158, ref="A/1")]), "application/xml")
    assert accepted.status_code == 202, accepted.text
    assert threads and threading.get_ident() not in threads


def _envelope(w: World, message_id: str) -> dict[str, str]:
    return {
        "message_id": message_id,
        "kind": "fee_invoice",
        "version": "1",
        "sender": w.code,
        "recipient": "AGENCY",
        "sent_at": "2026-03-31T18:00:00+02:00",
    }


async def test_the_same_einvoice_twice_is_a_duplicate(client: httpx.AsyncClient, w: World) -> None:
    body = ubl("F-D", [Line(5158, ref="A/1")])
    first = await send(client, w, body, "application/xml")
    again = await send(client, w, body, "application/xml")
    assert first.status_code == 202, first.text
    assert again.status_code == 409 and again.json()["code"] == "message.duplicate"
    assert again.json()["receipt"]["signature"] == first.json()["signature"]


async def test_a_credit_note_is_stored_negative(client: httpx.AsyncClient, w: World) -> None:
    sent = await send(client, w, ubl("AV-1", [Line(5158, ref="A/1")], credit=True), "application/xml")
    assert sent.status_code == 202, sent.text
    invoice = await invoice_of(client, w, f"EINV-{w.code}-AV-1")
    assert invoice["kind"] == "credit"
    assert (invoice["total_net_cents"], invoice["total_vat_cents"], invoice["total_gross_cents"]) == (
        -5158,
        -1032,
        -6190,
    )
    assert invoice["lines"][0]["net_cents"] == -5158 and invoice["lines"][0]["result"] == "matched"


async def test_an_act_on_an_earlier_disputed_invoice_is_billed_twice(
    client: httpx.AsyncClient, w: World
) -> None:
    # Disputed at intake for another line: its A/1 fees and disbursement may still be approved.
    first = [
        Line(5158, ref="A/1"),
        Line(880, vat_bp=0, ref="A/1", act_code="DISBURSEMENT"),
        Line(5158, ref="A/404"),
    ]
    assert (await send(client, w, ubl("F-1", first), "application/xml")).status_code == 202
    disputed = await invoice_of(client, w, f"EINV-{w.code}-F-1")
    assert disputed["state"] == "disputed" and results(disputed) == [[], [], ["act_unknown"]]
    again = [Line(5158, ref="A/1"), Line(880, vat_bp=0, ref="A/1", act_code="DISBURSEMENT")]
    assert (await send(client, w, cii("F-2", again), "application/xml")).status_code == 202
    second = await invoice_of(client, w, f"EINV-{w.code}-F-2")
    assert results(second) == [["billed_twice"], ["disbursement_unjustified"]]


def negative_invoice(number: str, lines: list[Line]) -> bytes:
    """A type 380 invoice whose lines are negative (quantity -1), as the public sample
    BIS3_Invoice_negativ.XML: it gives money back, like a credit note."""
    return ubl(number, [replace(line, net_cents=-line.net_cents) for line in lines])


@pytest.mark.parametrize("form", ["credit_note", "negative_invoice"])
async def test_a_credit_releases_the_act_for_a_new_invoice(
    client: httpx.AsyncClient, w: World, form: str
) -> None:
    wrong = [Line(5158, ref="A/1"), Line(5158, ref="A/404")]
    assert (await send(client, w, ubl("F-1", wrong), "application/xml")).status_code == 202
    credit = ubl("AV-1", wrong, credit=True) if form == "credit_note" else negative_invoice("AV-1", wrong)
    assert (await send(client, w, credit, "application/xml")).status_code == 202
    credited = await invoice_of(client, w, f"EINV-{w.code}-AV-1")
    assert credited["kind"] == "credit" and credited["total_gross_cents"] == -(2 * 5158 + 2063)
    assert [line["net_cents"] for line in credited["lines"]] == [-5158, -5158]
    assert credited["lines"][0]["act_report_id"] == str(w.acts["A/1"].id)

    corrected = ubl("F-2", [Line(5158, ref="A/1")])
    assert (await send(client, w, corrected, "application/xml")).status_code == 202
    assert results(await invoice_of(client, w, f"EINV-{w.code}-F-2")) == [[]]
    # The credit released the act once: billing it a third time is billing it twice.
    assert (await send(client, w, ubl("F-3", [Line(5158, ref="A/1")]), "application/xml")).status_code == 202
    assert results(await invoice_of(client, w, f"EINV-{w.code}-F-3")) == [["billed_twice"]]


async def test_an_order_is_refused_as_such(client: httpx.AsyncClient, w: World) -> None:
    order = cii("O-1", [Line(5158, ref="A/1")], type_code="220")
    refused = await send(client, w, order, "application/xml")
    assert refused.status_code == 422 and refused.json()["code"] == "einvoice.not_an_invoice"
    order_x = (
        b'<?xml version="1.0"?><rsm:SCRDMCCBDACIOMessageStructure '
        b'xmlns:rsm="urn:un:unece:uncefact:data:SCRDMCCBDACIOMessageStructure:100"/>'
    )
    refused = await send(client, w, order_x, "application/xml")
    assert refused.status_code == 422 and refused.json()["code"] == "einvoice.not_an_invoice"


async def test_a_facturx_pdf(client: httpx.AsyncClient, w: World) -> None:
    pdf = facturx_pdf(cii("FX-1", [Line(5158, ref="A/1")]))
    sent = await send(client, w, pdf, "application/pdf")
    assert sent.status_code == 202, sent.text
    invoice = await invoice_of(client, w, f"EINV-{w.code}-FX-1")
    assert invoice["syntax"] == "facturx_pdf" and results(invoice) == [[]]


async def test_finance_approves_disputes_and_pays_in_bulk(
    app: FastAPI, client: httpx.AsyncClient, w: World
) -> None:
    good = ubl("F-OK", [Line(5158, ref="A/1")])
    bad = cii("F-KO", discrepancies(w, await world(app)))
    assert (await send(client, w, good, "application/xml")).status_code == 202
    assert (await send(client, w, bad, "application/xml")).status_code == 202
    ok = await invoice_of(client, w, f"EINV-{w.code}-F-OK")
    ko = await invoice_of(client, w, f"EINV-{w.code}-F-KO")
    finance = bearer(w.finance, **JSON)

    no_comment = await client.post(
        "/v1/invoices/decisions", json={"invoice_ids": [ko["id"]], "decision": "dispute"}, headers=finance
    )
    assert no_comment.status_code == 422
    disputed = await client.post(
        "/v1/invoices/decisions",
        json={"invoice_ids": [ko["id"]], "decision": "dispute", "comment": "Avoir attendu"},
        headers=finance,
    )
    assert disputed.status_code == 200, disputed.text
    again = await client.post(
        "/v1/invoices/decisions",
        json={"invoice_ids": [ko["id"]], "decision": "dispute", "comment": "encore"},
        headers=finance,
    )
    assert again.status_code == 409 and again.json()["code"] == "invoice.transition_not_allowed"
    # One sent on receipt (its findings), one by finance (its comment).
    assert await count_messages(app, "invoice_dispute", w.code) == 2
    inbox = await client.get("/v1/invoices/" + ko["id"], headers=bearer(w.staff))
    assert [e["to_state"] for e in inbox.json()["events"]] == ["received", "disputed", "disputed"]
    assert inbox.json()["events"][-1]["actor"] == f"finance-{w.code.lower()}@agence.example"

    # All or none: the paid decision on an invoice not approved refuses the whole request.
    mixed = await client.post(
        "/v1/invoices/decisions",
        json={
            "invoice_ids": [ok["id"], ko["id"]],
            "decision": "paid",
            "paid_on": "2026-03-02",
            "bank_reference": "VIR-1",
        },
        headers=finance,
    )
    assert mixed.status_code == 409 and len(mixed.json()["errors"]) == 2
    approved = await client.post(
        "/v1/invoices/decisions", json={"invoice_ids": [ok["id"]], "decision": "approve"}, headers=finance
    )
    assert approved.status_code == 200 and approved.json()["items"][0]["state"] == "approved"
    # Paid needs the payment as the bank shows it: its day and reference, each error listed.
    incomplete = await client.post(
        "/v1/invoices/decisions", json={"invoice_ids": [ok["id"]], "decision": "paid"}, headers=finance
    )
    assert incomplete.status_code == 422
    assert [e["code"] for e in incomplete.json()["errors"]] == [
        "invoice.paid_on_required",
        "invoice.bank_reference_required",
    ]
    refused = await client.post(f"/v1/invoices/{ok['id']}/paid", json={}, headers=finance)
    assert refused.status_code == 422
    paid = await client.post(
        f"/v1/invoices/{ok['id']}/paid",
        json={"paid_on": "2026-03-02", "bank_reference": "VIR-2026-42"},
        headers=finance,
    )
    assert paid.status_code == 200 and paid.json()["state"] == "paid"
    assert paid.json()["paid_on"] == "2026-03-02" and paid.json()["bank_reference"] == "VIR-2026-42"

    async with unit_of_work(app.state.sessions) as session:
        balances = await ledger.balances(session, office_id=w.seeded.office.id)
        kinds = (
            (
                await session.execute(
                    select(LedgerTransaction.kind).where(LedgerTransaction.source == f"invoice:{ok['id']}")
                )
            )
            .scalars()
            .all()
        )
    assert sorted(kinds) == ["invoice", "invoice_payment"]
    assert balances[ledger.FEES_PAID]["EUR"] == -(5158 + 1032)
    assert ledger.FEES_INVOICED not in balances  # invoiced then paid: nothing left owed


async def test_authorisation(client: httpx.AsyncClient, w: World) -> None:
    line = {"office_act_reference": "A/1", "description": "x", "net_cents": 5158, "vat_rate_bp": 2000}
    as_staff = await client.post(
        "/v1/invoices", content=v1_invoice(w, "F-A", [line]), headers=bearer(w.finance, **JSON)
    )
    assert as_staff.status_code == 401 and as_staff.json()["code"] == "auth.not_office_key"
    for method, path in [
        ("POST", "/v1/invoices/decisions"),
        ("POST", "/v1/invoices/00000000-0000-0000-0000-000000000000/paid"),
    ]:
        answer = await client.request(method, path, json={}, headers=bearer(w.key))
        assert answer.status_code in (401, 403), (path, answer.status_code)
    case_staff = await client.post(
        "/v1/invoices/decisions",
        json={"invoice_ids": ["00000000-0000-0000-0000-000000000000"], "decision": "approve"},
        headers=bearer(w.staff, **JSON),
    )
    assert case_staff.status_code == 403
    assert (await client.get("/v1/invoices", headers=bearer(w.staff))).status_code == 200


async def test_an_office_reads_only_its_own(app: FastAPI, client: httpx.AsyncClient, w: World) -> None:
    other = await world(app)
    line = {"office_act_reference": "A/1", "description": "x", "net_cents": 5158, "vat_rate_bp": 2000}
    assert (await send(client, w, v1_invoice(w, "F-R", [line]), "application/json")).status_code == 202
    mine = await invoice_of(client, w, f"FAC-{w.code}-F-R")
    assert (await client.get(f"/v1/invoices/{mine['id']}", headers=bearer(other.key))).status_code == 404
    page = await client.get("/v1/invoices?limit=1", headers=bearer(w.finance))
    assert page.status_code == 200 and len(page.json()["items"]) == 1 and page.json()["next_after"]


async def test_an_office_lists_only_its_own_invoices_page_by_page(
    app: FastAPI, client: httpx.AsyncClient, w: World
) -> None:
    other = await world(app)
    line = {"office_act_reference": "A/1", "description": "x", "net_cents": 5158, "vat_rate_bp": 2000}
    for number, issued in (("L-1", "2026-03-01"), ("L-2", "2026-03-15"), ("L-3", "2026-04-02")):
        body = v1_invoice(w, number, [line], issue_date=issued)
        assert (await send(client, w, body, "application/json")).status_code == 202
    assert (
        await send(client, other, v1_invoice(other, "L-9", [line]), "application/json")
    ).status_code == 202

    def numbers(answer: httpx.Response) -> list[str]:
        assert answer.status_code == 200, answer.text
        return sorted(item["number"] for item in answer.json()["items"])

    assert numbers(await client.get("/v1/invoices", headers=bearer(w.key))) == ["L-1", "L-2", "L-3"]
    assert numbers(await client.get("/v1/invoices", headers=bearer(other.key))) == ["L-9"]
    # Naming another office narrows nothing more: still only its own, here none.
    assert numbers(await client.get(f"/v1/invoices?office={other.code}", headers=bearer(w.key))) == []
    both = await client.get(f"/v1/invoices?office={other.code}", headers=bearer(w.finance))
    assert numbers(both) == ["L-9"]  # finance sees every office's

    first = await client.get("/v1/invoices?limit=2", headers=bearer(w.key))
    assert len(first.json()["items"]) == 2 and first.json()["next_after"]
    rest = await client.get(f"/v1/invoices?limit=2&after={first.json()['next_after']}", headers=bearer(w.key))
    assert sorted(numbers(first) + numbers(rest)) == [
        "L-1",
        "L-2",
        "L-3",
    ]
    assert rest.json()["next_after"] is None

    march = await client.get("/v1/invoices?from=2026-03-01&to=2026-04-01", headers=bearer(w.key))
    assert numbers(march) == ["L-1", "L-2"]
    # The first invoice bills act A/1; the next two bill it again (billed_twice): disputed.
    assert numbers(await client.get("/v1/invoices?state=matched", headers=bearer(w.key))) == ["L-1"]
    assert numbers(await client.get("/v1/invoices?state=disputed", headers=bearer(w.key))) == ["L-2", "L-3"]
    assert numbers(await client.get("/v1/invoices?state=paid", headers=bearer(w.key))) == []

    theirs = (await client.get("/v1/invoices", headers=bearer(other.key))).json()["items"][0]["id"]
    assert (await client.get(f"/v1/invoices/{theirs}", headers=bearer(w.key))).status_code == 404
    assert (await client.get("/v1/invoices?from=March", headers=bearer(w.key))).status_code == 422
    assert (await client.get("/v1/invoices")).status_code == 401
