"""The hold routes as staff and offices call them: raised with one notice per office, listed with
the acknowledgements, lifted once (hold_lift to each office), the breaches listed page by page; and
every refusal with its code and nothing stored."""

from __future__ import annotations

import asyncio
import secrets

import httpx
from fastapi import FastAPI

from hub.database import unit_of_work
from hub.staff import service as staff
from hub.staff.models import Role
from tests.hub.acts.factories import bearer
from tests.hub.mandates.factories import RICH
from tests.hub.mandates.test_api import Agency, agency, office_with_key  # noqa: F401 - fixture
from tests.hub.mandates.test_handlers import office_message


async def test_staff_raise_list_and_lift_a_hold_and_offices_acknowledge_theirs(
    agency: Agency,  # noqa: F811
    app: FastAPI,
    client: httpx.AsyncClient,
) -> None:
    code, key = await office_with_key(app)
    other, other_key = await office_with_key(app)
    case_ref = await agency.case(**RICH)
    refs = []
    for office, acts in (
        (code, ["BANK_GARNISHMENT"]),
        (code, ["SERVE_TITLE"]),
        (other, ["BANK_GARNISHMENT"]),
    ):
        made = await agency.mandate(case_ref=case_ref, office_code=office, kind="per_act", acts=acts)
        assert made.status_code == 201, made.text
        refs.append(made.json()["ref"])
    url = f"/v1/cases/{case_ref}/holds"

    raised = await client.post(
        url, json={"situation": "vulnerable", "comment": "illness"}, headers=agency.auth
    )
    assert raised.status_code == 201, raised.text
    hold = raised.json()
    assert hold["active"] is True and hold["situation"] == "vulnerable" and hold["comment"] == "illness"
    notices = {n["office_code"]: n for n in hold["notices"]}
    assert sorted(notices) == sorted([code, other])  # one each, whatever the mandates and acts
    assert (
        sorted(notices[code]["mandate_refs"]) == sorted(refs[:2])
        and notices[other]["mandate_refs"] == refs[2:]
    )

    def ack(sender: str, notice_id: str, mandate_ref: str) -> dict[str, object]:
        return office_message("hold_notice_ack", sender, notice_id=notice_id, mandate_ref=mandate_ref)

    mine = notices[code]["message_id"]
    foreign = await client.post("/v1/hold-notice-acks", json=ack(other, mine, refs[2]), headers=other_key)
    assert foreign.status_code == 404 and foreign.json()["errors"][0]["code"] == "hold_notice.not_found"
    done = await client.post("/v1/hold-notice-acks", json=ack(code, mine, refs[1]), headers=key)
    assert done.status_code == 202, done.text  # any mandate the notice listed
    twice = await client.post("/v1/messages", json=ack(code, mine, refs[0]), headers=key)
    assert (
        twice.status_code == 409 and twice.json()["errors"][0]["code"] == "hold_notice.already_acknowledged"
    )

    [listed] = (await client.get(url, headers=agency.auth)).json()["items"]
    acked = {n["office_code"]: n["acknowledged_at"] for n in listed["notices"]}
    assert acked[code] is not None and acked[other] is None

    lift_url = f"/v1/holds/{hold['hold_id']}/lift"
    lifted = await client.post(lift_url, json={"comment": "recovered"}, headers=agency.auth)
    assert lifted.status_code == 200, lifted.text
    body = lifted.json()
    assert body["active"] is False and body["lift_comment"] == "recovered" and body["lifted_by"]
    assert all(n["lift_message_id"] for n in body["notices"])
    again = await client.post(lift_url, json={"comment": "again"}, headers=agency.auth)
    assert again.status_code == 409 and again.json()["code"] == "hold.already_lifted"
    [after] = (await client.get(url, headers=agency.auth)).json()["items"]
    assert after["active"] is False and after["lifted_at"] == body["lifted_at"]

    breaches = await client.get("/v1/holds/breaches", params={"limit": 500}, headers=agency.auth)
    assert breaches.status_code == 200
    assert all(b["case_ref"] != case_ref for b in breaches.json()["items"])


async def test_refusals_say_why_and_store_nothing(
    agency: Agency,  # noqa: F811
    app: FastAPI,
    client: httpx.AsyncClient,
) -> None:
    _, key = await office_with_key(app)
    case_ref = await agency.case(**RICH)
    url = f"/v1/cases/{case_ref}/holds"
    async with unit_of_work(app.state.sessions) as session:
        _, token = await staff.add_staff(session, f"{secrets.token_hex(4)}@agence.example", Role.FINANCE)
    finance = bearer(token)

    unknown = await client.post(
        "/v1/cases/NO-SUCH-CASE/holds", json={"situation": "disputed", "comment": "x"}, headers=agency.auth
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "case.not_found"
    assert (await client.get("/v1/cases/NO-SUCH-CASE/holds", headers=agency.auth)).status_code == 404

    bad = await client.post(url, json={"situation": "sleeping", "comment": "  "}, headers=agency.auth)
    assert bad.status_code == 422
    assert sorted(e["path"] for e in bad.json()["errors"]) == ["comment", "situation"], bad.text

    body = {"situation": "disputed", "comment": "letter"}
    as_office = await client.post(url, json=body, headers=key)
    assert as_office.status_code == 401 and as_office.json()["code"] == "auth.not_staff_token"
    as_finance = await client.post(url, json=body, headers=finance)
    assert as_finance.status_code == 403 and as_finance.json()["code"] == "auth.role_forbidden"
    assert (await client.get(url, headers=key)).status_code == 401
    assert (await client.get("/v1/holds/breaches", headers=key)).status_code == 401
    assert (
        await client.get("/v1/holds/breaches", params={"after": "nope"}, headers=agency.auth)
    ).status_code == 422

    assert (await client.get(url, headers=agency.auth)).json() == {"items": [], "next_after": None}
    case = (await client.get(f"/v1/cases/{case_ref}", headers=agency.auth)).json()
    assert case["evidence"]["disputed"] is not True

    raised = (await client.post(url, json=body, headers=agency.auth)).json()
    lift_url = f"/v1/holds/{raised['hold_id']}/lift"
    no_comment = await client.post(lift_url, json={}, headers=agency.auth)
    assert no_comment.status_code == 422 and no_comment.json()["errors"][0]["path"] == "comment"
    assert (await client.post(lift_url, json={"comment": "ok"}, headers=key)).status_code == 401
    nowhere = await client.post("/v1/holds/HLD-NOPE/lift", json={"comment": "ok"}, headers=agency.auth)
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "hold.not_found"
    [still] = (await client.get(url, headers=agency.auth)).json()["items"]
    assert still["active"] is True and still["lifted_at"] is None


async def test_a_hold_raised_again_with_its_id_is_refused_and_sends_nothing_twice(
    agency: Agency,  # noqa: F811
    app: FastAPI,
    client: httpx.AsyncClient,
) -> None:
    """A client that names its hold (``hold_id``) may retry, even several copies at once: one hold is
    raised and one notice goes to each office; every other copy is 409 ``hold.exists``."""
    code, _ = await office_with_key(app)
    case_ref = await agency.case(**RICH)
    made = await agency.mandate(case_ref=case_ref, office_code=code, kind="per_act", acts=["SERVE_TITLE"])
    assert made.status_code == 201, made.text
    url = f"/v1/cases/{case_ref}/holds"
    hold_id = f"HLD-RETRY-{secrets.token_hex(4)}"
    body = {"situation": "disputed", "comment": "letter", "hold_id": hold_id}

    answers = await asyncio.gather(*(client.post(url, json=body, headers=agency.auth) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    [raised] = [a.json() for a in answers if a.status_code == 201]
    assert raised["hold_id"] == hold_id and [n["office_code"] for n in raised["notices"]] == [code]
    for refused in (a.json() for a in answers if a.status_code == 409):
        assert refused["code"] == "hold.exists" and refused["errors"][0]["path"] == "/hold_id"
    [listed] = (await client.get(url, headers=agency.auth)).json()["items"]
    assert listed["hold_id"] == hold_id and len(listed["notices"]) == 1

    lifted = await client.post(f"/v1/holds/{hold_id}/lift", json={"comment": "paid"}, headers=agency.auth)
    assert lifted.status_code == 200, lifted.text
    again = await client.post(url, json=body, headers=agency.auth)  # lifted: still the same hold
    assert again.status_code == 409 and "lifted" in again.json()["detail"]
    bad = await client.post(url, json={**body, "hold_id": "no spaces allowed"}, headers=agency.auth)
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "hold_id"
