"""Property-based checks of the office and messaging routes from /openapi.json (schemathesis): for
every operation, EXAMPLES generated requests (counted) never get a 5xx, and every answer has a
documented media type and matches the documented schema. Runs against a real `hub serve` (SQLite,
no broker) whose office has a mandate, sent messages, a batch, an invoice, an inventory, a hold
notice and an inbox, so that explicit requests about them reach the 200 and 202 paths, and
generated ones the meaning checks behind the 404s."""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from adapters.xml import codec
from hub.database import create_engine, migrate, session_factory, unit_of_work
from hub.messaging.relay import Relay
from hub.offices import service as offices
from hub.staff import service as staff
from hub.staff.models import Role
from schemas import v1
from schemas.v1 import SAMPLES_DIR
from tests.hub.cases.factories import case_body
from tests.hub.mandates.factories import RICH

# The routes an office's software calls, and the message store (issue 4); the staff routes of the
# mandates and cases modules belong to their own tests.
OFFICE_PATHS = (
    r"^/v1/(me$|mandates(/\{ref\})?$|act-reports|mandate-acks|hold-notice-acks|cost-requests|batches"
    r"|messages|inbox|receipts|invoices|inventory)"
)
# Operations without any input but the credential (no parameter, no body).
WITHOUT_INPUTS = {
    "GET /v1/me",
    "GET /v1/receipts/public-key",
    "GET /v1/receipts/public-keys",
    "GET /v1/inventory/last",
}
# Staff routes under the office paths: an office key is refused before anything is read or written.
STAFF_ONLY = {
    "POST /v1/messages/{message_pk}/resend",
    "POST /v1/messages/{message_pk}/replay",
    "POST /v1/invoices/decisions",
    "POST /v1/invoices/{invoice_id}/paid",
}
EXAMPLES = int(os.environ.get("HUB_SCHEMATHESIS_EXAMPLES", "100"))  # CI size; full run: 500 (README)
LANES = 2  # see the test
OFFICE = "CJ75001"
SIRET = "83214765600025"  # valid Luhn
JSON = "application/json"
XML = "application/xml"
IDEMPOTENCY_KEY = "Idempotency-Key"
SEED_KEY = "seed-act-report"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES_DIR / "valid" / name).read_text())
    return data


def act_report(mandate_ref: str, n: int) -> dict[str, Any]:
    """The sample act report, sent today by the office under ``mandate_ref``, numbered ``n``."""
    data = _sample("act_report.json")
    data["envelope"].update(message_id=f"ST-{OFFICE}-{n}", sent_at=datetime.now(UTC).isoformat())
    data.update(mandate_ref=mandate_ref, act_date=date.today().isoformat(), office_reference=f"ST/{n}")
    return data


def cost_request(mandate_ref: str) -> dict[str, Any]:
    data = _sample("cost_request.json")
    data["envelope"].update(message_id=f"ST-CRQ-{mandate_ref}", sent_at=datetime.now(UTC).isoformat())
    data["mandate_ref"] = mandate_ref
    return data


@dataclass
class Seeded:
    """What the office has in the hub before the first generated request."""

    url: str
    keys: list[str]  # one per lane (see the test): the rate limit is per key
    mandate_ref: str
    ack: dict[str, Any]
    report: dict[str, Any]  # applied: sending it again is a duplicate
    message_pk: str  # the hub's id of that report
    batch_file: bytes
    batch_id: str
    invoice: dict[str, Any]
    invoice_id: str
    inbox_ids: list[int]
    hold_ack: dict[str, Any]  # not sent: the notice is acknowledged by an explicit case


def _prepare(database_url: str, keys: int) -> tuple[list[str], str]:
    """The database of the served hub: migrated, the office with ``keys`` API keys, an admin."""

    async def run() -> tuple[list[str], str]:
        engine = create_engine(database_url)
        try:
            await migrate(engine)
            async with unit_of_work(session_factory(engine)) as session:
                await offices.add_office(
                    session, code=OFFICE, name="Étude de Paris", departements=["75"], siret=SIRET
                )
                secrets = [(await offices.create_key(session, OFFICE)).secret for _ in range(keys)]
                _, token = await staff.add_staff(session, "ops@agence.example", Role.ADMIN)
        finally:
            await engine.dispose()
        return secrets, token

    return asyncio.run(run())


def _relay_once(database_url: str) -> None:
    """Delivers the outbox to the office's mailbox, as the relay of a `hub serve --role all` would."""

    async def run() -> None:
        engine = create_engine(database_url)
        try:
            await Relay(session_factory(engine)).run_once()
        finally:
            await engine.dispose()

    asyncio.run(run())


def _seed(url: str, keys: list[str], staff_token: str, database_url: str) -> Seeded:
    office, staff = bearer(keys[0]), bearer(staff_token)
    with httpx.Client(base_url=url, timeout=30) as client:

        def post(path: str, who: dict[str, str], expected: int, **kw: Any) -> dict[str, Any]:
            answer = client.post(path, headers=who, **kw)
            assert answer.status_code == expected, answer.text
            body: dict[str, Any] = answer.json()
            return body

        case = case_body(**RICH)
        post("/v1/cases", staff, 201, json=case)
        mandate = post(
            "/v1/mandates",
            staff,
            201,
            # Whole file: reports do not complete it (a per-act one completes once its acts are reported).
            json={
                "case_ref": case["ref"],
                "office_code": OFFICE,
                "kind": "whole_file",
                "fee_budget_cents": 100_000,
            },
        )
        ref = mandate["ref"]
        if mandate["status"] == "held":  # a large budget is held for review: approved
            mandate = post(f"/v1/mandates/{ref}/approve", staff, 200, json={"comment": "seed"})
        assert mandate["status"] == "issued", mandate
        ack = _sample("mandate_ack_accepted.json")
        ack["envelope"].update(message_id=f"ST-ACK-{ref}", correlation_id=None)
        ack["mandate_ref"] = ref
        post("/v1/mandate-acks", office, 202, json=ack)
        report = act_report(ref, 1)
        # Spelt as schemathesis sends a JSON body, so that an explicit case can replay it.
        replayable = {**office, IDEMPOTENCY_KEY: SEED_KEY, "Content-Type": JSON}
        post("/v1/act-reports", replayable, 202, content=json.dumps(report).encode())
        found = client.get(
            "/v1/messages", params={"message_id": report["envelope"]["message_id"]}, headers=office
        )
        (stored,) = [m for m in found.json()["items"] if m["direction"] == "inbound"]
        batch = v1.ActReport.model_validate_json(json.dumps(act_report(ref, 2)))
        batch_file = codec.encode_batch([batch])
        batch_id = post("/v1/act-reports/batch", {**office, "Content-Type": XML}, 200, content=batch_file)
        invoice = _sample("fee_invoice.json")
        invoice["envelope"].update(message_id=f"ST-INV-{ref}", sent_at=datetime.now(UTC).isoformat())
        invoice["lines"] = invoice["lines"][:1]
        invoice["seller"]["siret"] = SIRET
        invoice["lines"][0]["office_act_reference"] = report["office_reference"]
        invoice.update(issue_date=date.today().isoformat(), due_date=None, total_net_cents=5158)
        invoice.update(total_vat_cents=1032, total_gross_cents=6190)
        post("/v1/invoices", office, 202, json={k: v for k, v in invoice.items() if v is not None})
        (listed,) = client.get("/v1/invoices", headers=staff).json()["items"]
        post("/v1/inventory", office, 200, json={"mandates": [{"ref": ref}]})
        # A hold on another case of the office: a hold notice for the office to acknowledge.
        held = case_body(**RICH)
        post("/v1/cases", staff, 201, json=held)
        other = {"case_ref": held["ref"], "office_code": OFFICE, "kind": "per_act", "acts": ["SERVE_TITLE"]}
        held_ref = post("/v1/mandates", staff, 201, json=other)["ref"]
        post(
            f"/v1/cases/{held['ref']}/holds",
            staff,
            201,
            json={"situation": "disputed", "comment": "contested"},
        )
        (notice,) = client.get("/v1/hold-notices", headers=staff).json()["items"]
        hold_ack = _sample("hold_notice_ack.json")
        hold_ack["envelope"].update(message_id=f"ST-HNA-{held_ref}", correlation_id=notice["notice_id"])
        hold_ack.update(notice_id=notice["notice_id"], mandate_ref=held_ref)
        _relay_once(database_url)
        inbox = client.get("/v1/inbox", headers=office).json()["items"]
        assert inbox, "the relay delivered the mandate to the office's mailbox"
    return Seeded(
        url,
        keys,
        ref,
        ack,
        report,
        stored["id"],
        batch_file,
        batch_id["batch_id"],
        invoice,
        listed["id"],
        [item["id"] for item in inbox],
        hold_ack,
    )


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    folder = tmp_path_factory.mktemp("schemathesis")
    database_url = f"sqlite+aiosqlite:///{folder / 'hub.db'}"
    env = dict(os.environ)
    env.update(HUB_DATABASE_URL=database_url, HUB_AMQP_URL="", HUB_ENV="development", HUB_LOG_LEVEL="WARNING")
    keys, staff_token = _prepare(database_url, LANES)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve", "--port", str(port), "--role", "api"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "server.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client() as client:
            for _ in range(300):
                try:
                    if client.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
        yield _seed(url, keys, staff_token, database_url)
    finally:
        server.terminate()
        server.wait(timeout=10)
        print(Path(folder / "server.log").read_text()[-3000:])


def explicit_cases(operation: Any, seeded: Seeded, key: str) -> list[schemathesis.Case[Any]]:
    """Requests about the seeded objects, run before the generated ones: the 200 and 202 paths,
    duplicates (409) of what was applied, and an idempotent replay."""
    ref = seeded.mandate_ref

    def case(headers: dict[str, str] | None = None, **parts: Any) -> schemathesis.Case[Any]:
        made: schemathesis.Case[Any] = operation.Case(headers={**bearer(key), **(headers or {})}, **parts)
        return made

    as_xml = codec.encode(v1.ActReport.model_validate_json(json.dumps(act_report(ref, 4))))
    return {
        "GET /v1/mandates": [case(query={"status": "acknowledged"})],
        "GET /v1/mandates/{ref}": [case(path_parameters={"ref": ref})],
        "POST /v1/mandate-acks": [case(body=seeded.ack, media_type=JSON)],
        "POST /v1/act-reports": [
            case(body=act_report(ref, 3), media_type=JSON),
            case(body=as_xml, media_type=XML),
            case(body=seeded.report, media_type=JSON),  # a duplicate: 409 with its first receipt
            # The same key and body: the first answer again; the same key, another body: 422.
            case(body=seeded.report, media_type=JSON, headers={IDEMPOTENCY_KEY: SEED_KEY}),
            case(body=act_report(ref, 6), media_type=JSON, headers={IDEMPOTENCY_KEY: SEED_KEY}),
        ],
        "POST /v1/messages": [case(body=act_report(ref, 5), media_type=JSON)],
        "POST /v1/cost-requests": [case(body=cost_request(ref), media_type=JSON)],
        "POST /v1/hold-notice-acks": [
            case(body=seeded.hold_ack, media_type=JSON),
            # Acknowledged once: another acknowledgement of the notice is 409.
            case(body=again(seeded.hold_ack), media_type=JSON),
        ],
        "POST /v1/act-reports/batch": [case(body=seeded.batch_file, media_type=XML)],
        "GET /v1/batches/{batch_id}": [case(path_parameters={"batch_id": seeded.batch_id})],
        "GET /v1/messages": [case(query={"message_id": seeded.report["envelope"]["message_id"]})],
        "GET /v1/messages/{ref}": [
            case(path_parameters={"ref": seeded.message_pk}),
            case(path_parameters={"ref": seeded.report["envelope"]["message_id"]}),
        ],
        "POST /v1/invoices": [case(body=seeded.invoice, media_type=JSON)],
        "GET /v1/invoices/{invoice_id}": [case(path_parameters={"invoice_id": seeded.invoice_id})],
        "GET /v1/inbox": [case(query={"after": 0, "limit": 1})],
        "POST /v1/inbox/{item_id}/ack": [case(path_parameters={"item_id": i}) for i in seeded.inbox_ids],
        "POST /v1/inventory": [case(body={"mandates": [{"ref": ref, "status": "closed"}]}, media_type=JSON)],
    }.get(operation.label, [])


def again(message: dict[str, Any]) -> dict[str, Any]:
    """The same message under another message id."""
    envelope = message["envelope"]
    return {**message, "envelope": {**envelope, "message_id": envelope["message_id"] + "-2"}}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass(frozen=True)
class Steer:
    """Drawn beside each generated request, to take it further than the schema alone would."""

    from_office: bool  # a v1 message: sent by the key's office to the agency
    about_mandate: bool  # ... and about its seeded mandate (or hold notice)
    idempotency_key: str | None  # a fresh Idempotency-Key, or none
    generated_credential: bool  # keep the Authorization schemathesis made up (401), not the key


STEERS = st.builds(
    Steer,
    st.booleans(),
    st.booleans(),
    st.none() | st.uuids().map(str),
    st.sampled_from([False] * 9 + [True]),  # hypothesis favours the first: fewer than one in ten
)


def steered(case: schemathesis.Case[Any], steer: Steer, seeded: Seeded, key: str) -> schemathesis.Case[Any]:
    """A generated request, made to go further: a v1 message then gets past the envelope checks to
    the meaning checks (mandate, act, dates); a generated Idempotency-Key (hypothesis repeats the same
    few across bodies: all but the first refused as reused) is dropped or made unique; the request
    carries the office's key, or one time in ten the made-up credential of a secured route."""
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("envelope"), dict):
        body = copy.deepcopy(body)
        if steer.from_office:
            body["envelope"].update(sender=OFFICE, recipient="AGENCY")
        if steer.about_mandate and "mandate_ref" in body:
            body["mandate_ref"] = seeded.mandate_ref
        # Only there: its explicit acknowledgement comes first, generated ones are then 409.
        if steer.about_mandate and case.operation.label == "POST /v1/hold-notice-acks":
            body.update(notice_id=seeded.hold_ack["notice_id"], mandate_ref=seeded.hold_ack["mandate_ref"])
        case.body = body
    headers = dict(case.headers or {})
    if IDEMPOTENCY_KEY in headers:
        headers.pop(IDEMPOTENCY_KEY)
        if steer.idempotency_key is not None:
            headers[IDEMPOTENCY_KEY] = steer.idempotency_key
    if not (steer.generated_credential and "Authorization" in headers):
        headers.update(bearer(key))
    case.headers = headers
    return case


def has_inputs(operation: Any) -> bool:
    """Whether the operation takes anything but the credential: a parameter or a body."""
    return bool(operation.definition.raw.get("parameters") or operation.definition.raw.get("requestBody"))


def run_operation(
    operation: Any, seeded: Seeded, key: str, session: requests.Session
) -> tuple[int, Counter[int]]:
    """Runs the explicit cases of ``operation``, then EXAMPLES generated ones; returns how many were
    generated and the statuses answered."""
    statuses: Counter[int] = Counter()
    strategy = st.tuples(operation.as_strategy(), STEERS).map(lambda drawn: steered(*drawn, seeded, key))

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=strategy)
    def check(case: schemathesis.Case[Any]) -> None:
        response = case.call_and_validate(
            base_url=seeded.url,
            session=session,
            checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
        )
        statuses[response.status_code] += 1

    explicit = explicit_cases(operation, seeded, key)
    for case in explicit:
        check = example(case=case)(check)
    check()
    return statuses.total() - len(explicit), statuses


def in_parallel(tasks: list[Callable[[], dict[str, Any]]]) -> dict[str, Any]:
    """Runs each task in a forked process; their results merged, or the test failed with every
    task's error (hypothesis's and schemathesis's report of the failing request)."""
    context = multiprocessing.get_context("fork")
    results: multiprocessing.SimpleQueue[tuple[dict[str, Any], str | None]] = context.SimpleQueue()

    def main(task: Callable[[], dict[str, Any]]) -> None:
        try:
            results.put((task(), None))
        except BaseException:
            results.put(({}, traceback.format_exc()))

    processes = [context.Process(target=main, args=(task,)) for task in tasks]
    for process in processes:
        process.start()
    merged: dict[str, Any] = {}
    errors = []
    for _ in processes:
        figures, error = results.get()
        merged.update(figures)
        if error is not None:
            errors.append(error)
    for process in processes:
        process.join()
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)
    return merged


@pytest.mark.timeout(1200)  # 100 requests x 25 operations in CI: 1-2 min here, more on a loaded machine
def test_office_routes_never_fail_and_match_their_schema(live_hub: Seeded) -> None:
    seeded = live_hub
    schema = (
        schemathesis.openapi.from_url(f"{seeded.url}/openapi.json")
        .include(path_regex=OFFICE_PATHS)
        .exclude(method="POST", path="/v1/mandates")  # staff only, in the mandates tests
    )
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    labels = {operation.label for operation in operations}
    assert {"GET /v1/me", "GET /v1/mandates", "GET /v1/mandates/{ref}", "POST /v1/act-reports"} <= labels
    # Only the credential varies for these (the test sets it): one request to make, whatever
    # max_examples says, made again with the made-up credentials of STEERS.
    assert {op.label for op in operations if not has_inputs(op)} == WITHOUT_INPUTS
    # Two lanes, each in a process of its own (forked: hypothesis in two threads trips CPython
    # 3.11's compiler) with its own key: while one generates its next request, the server answers
    # the other's. One lane never writes (GETs, and staff POSTs an office key cannot pass): two
    # writers at once are not safe on SQLite (a transaction that reads, then writes, gets "database
    # is locked" beside another writer).
    reading = [op for op in operations if op.method.upper() == "GET" or op.label in STAFF_ONLY]
    lanes = [[op for op in operations if op not in reading], reading]

    def run(lane: list[Any], key: str) -> dict[str, tuple[float, int, Counter[int]]]:
        figures = {}
        with requests.Session() as session:
            for operation in lane:
                started = time.perf_counter()
                generated, statuses = run_operation(operation, seeded, key, session)
                figures[operation.label] = (round(time.perf_counter() - started, 1), generated, statuses)
        return figures

    report = in_parallel(
        [functools.partial(run, lane, key) for lane, key in zip(lanes, seeded.keys, strict=True)]
    )
    print(f"schemathesis, {EXAMPLES} examples per operation: seconds, generated, statuses:")
    for label, (seconds, generated, statuses) in report.items():
        print(label, seconds, generated, dict(statuses))
    for label, (_, generated, _) in report.items():
        # Every operation with an input gets its EXAMPLES generated requests, not just up to them.
        assert generated >= (1 if label in WITHOUT_INPUTS else EXAMPLES), (label, generated)
