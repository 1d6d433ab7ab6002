"""The authorisation matrix, generated from the application's route table (its OpenAPI document):
no route without a key except the public ones, and an office never reaches another office's
objects through any route: every route is tried by office A with a real object of office B (its
mandate, message, batch, invoice, mailbox item, hold notice, acts and approval), and answers exactly
what the matrix says (404 as for an unknown object, 401 on staff routes), never B's data."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from hub.acts.models import ActReport
from hub.cases.updates import CaseUpdateIn
from hub.database import unit_of_work
from hub.kit.clock import utcnow
from hub.mandates import service as mandates
from hub.mandates.models import HoldNotice, MandateEvent
from hub.messaging.models import MailboxItem
from hub.messaging.relay import Relay
from hub.worklist.models import Reminder
from tests.hub.acts.factories import Seeded, bearer, renumbered_batch, report, seed
from tests.hub.invoices.factories import World, v1_invoice, world
from tests.hub.remittances.factories import collecting, encoded, remittance

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/v1/receipts/public-key"),
    ("GET", "/v1/receipts/public-keys"),
}
DOCS = ["/openapi.json", "/docs", "/redoc"]
JSON = "application/json"
XML = "application/xml"


def operations(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    ]


async def test_no_route_answers_without_a_key_except_health_docs_and_the_receipt_key(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ops = operations(app)
    assert ("POST", "/v1/act-reports/batch") in ops and len(ops) > 10
    for method, path in ops:
        url = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
        answer = await client.request(
            method, url, content=b"{}", headers={"Content-Type": "application/json"}
        )
        if (method, path) in PUBLIC:
            assert answer.status_code < 500, (method, path)
        else:
            assert answer.status_code == 401, (method, path, answer.status_code, answer.text)
    for path in DOCS:
        assert (await client.get(path)).status_code == 200


@dataclass
class OfficeB:
    """Office B and real objects of its own, which office A must never reach."""

    world: World
    held: Seeded  # a second mandate of B, whose case is on hold: hold notices were sent to B
    message_pk: str  # B's act report, as stored
    message_id: str
    batch_id: str
    invoice_id: str
    notice_id: str
    update_id: str  # a case update sent to B (its message id)
    remittance_id: str  # a remittance B sent, of money it collected on a case of its own
    bank_reference: str
    hold_id: str  # the hold raised on B's held case
    inbox_item: int  # an item of B's mailbox, not acknowledged
    reminder_id: str  # a reminder sent to B
    identifiers: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.world.code

    @property
    def mandate_ref(self) -> str:
        return self.world.seeded.mandate.ref


@pytest.fixture
async def office_b(app: FastAPI, client: httpx.AsyncClient) -> OfficeB:
    w = await world(app)
    key = bearer(w.key)
    async with unit_of_work(app.state.sessions) as session:
        held = await seed(session, office=w.seeded.office, acts=["BANK_GARNISHMENT"])
        # B's reports over HTTP: a mandate ordering enough acts not to complete under them.
        live = await seed(session, office=w.seeded.office, acts=["SERVE_TITLE"] * 4)
        summons = await session.get(ActReport, w.acts["A/4"].id)
        assert summons is not None
        summons.approval_id = f"APR-{w.code}"  # B's act reported under B's approval
        hold = await mandates.raise_hold(
            session, held.case.ref, "payment_plan_active", actor="staff@agence.example", comment="plan"
        )
        moved = CaseUpdateIn(kind="dispute_opened", reference="B-1", effective_on=date.today())
        await mandates.record_update(session, held.case.ref, moved, actor="staff@agence.example")
        collected = await collecting(session, [1000], office=w.seeded.office)
        reminder_id = f"RMD-{uuid.uuid4().hex}"
        now = utcnow()
        session.add(
            Reminder(
                message_id=reminder_id,
                office_id=w.seeded.office.id,
                topic="stale_mandate",
                subject=held.mandate.ref,
                mandate_ref=held.mandate.ref,
                waiting_since=now.date(),
                explanation="quiet",
                forced=False,
                sent_by="staff@agence.example",
                sent_at=now,
                sent_on=now.date(),
                ack_due_by=now,
            )
        )
    report_b = json.dumps(report(w.code, live.mandate.ref, 1)).encode()
    sent = await client.post("/v1/act-reports", content=report_b, headers={**key, "Content-Type": JSON})
    assert sent.status_code == 202, sent.text
    message = (await client.get(f"/v1/messages/CR-{w.code}-1", headers=key)).json()
    batch = await client.post(
        "/v1/act-reports/batch",
        content=_batch(w.code, live.mandate.ref, first=2),
        headers={**key, "Content-Type": XML},
    )
    assert batch.status_code == 200 and batch.json()["accepted_count"] == 2, batch.text
    line = {
        "office_act_reference": "A/1",
        "description": "Signification",
        "net_cents": 5158,
        "vat_rate_bp": 2000,
    }
    invoiced = await client.post(
        "/v1/invoices", content=v1_invoice(w, "F-B1", [line]), headers={**key, "Content-Type": JSON}
    )
    assert invoiced.status_code == 202, invoiced.text
    [invoice] = (await client.get(f"/v1/invoices?office={w.code}", headers=bearer(w.finance))).json()["items"]
    remitted = remittance(w.code, [(collected.ref(0), 1000)], n="B1")
    answer = await client.post(
        "/v1/remittances", content=encoded(remitted), headers={**key, "Content-Type": JSON}
    )
    assert answer.status_code == 202, answer.text
    [remitted_row] = (await client.get("/v1/remittances", headers=key)).json()["items"]

    relay = Relay(app.state.sessions)  # the embedded relay fills the offices' mailboxes
    while await relay.run_once():
        pass
    inbox = (await client.get("/v1/inbox?limit=500", headers=key)).json()["items"]
    [notice] = [item for item in inbox if item["kind"] == "hold_notice"]
    [update] = [item for item in inbox if item["kind"] == "case_update"]
    b = OfficeB(
        world=w,
        held=held,
        message_pk=message["id"],
        message_id=message["message_id"],
        batch_id=batch.json()["batch_id"],
        invoice_id=invoice["id"],
        notice_id=notice["message_id"],
        update_id=update["message_id"],
        remittance_id=remitted_row["id"],
        bank_reference=remitted["bank_reference"],
        hold_id=hold.hold.hold_id,
        inbox_item=notice["id"],
        reminder_id=reminder_id,
    )
    b.identifiers = [
        w.code,
        w.seeded.mandate.ref,
        held.mandate.ref,
        w.seeded.case.ref,
        held.case.ref,
        str(w.seeded.case.id),
        str(held.case.id),
        b.message_pk,
        b.message_id,
        b.batch_id,
        b.invoice_id,
        b.notice_id,
        b.remittance_id,
        b.bank_reference,
        collected.ref(0),
        b.hold_id,
        b.reminder_id,
        f"APR-{w.code}",
        *(str(act.id) for act in w.acts.values()),
    ]
    return b


def _batch(code: str, mandate_ref: str, *, first: int, records: int = 2) -> bytes:
    """A batch file of act reports of ``code`` under ``mandate_ref``, numbered from ``first``."""
    return renumbered_batch(code, mandate_ref, records, numbered=lambda n: str(first + n))


@dataclass(frozen=True)
class Probe:
    """What office A sends to a route, with B's object in the URL or the body, and the one answer
    expected: its status, its problem code (for errors), and anything else to check."""

    url: str
    status: int
    code: str | None = None
    body: bytes = b""
    content_type: str = JSON
    check: Callable[[Any], None] | None = None
    echoes: bytes = b""  # what A sent earlier that the answer may repeat


def _envelope(sender: str, message_id: str, kind: str) -> dict[str, Any]:
    return {**report(sender, "-")["envelope"], "message_id": message_id, "kind": kind}


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def _empty(listed: Any) -> None:
    assert listed == [], listed


NOBODY = "M-NOBODY-0001"


def _answered_like_nobody(refs: list[str]) -> Callable[[Any], None]:
    """An inventory answer where each of ``refs`` reads exactly as the ref nobody has."""

    def check(result: Any) -> None:
        items = {d["ref"]: d for d in result["items"]}

        def shape(ref: str) -> dict[str, Any]:
            return {**items[ref], "ref": "", "message": items[ref]["message"].replace(ref, "X")}

        assert items[NOBODY]["kind"] == "unknown_here", result
        for ref in refs:
            assert shape(ref) == shape(NOBODY), (ref, result)

    return check


def matrix(a: World, b: OfficeB) -> dict[tuple[str, str], list[Probe]]:
    """Every route of the application, tried by office A with B's objects. A new route without an
    entry here fails the test: say what another office gets from it."""
    act_of_b = report(a.code, b.mandate_ref, "B")  # A reporting an act under B's mandate
    ack_of_b = {
        "envelope": _envelope(a.code, f"ACK-{a.code}-B", "mandate_ack"),
        "mandate_ref": b.mandate_ref,
        "accepted": True,
    }
    notice_ack = {
        "envelope": _envelope(a.code, f"HNA-{a.code}-B", "hold_notice_ack"),
        "notice_id": b.notice_id,
        "mandate_ref": b.held.mandate.ref,
    }
    update_ack = {
        "envelope": _envelope(a.code, f"CUA-{a.code}-B", "case_update_ack"),
        "update_id": b.update_id,
        "case_ref": b.held.case.ref,
    }
    reminder_ack = {
        "envelope": _envelope(a.code, f"RMA-{a.code}-B", "reminder_ack"),
        "reminder_id": b.reminder_id,
    }
    lines_on_b = [
        {
            "hub_act_id": str(b.world.acts["A/1"].id),
            "description": "x",
            "net_cents": 100,
            "vat_rate_bp": 2000,
        },
        {"approval_id": f"APR-{b.code}", "description": "y", "net_cents": 100, "vat_rate_bp": 2000},
    ]
    ask_on_b = {
        "envelope": _envelope(a.code, f"ASK-{a.code}-B", "cost_request"),
        "mandate_ref": b.mandate_ref,
        "act_code": "SUMMONS",
        "estimated_fees_cents": 1828,
        "justification": "a asks on b's mandate",
    }
    listed = [b.mandate_ref, b.held.mandate.ref]
    inventory = {"mandates": [{"ref": ref, "collected_cents": 1} for ref in [*listed, NOBODY]]}
    # B's own invoice, sent with A's key: the envelope's sender is not the key's office.
    as_b = v1_invoice(b.world, "F-B2", lines_on_b[:1])
    table: dict[tuple[str, str], Probe | list[Probe]] = {
        ("GET", "/healthz"): Probe("/healthz", 200),
        ("GET", "/readyz"): Probe("/readyz", 200),
        ("GET", "/v1/me"): Probe("/v1/me", 200, check=lambda me: _same(me["code"], a.code)),
        ("GET", "/v1/inbox"): Probe("/v1/inbox?limit=500", 200),
        ("POST", "/v1/inbox/{item_id}/ack"): Probe(f"/v1/inbox/{b.inbox_item}/ack", 404, "inbox.not_found"),
        ("GET", "/v1/messages"): Probe(
            f"/v1/messages?message_id={b.message_id}&office={b.code}",
            200,
            check=lambda page: _empty(page["items"]),
        ),
        ("POST", "/v1/messages"): [
            Probe("/v1/messages", 404, "mandate.not_found", _json(act_of_b)),
            Probe(
                "/v1/messages",
                404,
                "mandate.not_found",
                _json({**ack_of_b, "envelope": {**ack_of_b["envelope"], "message_id": f"ACK-{a.code}-M"}}),
            ),
            Probe(
                "/v1/messages",
                404,
                "hold_notice.not_found",
                _json(
                    {**notice_ack, "envelope": {**notice_ack["envelope"], "message_id": f"HNA-{a.code}-M"}}
                ),
            ),
            Probe("/v1/messages", 403, "envelope.sender_mismatch", as_b),
            Probe(
                "/v1/messages",
                404,
                "reminder.not_found",
                _json(
                    {
                        **reminder_ack,
                        "envelope": {**reminder_ack["envelope"], "message_id": f"RMA-{a.code}-M"},
                    }
                ),
            ),
        ],
        ("GET", "/v1/messages/{ref}"): [
            Probe(f"/v1/messages/{b.message_pk}", 404, "message.not_found"),
            Probe(f"/v1/messages/{b.message_id}", 404, "message.not_found"),
        ],
        # B's message's content (a mandate names its debtor): another office's answers 404.
        ("GET", "/v1/messages/{ref}/raw"): [
            Probe(f"/v1/messages/{b.message_pk}/raw", 404, "message.not_found"),
            Probe(f"/v1/messages/{b.message_id}/raw", 404, "message.not_found"),
        ],
        ("POST", "/v1/messages/{message_pk}/resend"): _staff(f"/v1/messages/{b.message_pk}/resend"),
        # B's own API key, which A would revoke: staff only (admin).
        ("POST", "/v1/keys/{key_id}/revoke"): _staff(f"/v1/keys/{b.world.key.split('_')[1]}/revoke"),
        # B's details (its IBAN: where its fees are paid), which A would change: staff only (admin).
        ("PATCH", "/v1/offices/{code}"): _staff(
            f"/v1/offices/{b.code}", b'{"iban": "FR7630004008200001012340185"}'
        ),
        ("POST", "/v1/messages/{message_pk}/replay"): _staff(f"/v1/messages/{b.message_pk}/replay"),
        ("GET", "/v1/receipts/public-key"): Probe("/v1/receipts/public-key", 200),
        ("GET", "/v1/receipts/public-keys"): Probe("/v1/receipts/public-keys", 200),
        ("POST", "/v1/cases"): _staff("/v1/cases", b"{}"),
        ("GET", "/v1/cases/{ref}"): _staff(f"/v1/cases/{b.world.seeded.case.ref}"),
        ("POST", "/v1/mandates"): _staff("/v1/mandates", b"{}"),
        ("GET", "/v1/mandates"): Probe("/v1/mandates?limit=500", 200),
        ("GET", "/v1/mandates/held"): _staff(f"/v1/mandates/held?office={b.code}"),
        ("GET", "/v1/mandates/{ref}"): Probe(f"/v1/mandates/{b.mandate_ref}", 404, "mandate.not_found"),
        **{
            ("POST", f"/v1/mandates/{{ref}}/{verb}"): _staff(f"/v1/mandates/{b.mandate_ref}/{verb}", b"{}")
            for verb in ("approve", "refuse", "decision", "cancel")
        },
        ("POST", "/v1/acts/assess"): _staff("/v1/acts/assess", b"{}"),
        ("GET", "/v1/approvals"): _staff(f"/v1/approvals?office={b.code}"),
        ("GET", "/v1/approvals/{approval_id}"): _staff(f"/v1/approvals/APR-{b.code}"),
        ("POST", "/v1/approvals/{approval_id}/decide"): _staff(f"/v1/approvals/APR-{b.code}/decide", b"{}"),
        ("POST", "/v1/cases/{ref}/holds"): _staff(f"/v1/cases/{b.held.case.ref}/holds", b"{}"),
        ("POST", "/v1/hold-notice-acks"): Probe(
            "/v1/hold-notice-acks", 404, "hold_notice.not_found", _json(notice_ack)
        ),
        ("GET", "/v1/hold-notices"): _staff("/v1/hold-notices"),
        ("GET", "/v1/cases/{ref}/holds"): _staff(f"/v1/cases/{b.held.case.ref}/holds"),
        ("POST", "/v1/holds/{hold_id}/lift"): _staff(f"/v1/holds/{b.hold_id}/lift", b"{}"),
        ("GET", "/v1/holds/breaches"): _staff("/v1/holds/breaches"),
        ("POST", "/v1/cases/{ref}/updates"): _staff(f"/v1/cases/{b.held.case.ref}/updates", b"{}"),
        ("GET", "/v1/cases/{ref}/updates"): _staff(f"/v1/cases/{b.held.case.ref}/updates"),
        ("POST", "/v1/case-update-acks"): Probe(
            "/v1/case-update-acks", 404, "case_update.not_found", _json(update_ack)
        ),
        # B's reminder: unknown to A, on its own route and on the route of every kind.
        ("POST", "/v1/reminders/{reminder_id}/ack"): Probe(
            f"/v1/reminders/{b.reminder_id}/ack", 404, "reminder.not_found", _json(reminder_ack)
        ),
        ("GET", "/v1/worklist"): _staff(f"/v1/worklist?office={b.code}"),
        ("POST", "/v1/reminders"): _staff("/v1/reminders", b"{}"),
        ("GET", "/v1/cases/{ref}/next-acts"): _staff(f"/v1/cases/{b.held.case.ref}/next-acts"),
        ("POST", "/v1/act-reports"): Probe("/v1/act-reports", 404, "mandate.not_found", _json(act_of_b)),
        ("POST", "/v1/mandate-acks"): Probe("/v1/mandate-acks", 404, "mandate.not_found", _json(ack_of_b)),
        ("POST", "/v1/cost-requests"): Probe("/v1/cost-requests", 404, "mandate.not_found", _json(ask_on_b)),
        # Each record is its own message, refused as for an unknown mandate.
        ("POST", "/v1/act-reports/batch"): Probe(
            "/v1/act-reports/batch",
            200,
            body=_batch(a.code, b.mandate_ref, first=100, records=3),
            content_type=XML,
            check=_every_record_not_found,
        ),
        ("GET", "/v1/batches/{batch_id}"): Probe(f"/v1/batches/{b.batch_id}", 404, "batch.not_found"),
        # A's own invoice quoting B's act and approval: A's to send, each line disputed without a word
        # of B's act (checked after the sweep).
        ("POST", "/v1/invoices"): [
            Probe("/v1/invoices", 202, body=v1_invoice(a, "F-ON-B", lines_on_b)),
            Probe("/v1/invoices", 403, "envelope.sender_mismatch", as_b),
        ],
        # An office lists its own invoices only: naming B narrows them to none, and B's never show.
        ("GET", "/v1/invoices"): [
            Probe(f"/v1/invoices?office={b.code}&limit=500", 200, check=lambda page: _empty(page["items"])),
            Probe("/v1/invoices?limit=500", 200),
        ],
        ("GET", "/v1/invoices/{invoice_id}"): Probe(f"/v1/invoices/{b.invoice_id}", 404, "invoice.not_found"),
        ("POST", "/v1/invoices/decisions"): _staff(
            "/v1/invoices/decisions",
            _json({"invoice_ids": [b.invoice_id], "decision": "approve", "comment": "x"}),
        ),
        ("POST", "/v1/invoices/{invoice_id}/paid"): _staff(
            f"/v1/invoices/{b.invoice_id}/paid", _json({"comment": "x"})
        ),
        # Finance's ledger routes: an office key is refused before any lookup.
        ("POST", "/v1/ledger/remittances"): _staff(
            "/v1/ledger/remittances",
            _json(
                {
                    "office_code": b.code,
                    "case_ref": b.world.seeded.case.ref,
                    "amount_cents": 100,
                    "currency": "EUR",
                    "effective_on": "2026-03-01",
                    "reference": "VIR-A",
                }
            ),
        ),
        ("POST", "/v1/ledger/write-offs"): _staff("/v1/ledger/write-offs", b"{}"),
        ("POST", "/v1/ledger/transactions/{transaction_id}/reversal"): _staff(
            f"/v1/ledger/transactions/{uuid.uuid4()}/reversal",
            _json({"reason": "x", "effective_on": "2026-03-01"}),
        ),
        ("GET", "/v1/ledger/cases/{ref}"): _staff(f"/v1/ledger/cases/{b.world.seeded.case.ref}"),
        ("GET", "/v1/finance/reconciliation"): _staff(
            f"/v1/finance/reconciliation?office={b.code}&from=2026-01-01&to=2027-01-01"
        ),
        ("GET", "/v1/finance/scorecard"): _staff(
            f"/v1/finance/scorecard?office={b.code}&from=2026-01-01&to=2027-01-01"
        ),
        # B's mandates are unknown here for A, as an unknown ref is: nothing of B's view.
        ("POST", "/v1/inventory"): Probe(
            "/v1/inventory", 200, body=_json(inventory), check=_answered_like_nobody(listed)
        ),
        ("GET", "/v1/inventory/last"): Probe("/v1/inventory/last", 200, echoes=_json(inventory)),
        ("GET", "/v1/inventory/{office_code}"): _staff(f"/v1/inventory/{b.code}"),
        # B's money: A cannot remit on B's case, list or read B's remittance, nor see what B holds.
        ("POST", "/v1/remittances"): Probe(
            "/v1/remittances",
            422,
            "remittance.case_unknown",
            encoded(remittance(a.code, [(b.world.seeded.case.ref, 1)], n="A-on-B")),
        ),
        ("GET", "/v1/remittances"): Probe("/v1/remittances", 200),
        ("GET", "/v1/remittances/{remittance_id}"): Probe(
            f"/v1/remittances/{b.remittance_id}", 404, "remittance.not_found"
        ),
        ("GET", "/v1/finance/unremitted"): _staff(f"/v1/finance/unremitted?office={b.code}"),
        ("GET", "/v1/finance/journal"): _staff("/v1/finance/journal?from=2026-01-01&to=2027-01-01"),
        ("GET", "/v1/offices/{code}/events"): _staff(f"/v1/offices/{b.code}/events"),
        ("GET", "/v1/act-reports/flagged"): _staff(f"/v1/act-reports/flagged?office={b.code}"),
        # Paying B: staff only (finance), whatever run or invoice.
        ("POST", "/v1/payment-runs"): _staff("/v1/payment-runs", b"{}"),
        ("GET", "/v1/payment-runs"): _staff("/v1/payment-runs"),
        ("GET", "/v1/payment-runs/{run_id}"): _staff(f"/v1/payment-runs/{uuid.uuid4()}"),
        ("GET", "/v1/payment-runs/{run_id}/pain001"): _staff(f"/v1/payment-runs/{uuid.uuid4()}/pain001"),
        ("POST", "/v1/payment-runs/{run_id}/paid"): _staff(f"/v1/payment-runs/{uuid.uuid4()}/paid", b"{}"),
    }
    return {route: probes if isinstance(probes, list) else [probes] for route, probes in table.items()}


def _every_record_not_found(result: Any) -> None:
    assert result["accepted_count"] == 0, result
    assert [r["errors"][0]["code"] for r in result["refused"]] == ["mandate.not_found"] * 3, result


def _staff(url: str, body: bytes = b"") -> Probe:
    """An office key on a staff route: refused before any object is looked up."""
    return Probe(url, 401, "auth.not_staff_token", body)


def _same(found: Any, expected: Any) -> None:
    assert found == expected, (found, expected)


def _leaked(text: str, sent: str, identifiers: list[str]) -> list[str]:
    """B's identifiers in an answer, beyond the ones A sent and the answer echoes."""
    for echoed in sorted((i for i in identifiers if i in sent), key=len, reverse=True):
        text = text.replace(echoed, "")
    return [i for i in identifiers if i in text]


@pytest.fixture
async def office_a(app: FastAPI) -> World:
    return await world(app)


async def test_an_office_never_reaches_another_offices_objects(
    app: FastAPI, client: httpx.AsyncClient, office_a: World, office_b: OfficeB
) -> None:
    a, b = office_a, office_b
    probes = matrix(a, b)
    routes = set(operations(app))
    assert routes - probes.keys() == set(), "routes without an entry in the matrix"
    assert probes.keys() - routes == set(), "entries of routes that are gone"
    for (method, path), probe in ((route, p) for route, each in probes.items() for p in each):
        headers = bearer(a.key, **{"Content-Type": probe.content_type})
        answer = await client.request(method, probe.url, content=probe.body, headers=headers)
        where = (method, path, answer.status_code, answer.text[:300])
        assert answer.status_code == probe.status, where
        if probe.code is not None:
            assert answer.headers["content-type"] == "application/problem+json", where
            assert answer.json()["code"] == probe.code, where
        if probe.check is not None:
            probe.check(answer.json())
        leaked = _leaked(answer.text, probe.url + (probe.body + probe.echoes).decode(), b.identifiers)
        assert not leaked, (where, leaked)

    # B's objects are as they were: its notice and mailbox item not acknowledged, nothing done by A
    # on its mandates.
    b_mandates = [b.world.seeded.mandate.id, b.held.mandate.id]
    async with unit_of_work(app.state.sessions) as session:
        notice = await session.scalar(select(HoldNotice).where(HoldNotice.message_id == b.notice_id))
        item = await session.get(MailboxItem, b.inbox_item)
        assert notice is not None and notice.acknowledged_at is None
        assert item is not None and item.acked_at is None
        by_a = await session.scalar(
            select(func.count())
            .select_from(MandateEvent)
            .where(MandateEvent.mandate_id.in_(b_mandates), MandateEvent.actor == a.code)
        )
        acts_of_a = await session.scalar(
            select(func.count())
            .select_from(ActReport)
            .where(ActReport.mandate_id.in_(b_mandates), ActReport.office_id == a.seeded.office.id)
        )
        assert (by_a, acts_of_a) == (0, 0)

    # A's invoice quoting B's act and approval: both lines disputed, nothing of B's acts said.
    [mine] = (await client.get(f"/v1/invoices?office={a.code}", headers=bearer(a.finance))).json()["items"]
    seen = await client.get(f"/v1/invoices/{mine['id']}", headers=bearer(a.key))
    assert [line["result"] for line in seen.json()["lines"]] == ["other_office_case"] * 2
    assert [line["act_report_id"] for line in seen.json()["lines"]] == [None, None]
    sent = str(b.world.acts["A/1"].id) + f"APR-{b.code}"
    assert not _leaked(seen.text, sent, b.identifiers)
