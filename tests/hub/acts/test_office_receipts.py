"""A batch record's receipt checked as an office would: read where the office gets it, validated
against the published contract (``schemas/json``, ``schemas/xsd``) and verified with nothing but
the public key of ``GET /v1/receipts/public-key`` and the steps of the README ("Verifying a
receipt"), written here again rather than taken from the hub."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI
from lxml import etree

from adapters.xml import codec
from hub.app import create_app
from hub.messaging import service, signing
from hub.messaging.models import Receipt
from hub.messaging.outbound import receipt_message
from hub.messaging.repository import MessageRepository
from hub.messaging.signing import ReceiptSigner
from hub.settings import Settings
from schemas import v1
from schemas.examples.verify_receipt import ReceiptVerifier, UnknownKey
from schemas.v1 import JSON_SCHEMA_DIR, SAMPLES_DIR, XSD_DIR
from tests.hub.acts.factories import bearer, report_json, write_batch_file
from tests.hub.kit.test_idempotency import seeded_office

RECEIPT_SCHEMA = json.loads((JSON_SCHEMA_DIR / "receipt.json").read_text(encoding="utf-8"))
XSD = etree.XMLSchema(etree.parse(str(XSD_DIR / "edi.xsd")))
NS = {"h": "urn:agency-hub:edi:v1"}


def canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def office_verifies(public_key_b64: str, receipt: dict[str, Any], sender: str) -> bool:
    """The README's steps: the signed payload, then Ed25519 over it, or over the chunk's root its
    proof leads to."""
    payload = {
        "message_id": receipt["message_id"],
        "sender": sender,
        "sha256": receipt["sha256"],
        "received_at": receipt["received_at"],
        "accepted": receipt["accepted"],
        "errors": receipt.get("errors", []),
    }
    if "invoice_id" in receipt:  # a fee invoice's receipt names the invoice recorded, and signs it
        payload["invoice_id"] = receipt["invoice_id"]
    if (
        receipt.get("key_id") is not None
    ):  # the id of the key that signed, signed too (none on older receipts)
        payload["key_id"] = receipt["key_id"]
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    if receipt["signature_alg"] == "Ed25519":
        signed = canonical(payload)
    else:
        assert receipt["signature_alg"] == "Ed25519-Merkle"
        proof = receipt["proof"]
        node = hashlib.sha256(b"\x00" + canonical(payload)).digest()
        for step in proof["path"]:
            sibling = bytes.fromhex(step["sibling"])
            pair = sibling + node if step["side"] == "left" else node + sibling
            node = hashlib.sha256(b"\x01" + pair).digest()
        if node.hex() != proof["root"]:
            return False
        root = {"kind": "receipt_batch", "merkle_root": proof["root"], "leaves": proof["leaves"]}
        if receipt.get("key_id") is not None:
            root["key_id"] = receipt["key_id"]
        signed = canonical(root)
    try:
        key.verify(base64.b64decode(receipt["signature"]), signed)
    except InvalidSignature:
        return False
    return True


def receipt_from_xml(document: etree._Element) -> dict[str, Any]:
    """The receipt's fields as an office reads them from the XML form."""

    def text(path: str, at: etree._Element = document) -> str:
        found = at.findtext(path, namespaces=NS)
        assert found is not None, path
        return found

    receipt: dict[str, Any] = {
        "message_id": text("h:messageId"),
        "sha256": text("h:sha256"),
        "received_at": text("h:receivedAt"),
        "accepted": text("h:accepted") == "true",
        "errors": [],
        "signature": text("h:signature"),
        "signature_alg": text("h:signatureAlg"),
    }
    key_id = document.findtext("h:keyId", namespaces=NS)
    if key_id is not None:
        receipt["key_id"] = key_id
    invoice_id = document.findtext("h:invoiceId", namespaces=NS)
    if invoice_id is not None:
        receipt["invoice_id"] = invoice_id
    proof = document.find("h:proof", NS)
    if proof is not None:
        receipt["proof"] = {
            "root": text("h:root", proof),
            "leaves": int(text("h:leaves", proof)),
            "index": int(text("h:index", proof)),
            "path": [
                {"side": text("h:side", step), "sibling": text("h:sibling", step)}
                for step in proof.findall("h:step", NS)
            ],
        }
    return receipt


def tampered(receipt: dict[str, Any], other: dict[str, Any]) -> list[dict[str, Any]]:
    proof = receipt["proof"]
    first = proof["path"][0]
    flipped = {**first, "sibling": ("0" if first["sibling"][0] != "0" else "1") + first["sibling"][1:]}
    return [
        {**receipt, "sha256": "f" * 64},
        {**receipt, "accepted": not receipt["accepted"]},
        {**receipt, "proof": other["proof"]},
        {**receipt, "proof": {**proof, "path": [flipped, *proof["path"][1:]]}},
        {**receipt, "proof": {**proof, "leaves": proof["leaves"] + 1}},
        {**receipt, "signature_alg": "Ed25519"},
    ]


async def test_a_batch_records_receipt_verifies_with_the_public_key_alone(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    s, key = await seeded_office(app)
    office = s.office.code
    public_key = (await client.get("/v1/receipts/public-key")).json()["public_key_base64"]
    made = [
        v1.ActReport.model_validate_json(
            report_json(office, "M-UNKNOWN" if n == 4 else s.mandate.ref, n)  # the fourth is refused
        )
        for n in range(1, 7)
    ]
    answer = await client.post(
        "/v1/act-reports/batch",
        content=codec.encode_batch(made),
        headers=bearer(key, **{"Content-Type": "application/xml"}),
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["accepted_count"], result["refused_count"]) == (5, 1), result
    # The batch's answer names each record; its receipt is the record's, at GET /v1/messages/{id}.
    ids = [r["id"] for r in result["accepted"]] + [r["id"] for r in result["refused"]]
    receipts = []
    for record_id in ids:
        shown = await client.get(f"/v1/messages/{record_id}", headers=bearer(key))
        assert shown.status_code == 200, shown.text
        receipts.append(shown.json()["receipt"])

    # Nothing is sent to the office's inbox for the records of a batch: the answer is the batch's.
    inbox = await client.get("/v1/inbox", headers=bearer(key))
    assert inbox.status_code == 200 and inbox.json()["items"] == []

    properties = RECEIPT_SCHEMA["properties"]
    for receipt in receipts:
        assert receipt["signature_alg"] == "Ed25519-Merkle" and receipt["sender"] == office
        for name in (
            "message_id",
            "sha256",
            "received_at",
            "accepted",
            "signature",
            "signature_alg",
            "proof",
        ):
            jsonschema.validate(receipt[name], {"$defs": RECEIPT_SCHEMA["$defs"], **properties[name]})
        assert office_verifies(public_key, receipt, office), receipt

    assert {(r["proof"]["root"], r["proof"]["leaves"]) for r in receipts} == {
        (receipts[0]["proof"]["root"], 6)
    }
    refused = receipts[-1]
    assert refused["accepted"] is False and refused["errors"] and office_verifies(public_key, refused, office)

    first, other = receipts[0], receipts[1]
    for changed in tampered(first, other):
        assert not office_verifies(public_key, changed, office), changed
    assert not office_verifies(public_key, first, "CJ00000")  # another office's

    # The v1 message form of the same receipt (as any receipt is sent back): the published JSON
    # Schema and XSD take it, and it verifies from its XML alone.
    async with app.state.sessions() as session:
        stored = await MessageRepository(session).receipt_for(uuid.UUID(ids[0]))
        assert isinstance(stored, Receipt)
        wire = receipt_message(stored, office)
    as_json = wire.model_dump(mode="json", exclude_none=True)
    jsonschema.validate(as_json, RECEIPT_SCHEMA)
    assert as_json["proof"] == first["proof"] and as_json["signature"] == first["signature"]
    document = etree.fromstring(codec.encode(wire))
    XSD.assertValid(document)
    from_xml = receipt_from_xml(document)
    assert from_xml["signature_alg"] == "Ed25519-Merkle"
    assert office_verifies(public_key, from_xml, office)
    for changed in tampered(from_xml, other):
        assert not office_verifies(public_key, changed, office)


async def test_a_second_copy_of_a_batch_record_sent_alone_is_answered_signed_alone(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    s, key = await seeded_office(app)
    office = s.office.code
    public_key = (await client.get("/v1/receipts/public-key")).json()["public_key_base64"]
    path = tmp_path / "batch.xml"
    write_batch_file(path, office, s.mandate.ref, 3)
    xml = bearer(key, **{"Content-Type": "application/xml"})
    assert (
        await client.post("/v1/act-reports/batch", content=path.read_bytes(), headers=xml)
    ).status_code == 200
    record = etree.parse(str(path)).getroot()[0]
    again = await client.post("/v1/messages", content=etree.tostring(record), headers=xml)
    assert again.status_code == 409, again.text
    receipt = again.json()["receipt"]
    jsonschema.validate(receipt, RECEIPT_SCHEMA)
    assert receipt["signature_alg"] == "Ed25519" and "proof" not in receipt
    assert office_verifies(public_key, receipt, office)
    assert not office_verifies(public_key, {**receipt, "sha256": "f" * 64}, office)


def test_the_batch_record_receipt_sample_verifies_and_its_xml_says_the_same() -> None:
    # This sample is genuinely signed, with the key the hub derives from HUB_SECRET_KEY=sample.
    public_key = ReceiptSigner("sample").public_key_b64()
    sample = json.loads((SAMPLES_DIR / "valid" / "receipt_merkle.json").read_text(encoding="utf-8"))
    document = etree.parse(str(SAMPLES_DIR / "valid" / "receipt_merkle.xml")).getroot()
    XSD.assertValid(document)
    from_xml = receipt_from_xml(document)
    assert {k: sample[k] for k in from_xml} == from_xml
    recipient = sample["envelope"]["recipient"]
    assert office_verifies(public_key, sample, recipient)
    other_leaf = {**sample, "proof": {**sample["proof"], "index": 0, "path": sample["proof"]["path"][1:]}}
    for changed in [*tampered(sample, other_leaf), other_leaf]:
        assert not office_verifies(public_key, changed, recipient)


def test_the_invoice_receipt_sample_verifies_with_its_invoice_id_and_not_without() -> None:
    public_key = ReceiptSigner("sample").public_key_b64()
    sample = json.loads((SAMPLES_DIR / "valid" / "receipt_invoice.json").read_text(encoding="utf-8"))
    document = etree.parse(str(SAMPLES_DIR / "valid" / "receipt_invoice.xml")).getroot()
    XSD.assertValid(document)
    from_xml = receipt_from_xml(document)
    assert {k: sample[k] for k in from_xml} == from_xml
    recipient = sample["envelope"]["recipient"]
    assert office_verifies(public_key, sample, recipient)
    without = {k: v for k, v in sample.items() if k != "invoice_id"}
    assert not office_verifies(public_key, without, recipient)


async def test_after_a_key_rotation_each_receipt_verifies_with_the_key_its_id_names(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    """HUB_SECRET_KEY rotated, the old public key kept in HUB_RECEIPT_PREVIOUS_PUBLIC_KEYS: receipts
    signed before (alone and with a batch chunk) verify with the old key, found by their key id in
    GET /v1/receipts/public-keys; receipts signed after, with the new one."""
    s, key = await seeded_office(app)
    office = s.office.code
    xml = bearer(key, **{"Content-Type": "application/xml"})
    old_key = (await client.get("/v1/receipts/public-key")).json()
    assert old_key["key_id"] == signing.key_id(old_key["public_key_base64"])

    as_json = bearer(key, **{"Content-Type": "application/json"})
    alone = await client.post(
        "/v1/act-reports", content=report_json(office, s.mandate.ref, 50), headers=as_json
    )
    assert alone.status_code == 202, alone.text
    path = tmp_path / "batch.xml"
    write_batch_file(path, office, s.mandate.ref, 3)
    batch = await client.post("/v1/act-reports/batch", content=path.read_bytes(), headers=xml)
    assert batch.status_code == 200, batch.text
    old_ids = [r["id"] for r in batch.json()["accepted"]]

    rotated = settings.model_copy(
        update={
            "secret_key": "r" * 40,
            "receipt_previous_public_keys": old_key["public_key_base64"],
            "previous_secret_keys": settings.secret_key,  # the cases' data keys were wrapped with it
        }
    )
    after = create_app(rotated)
    async with (
        after.router.lifespan_context(after),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=after), base_url="http://hub.test"
        ) as rotated_client,
    ):
        listed = (await rotated_client.get("/v1/receipts/public-keys")).json()["items"]
        current = (await rotated_client.get("/v1/receipts/public-key")).json()
        assert [(k["key_id"], k["current"]) for k in listed] == [
            (current["key_id"], True),
            (old_key["key_id"], False),
        ]
        assert current["key_id"] != old_key["key_id"]
        verifier = ReceiptVerifier(listed)

        # What the office kept: the answer to its message sent alone, its batch records' receipts.
        old_receipts = [alone.json()] + [await receipt_of(rotated_client, key, i) for i in old_ids]
        assert {r["key_id"] for r in old_receipts} == {old_key["key_id"]}
        assert {r["signature_alg"] for r in old_receipts} == {"Ed25519", "Ed25519-Merkle"}
        for receipt in old_receipts:
            assert verifier.verify(receipt, office), receipt
            assert office_verifies(old_key["public_key_base64"], receipt, office)
            assert not office_verifies(current["public_key_base64"], receipt, office)
            # The key id is signed: naming the other key does not make it verify with that key.
            assert not office_verifies(
                current["public_key_base64"], {**receipt, "key_id": current["key_id"]}, office
            )

        later = await rotated_client.post(
            "/v1/act-reports", content=report_json(office, s.mandate.ref, 60), headers=as_json
        )
        assert later.status_code == 202, later.text
        new_receipt = later.json()
        assert new_receipt["key_id"] == current["key_id"]
        assert verifier.verify(new_receipt, office)
        assert not office_verifies(old_key["public_key_base64"], new_receipt, office)

        # The hub's own check picks the key by id as well.
        keys = after.state.receipt_keys
        async with after.state.sessions() as session:
            for message_id in old_ids:
                stored = await MessageRepository(session).receipt_for(uuid.UUID(message_id))
                assert isinstance(stored, Receipt) and service.receipt_verifies(keys, stored)

        # A receipt naming a key nobody publishes fails, saying so.
        unknown = {**new_receipt, "key_id": "0123456789abcdef"}
        with pytest.raises(UnknownKey, match="0123456789abcdef"):
            verifier.verify(unknown, office)
        stored.key_id = "0123456789abcdef"
        with pytest.raises(signing.UnknownKeyId, match="HUB_RECEIPT_PREVIOUS_PUBLIC_KEYS"):
            service.receipt_verifies(keys, stored)

    # Rotated without keeping the old public key: the old receipts' key is unknown, not "forged".
    forgetful = signing.ReceiptKeys.of(signing.ReceiptSigner("r" * 40))
    async with app.state.sessions() as session:
        first = await MessageRepository(session).receipt_for(uuid.UUID(old_ids[0]))
    assert isinstance(first, Receipt)
    with pytest.raises(signing.UnknownKeyId):
        service.receipt_verifies(forgetful, first)


def test_a_receipt_signed_before_key_ids_still_verifies_with_the_key_that_signed_it() -> None:
    """A stored receipt without key id (signed before they existed, its payload has none) verifies
    with any published key that signed it: the old one after a rotation."""
    old, new = signing.ReceiptSigner("o" * 40), signing.ReceiptSigner("n" * 40)
    received_at = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    payload = service.receipt_payload("M-LEGACY-1", "CJ75001", "a" * 64, received_at, True, [])
    legacy = Receipt(
        message_pk=uuid.uuid4(),
        message_id="M-LEGACY-1",
        sender="CJ75001",
        sha256="a" * 64,
        accepted=True,
        errors=[],
        received_at=received_at,
        signature=old.sign(payload),
        signature_alg=signing.ALGORITHM,
        key_id=None,
    )
    keys = signing.ReceiptKeys.of(new, [old.public_key_b64()])
    assert service.receipt_verifies(keys, legacy)
    assert not service.receipt_verifies(signing.ReceiptKeys.of(new), legacy)
    wire = receipt_message(legacy, "CJ75001").model_dump(mode="json", exclude_none=True)
    assert "key_id" not in wire
    published = [{"public_key_base64": k.public_key_b64} for k in keys.keys]
    assert ReceiptVerifier(published).verify(wire, "CJ75001")
    assert not ReceiptVerifier(published[:1]).verify(wire, "CJ75001")


def test_the_accepted_receipt_sample_names_its_key_and_verifies_with_it() -> None:
    signer = ReceiptSigner("sample")
    sample = json.loads((SAMPLES_DIR / "valid" / "receipt_accepted.json").read_text(encoding="utf-8"))
    document = etree.parse(str(SAMPLES_DIR / "valid" / "receipt_accepted.xml")).getroot()
    XSD.assertValid(document)
    from_xml = receipt_from_xml(document)
    assert {k: sample[k] for k in from_xml} == from_xml
    assert sample["key_id"] == signer.key_id
    recipient = sample["envelope"]["recipient"]
    assert office_verifies(signer.public_key_b64(), sample, recipient)
    assert ReceiptVerifier([{"public_key_base64": signer.public_key_b64()}]).verify(from_xml, recipient)
    without = {k: v for k, v in sample.items() if k != "key_id"}
    assert not office_verifies(signer.public_key_b64(), without, recipient)


async def receipt_of(client: httpx.AsyncClient, key: str, message_id: str) -> dict[str, Any]:
    shown = await client.get(f"/v1/messages/{message_id}", headers=bearer(key))
    assert shown.status_code == 200, shown.text
    receipt: dict[str, Any] = shown.json()["receipt"]
    return receipt
