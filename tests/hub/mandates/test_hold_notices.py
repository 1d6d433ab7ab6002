"""Hold notices must be acknowledged by their office by a deadline: in time, late, twice, by
another office; and the overdue ones are listed for staff, on either side of the deadline."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case
from hub.kit.clock import utcnow
from hub.kit.errors import Conflict, NotFound
from hub.mandates import service
from hub.mandates.models import HoldNotice, Mandate, MandateKind
from hub.mandates.service import MandateIn
from hub.mandates.service import hold_notices as hold_notices_module
from hub.messaging import sealing
from hub.messaging.inbound import decode
from hub.messaging.models import StoredMessage
from hub.offices.models import Office
from hub.settings import get_settings
from schemas import v1
from tests.hub.mandates.factories import RICH, a_case, an_office
from tests.hub.mandates.test_api import Agency, agency, office_with_key  # noqa: F401 - fixture
from tests.hub.mandates.test_handlers import office_message

STAFF = "handler@agence.example"
ACTS = ["BANK_GARNISHMENT", "GARNISHMENT_NOTICE"]


async def on_hold(session: AsyncSession) -> tuple[Office, Mandate, list[HoldNotice]]:
    """An office working on a two-act mandate whose case got a payment plan, and a second office on
    the same case: one hold notice each, the first office's first."""
    office = await an_office(session)
    other = await an_office(session)
    case = await a_case(session, **RICH)
    data = MandateIn(case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=ACTS)
    mandate = await service.create_mandate(session, data, actor=STAFF)
    data = MandateIn(
        case_ref=case.ref, office_code=other.code, kind=MandateKind.PER_ACT, acts=["SERVE_TITLE"]
    )
    await service.create_mandate(session, data, actor=STAFF)
    view = await service.raise_hold(
        session, case.ref, "payment_plan_active", actor=STAFF, comment="plan agreed"
    )
    notices = [n.notice for n in sorted(view.notices, key=lambda n: n.office_code != office.code)]
    return office, mandate, notices


def ack(office: Office, notice: HoldNotice, mandate_ref: str, comment: str | None = None) -> v1.HoldNoticeAck:
    return v1.HoldNoticeAck.model_validate_json(
        json.dumps(
            office_message(
                "hold_notice_ack",
                office.code,
                notice_id=notice.message_id,
                mandate_ref=mandate_ref,
                comment=comment,
            )
        )
    )


async def test_each_notice_has_a_deadline_stored_and_sent(session: AsyncSession) -> None:
    _, mandate, notices = await on_hold(session)
    assert notices[0].mandate_refs == [mandate.ref]
    window = timedelta(hours=get_settings().hold_notice_ack_hours)
    assert window == timedelta(hours=48)  # the documented default
    rows = await session.scalars(select(StoredMessage).where(StoredMessage.kind == "hold_notice"))
    sent = {
        m.envelope.message_id: m
        for m in [decode(await sealing.open_body(session, r), r.content_type) for r in rows]
    }
    for notice in notices:
        assert notice.ack_due_by - notice.sent_at == window and notice.acknowledged_at is None
        wire = sent[notice.message_id]
        assert isinstance(wire, v1.HoldNotice) and wire.ack_due_by == notice.ack_due_by


async def test_an_acknowledgement_in_time_is_recorded_once(session: AsyncSession) -> None:
    office, mandate, [first, _] = await on_hold(session)
    at = first.sent_at + timedelta(hours=2)
    done = await service.acknowledge_hold_notice(
        session, office, ack(office, first, mandate.ref, "stopped"), now=at
    )
    assert done is first and first.acknowledged_at == at and first.ack_message_id is not None
    last = (await service.events(session, mandate))[-1]
    assert (last.from_status, last.to_status, last.actor) == ("issued", "issued", office.code)
    assert last.reason == f"hold notice {first.message_id} (payment_plan_active) acknowledged: stopped"

    with pytest.raises(Conflict) as twice:
        await service.acknowledge_hold_notice(session, office, ack(office, first, mandate.ref), now=at)
    assert twice.value.code == "hold_notice.already_acknowledged" and twice.value.status == 409
    assert first.acknowledged_at == at  # never applied twice
    [view] = [
        v
        for v in (await service.list_hold_notices(session, overdue=False, limit=10, now=at))[0]
        if v.notice is first
    ]
    assert not view.overdue and not view.late


async def test_a_late_acknowledgement_is_recorded_and_said_late(session: AsyncSession) -> None:
    office, mandate, [notice, other] = await on_hold(session)
    at = notice.ack_due_by + timedelta(hours=3)
    await service.acknowledge_hold_notice(session, office, ack(office, notice, mandate.ref), now=at)
    assert notice.acknowledged_at == at
    last = (await service.events(session, mandate))[-1]
    assert last.reason is not None and last.reason.endswith("acknowledged, 3.0 h after its deadline")
    [view] = [
        v
        for v in (await service.list_hold_notices(session, overdue=False, limit=10, now=at))[0]
        if v.notice is notice
    ]
    assert view.late and not view.overdue
    overdue, _ = await service.list_hold_notices(session, overdue=True, limit=10, now=at)
    assert [v.notice for v in overdue] == [other]  # the other office's, never acknowledged


async def test_another_offices_notice_or_mandate_is_not_found(session: AsyncSession) -> None:
    office, mandate, [notice, _] = await on_hold(session)
    stranger = await an_office(session)
    with pytest.raises(NotFound) as foreign:
        await service.acknowledge_hold_notice(session, stranger, ack(stranger, notice, mandate.ref))
    assert foreign.value.code == "hold_notice.not_found" and foreign.value.status == 404
    with pytest.raises(NotFound):
        await service.acknowledge_hold_notice(session, office, ack(office, notice, "M-OTHER"))
    assert notice.acknowledged_at is None


async def test_overdue_notices_are_listed_only_past_their_deadline(session: AsyncSession) -> None:
    office, mandate, [acked, waiting] = await on_hold(session)
    await service.acknowledge_hold_notice(session, office, ack(office, acked, mandate.ref))

    before, _ = await service.list_hold_notices(
        session, overdue=True, limit=10, now=waiting.ack_due_by - timedelta(seconds=1)
    )
    assert before == []
    after, _ = await service.list_hold_notices(
        session, overdue=True, limit=10, now=waiting.ack_due_by + timedelta(seconds=1)
    )
    [view] = after
    assert view.notice is waiting and view.overdue and not view.late
    case = await session.get(Case, mandate.case_id)
    assert case is not None
    assert view.office_code != office.code and view.case_ref == case.ref and len(view.mandate_refs) == 1
    assert view.hold_id is not None and view.hold_id.startswith("HLD-")
    assert view.notice.sent_at < view.notice.ack_due_by


async def test_offices_acknowledge_over_http_and_staff_see_the_overdue(
    agency: Agency,  # noqa: F811
    app: FastAPI,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, key = await office_with_key(app)
    other, other_key = await office_with_key(app)
    case_ref = await agency.case(**RICH)
    made = await agency.mandate(case_ref=case_ref, office_code=code, kind="per_act", acts=ACTS)
    ref = made.json()["ref"]
    held = await client.post(
        f"/v1/cases/{case_ref}/holds",
        json={"situation": "disputed", "comment": "letter"},
        headers=agency.auth,
    )
    assert held.status_code == 201, held.text
    [sent] = held.json()["notices"]
    assert sent["office_code"] == code and sent["mandate_refs"] == [ref]
    listed = (await client.get("/v1/hold-notices", params={"office": code}, headers=agency.auth)).json()
    [mine] = listed["items"]
    assert listed["next_after"] is None
    assert mine["office_code"] == code and mine["case_ref"] == case_ref and not mine["overdue"]
    assert mine["hold_id"] == held.json()["hold_id"] and mine["act_code"] is None
    first = mine["notice_id"]

    def body(sender: str, notice_id: str) -> dict[str, object]:
        return office_message("hold_notice_ack", sender, notice_id=notice_id, mandate_ref=ref)

    in_time = await client.post("/v1/hold-notice-acks", json=body(code, first), headers=key)
    assert in_time.status_code == 202, in_time.text
    again = await client.post("/v1/hold-notice-acks", json=body(code, first), headers=key)
    assert (
        again.status_code == 409 and again.json()["errors"][0]["code"] == "hold_notice.already_acknowledged"
    )
    foreign = await client.post("/v1/hold-notice-acks", json=body(other, first), headers=other_key)
    assert foreign.status_code == 404 and foreign.json()["errors"][0]["code"] == "hold_notice.not_found"
    assert (await client.get("/v1/hold-notices", headers=key)).status_code == 401
    again_held = await client.post(
        f"/v1/cases/{case_ref}/holds",
        json={"situation": "vulnerable", "comment": "doctor's letter"},
        headers=agency.auth,
    )
    second = again_held.json()["notices"][0]["message_id"]

    async def overdue() -> list[dict[str, object]]:
        answer = await client.get(
            "/v1/hold-notices", params={"overdue": "true", "office": code}, headers=agency.auth
        )
        assert answer.status_code == 200
        return [n for n in answer.json()["items"] if n["mandate_refs"] == [ref]]

    assert await overdue() == []
    later = utcnow() + timedelta(hours=get_settings().hold_notice_ack_hours, minutes=1)
    monkeypatch.setattr(hold_notices_module, "utcnow", lambda: later)
    [late] = await overdue()
    assert late["notice_id"] == second and late["overdue"] is True and late["acknowledged_at"] is None
    assert {"office_code", "mandate_refs", "case_ref", "sent_at", "ack_due_by"} <= late.keys()

    # Acknowledged after the deadline: accepted, no longer overdue, said late.
    answer = await client.post(
        "/v1/messages", json=body(code, str(second)) | {"comment": "sorry"}, headers=key
    )
    assert answer.status_code == 202, answer.text
    assert await overdue() == []
    detail = (await client.get(f"/v1/mandates/{ref}", headers=agency.auth)).json()
    assert "after its deadline: sorry" in detail["events"][-1]["reason"]


async def test_an_offices_notices_are_read_a_page_at_a_time_latest_first(session: AsyncSession) -> None:
    """Five holds on an office's cases, two sent at the same instant: every notice once, none
    skipped, the latest first (ties by id), overdue ones the most overdue first."""
    office = await an_office(session)
    for _ in range(5):
        case = await a_case(session, **RICH)
        data = MandateIn(case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=ACTS)
        await service.create_mandate(session, data, actor=STAFF)
        await service.raise_hold(session, case.ref, "disputed", actor=STAFF, comment="letter")
    notices = list(await session.scalars(select(HoldNotice).where(HoldNotice.office_id == office.id)))
    assert len(notices) == 5
    notices[1].sent_at = notices[2].sent_at
    await session.flush()

    async def walk(overdue: bool, now: datetime) -> list[list[HoldNotice]]:
        pages, after = [], None
        while True:
            views, after = await service.list_hold_notices(
                session, overdue=overdue, office_code=office.code, after=after, limit=2, now=now
            )
            pages.append([v.notice for v in views])
            if after is None:
                return pages
            assert after == pages[-1][-1].message_id

    pages = await walk(False, utcnow())
    assert [len(p) for p in pages] == [2, 2, 1]
    read = [n for p in pages for n in p]
    assert sorted(n.message_id for n in read) == sorted(n.message_id for n in notices)
    assert [(n.sent_at, n.id) for n in read] == sorted(((n.sent_at, n.id) for n in read), reverse=True)
    late = max(n.ack_due_by for n in notices) + timedelta(seconds=1)
    overdue = [n for p in await walk(True, late) for n in p]
    assert [(n.ack_due_by, n.id) for n in overdue] == sorted((n.ack_due_by, n.id) for n in notices)
    with pytest.raises(NotFound):
        await service.list_hold_notices(session, overdue=False, office_code="CJNOPE", limit=2)
