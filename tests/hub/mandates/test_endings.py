"""How a mandate ends early: staff cancel it, or it lapses with no act reported. The office that held
it gets exactly one ``mandate_cancel``; its later act reports are refused; the sweep is idempotent."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.clock import utcnow
from hub.kit.errors import Conflict
from hub.mandates import service
from hub.mandates.models import Mandate, MandateKind, MandateStatus
from hub.mandates.service import MandateIn
from hub.messaging import sealing
from hub.messaging.inbound import decode
from hub.messaging.models import StoredMessage
from hub.settings import get_settings
from schemas import v1
from tests.hub.acts.factories import report_json
from tests.hub.mandates.factories import POOR, RICH, a_case, an_office
from tests.hub.mandates.test_api import Agency, agency, office_with_key  # noqa: F401 - fixture

STAFF = "handler@agence.example"


async def issued(session: AsyncSession, acts: list[str] | None = None, **case: object) -> Mandate:
    office = await an_office(session)
    found = await a_case(session, **(case or RICH))
    data = MandateIn(
        case_ref=found.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=acts or ["SERVE_TITLE"]
    )
    return await service.create_mandate(session, data, actor=STAFF)


async def cancels_sent(session: AsyncSession, ref: str) -> list[v1.MandateCancel]:
    rows = await session.scalars(
        select(StoredMessage).where(
            StoredMessage.kind == "mandate_cancel", StoredMessage.correlation_id == ref
        )
    )
    found = [decode(await sealing.open_body(session, row), row.content_type) for row in rows]
    assert all(isinstance(m, v1.MandateCancel) for m in found)
    return found  # type: ignore[return-value]


async def test_an_issued_mandate_is_valid_for_the_configured_time(session: AsyncSession) -> None:
    mandate = await issued(session)
    assert mandate.issued_at is not None and mandate.expires_at is not None
    assert mandate.expires_at - mandate.issued_at == timedelta(days=get_settings().mandate_validity_days)
    rows = await session.scalars(select(StoredMessage).where(StoredMessage.correlation_id == mandate.ref))
    [sent] = [
        decode(await sealing.open_body(session, r), r.content_type) for r in rows if r.kind == "mandate"
    ]
    assert isinstance(sent, v1.Mandate) and sent.expires_at == mandate.expires_at


async def test_cancelling_an_issued_mandate_tells_its_office_once(session: AsyncSession) -> None:
    mandate = await issued(session)
    await service.cancel(session, mandate.ref, actor=STAFF, reason="debtor paid the creditor")
    assert mandate.status == MandateStatus.CANCELLED
    [notice] = await cancels_sent(session, mandate.ref)
    assert notice.cause is v1.CancelCause.CANCELLED and notice.reason == "debtor paid the creditor"
    assert notice.envelope.recipient != v1.AGENCY and notice.mandate_ref == mandate.ref

    with pytest.raises(Conflict) as again:
        await service.cancel(session, mandate.ref, actor=STAFF, reason="twice")
    assert again.value.code == "mandate.transition_forbidden"
    assert len(await cancels_sent(session, mandate.ref)) == 1


async def test_cancelling_a_held_mandate_sends_nothing(session: AsyncSession) -> None:
    held = await issued(session, ["PAYMENT_ORDER"], **POOR)
    assert held.status == MandateStatus.HELD
    await service.cancel(session, held.ref, actor=STAFF, reason="not worth it")
    assert held.status == MandateStatus.CANCELLED and await cancels_sent(session, held.ref) == []


async def test_the_sweep_expires_lapsed_mandates_once_on_either_side_of_the_deadline(
    session: AsyncSession,
) -> None:
    waiting = await issued(session)
    accepted = await issued(session)
    await service.transition(session, accepted, MandateStatus.ACKNOWLEDGED, actor="CJ", reason="ok")
    working = await issued(session)
    await service.transition(session, working, MandateStatus.IN_PROGRESS, actor="CJ", reason="act")
    assert waiting.expires_at is not None and accepted.expires_at is not None
    deadline = max(waiting.expires_at, accepted.expires_at)

    assert await service.expire_lapsed(session, now=waiting.expires_at - timedelta(seconds=1)) == []
    assert waiting.status == MandateStatus.ISSUED

    after = deadline + timedelta(seconds=1)
    assert sorted(await service.expire_lapsed(session, now=after)) == sorted([waiting.ref, accepted.ref])
    assert await service.expire_lapsed(session, now=after) == []
    assert await service.expire_lapsed(session, now=after + timedelta(days=400)) == []
    assert (waiting.status, accepted.status) == (MandateStatus.EXPIRED, MandateStatus.EXPIRED)
    assert working.status == MandateStatus.IN_PROGRESS  # acts under way: it runs on

    for mandate in (waiting, accepted):
        [notice] = await cancels_sent(session, mandate.ref)
        assert notice.cause is v1.CancelCause.EXPIRED
        last = (await service.events(session, mandate))[-1]
        assert (last.to_status, last.actor) == ("expired", "expiry-sweep")
        assert last.reason is not None and "no act reported by" in last.reason
    assert await cancels_sent(session, working.ref) == []


async def test_the_sweep_expires_in_batches(session: AsyncSession) -> None:
    mandates = [await issued(session) for _ in range(3)]
    later = utcnow() + timedelta(days=get_settings().mandate_validity_days + 1)
    first = await service.expire_lapsed(session, now=later, limit=2)
    rest = await service.expire_lapsed(session, now=later, limit=2)
    assert len(first) == 2 and len(rest) == 1
    assert sorted(first + rest) == sorted(m.ref for m in mandates)


async def test_an_act_report_on_a_cancelled_mandate_is_refused(
    agency: Agency,  # noqa: F811
    app: FastAPI,
    client: httpx.AsyncClient,
) -> None:
    code, key = await office_with_key(app)
    made = await agency.mandate(
        case_ref=await agency.case(**RICH),
        office_code=code,
        kind="per_act",
        acts=["SERVE_TITLE", "BANK_GARNISHMENT"],  # one act reported leaves it in progress
    )
    assert made.json()["status"] == "issued"
    ref = made.json()["ref"]
    today = utcnow().date().isoformat()
    headers = {**key, "Content-Type": "application/json"}
    before = await client.post(
        "/v1/act-reports", content=report_json(code, ref, 1, act_date=today), headers=headers
    )
    assert before.status_code == 202, before.text

    cancelled = await client.post(f"/v1/mandates/{ref}/cancel", json={"reason": "paid"}, headers=agency.auth)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    answer = await client.post(
        "/v1/act-reports", content=report_json(code, ref, 2, act_date=today), headers=headers
    )
    assert answer.status_code == 422
    assert [e["code"] for e in answer.json()["errors"]] == ["mandate.not_reportable"]
    assert "cancelled" in answer.json()["errors"][0]["message"]

    async with app.state.sessions() as session:
        assert len(await cancels_sent(session, ref)) == 1
        [row] = await session.scalars(
            select(StoredMessage).where(
                StoredMessage.kind == "mandate_cancel", StoredMessage.correlation_id == ref
            )
        )
        assert row.recipient == code and row.direction == "outbound"
