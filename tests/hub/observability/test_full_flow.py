"""A full flow through a real ``hub serve`` (role all, embedded, its stderr captured): a case imported
with a debtor's name, address and IBAN, a mandate, an act report, an invoice, refusals quoting the
debtor. Then:

- no log line and no series of the ``/metrics`` scrape names the debtor, their address or IBAN;
- every log line is one JSON object; one line per request with its route template, status,
  duration and correlation id (echoed in ``X-Request-ID``), the office or staff account; one line
  per refused message with its id, kind, office and error codes;
- the scrape parses with prometheus-client's parser and shows every series issue 15 lists.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from schemas import v1
from tests.hub.test_cli import HUB, _free_port

OFFICE = "CJ71001"
SIRET = "44205637000004"
CASE = "CASE-OBS-1"
DEBTOR = "Hortense Quibbleworth-Lefèvre"
LINE1 = "17 allée des Mésanges"
CITY = "Saint-Ythaire-sur-Grosne"
IBAN = "FR1420041010050500013M02606"  # not the demo agency's own account
# What must never be read in a log line or a metric: each part of the debtor's identity.
PERSONAL = ["Hortense", "Quibbleworth", "Mésanges", "Ythaire", IBAN, "FR14 2004 1010"]


@dataclass
class Flow:
    log_lines: list[str]
    scrape: str
    responses: dict[str, httpx.Response]


def _hub(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*HUB, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _report(message_id: str, mandate_ref: str, act_date: str, **changes: Any) -> dict[str, Any]:
    sample = json.loads((v1.SAMPLES_DIR / "valid" / "act_report_garnishment.json").read_text())
    sample["envelope"].update(message_id=message_id, sender=OFFICE)
    sample.pop("approval_id")
    sample.update(mandate_ref=mandate_ref, act_date=act_date, office_reference="A/71/1", **changes)
    return sample


def _invoice(issue_date: str) -> dict[str, Any]:
    line = {
        "office_act_reference": "A/71/1",
        "description": "Procès-verbal de saisie-attribution",
        "net_cents": 12876,
        "vat_rate_bp": 2000,
        "act_code": "BANK_GARNISHMENT",
    }
    return {
        "envelope": {
            "message_id": "FAC-71-1",
            "kind": "fee_invoice",
            "version": "1",
            "sender": OFFICE,
            "recipient": "AGENCY",
            "sent_at": f"{issue_date}T18:00:00+01:00",
        },
        "invoice_number": "F-71-1",
        "issue_date": issue_date,
        "seller": {"office_code": OFFICE, "siret": SIRET, "name": "SCP Chalon"},
        "currency": "EUR",
        "lines": [line],
        "total_net_cents": 12876,
        "total_vat_cents": 2575,
        "total_gross_cents": 15451,
    }


def _refused_xml(mandate_ref: str) -> bytes:
    """An act report whose date is the debtor's name: the schema's error quotes the value."""
    xml = (v1.SAMPLES_DIR / "valid" / "act_report.xml").read_text(encoding="utf-8")
    xml = xml.replace("CJ75001-2026-000123", "CR-71-XML").replace("CJ75001", OFFICE)
    xml = xml.replace("M-2026-000042", mandate_ref).replace("2026-02-27", DEBTOR)
    return xml.encode()


def _wait_for(predicate: Any, what: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    folder = tmp_path_factory.mktemp("flow")
    port = _free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'hub.db'}",
        "HUB_AMQP_URL": "",
        "HUB_ENV": "test",
        "HUB_SECRET_KEY": "o" * 40,
        "HUB_PORT": str(port),
        "HUB_LOG_LEVEL": "INFO",
    }
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "HUB_OTEL_ENDPOINT"):
        env.pop(name, None)
    _hub(env, "migrate")
    _hub(env, "offices", "add", OFFICE, "--name", "Étude Chalon", "--departements", "71", "--siret", SIRET)
    key = _hub(env, "keys", "create", OFFICE).strip().splitlines()[-1]
    token = _hub(env, "staff", "add", "ops@agence.example", "--role", "admin").strip().splitlines()[-1]
    cases = folder / "cases.csv"
    cases.write_text(
        "ref,creditor.name,debtor.kind,debtor.name,debtor.address.line1,debtor.address.postcode,"
        "debtor.address.city,debtor.address.departement,claim.principal_cents,claim_kind,title.kind,"
        "title.issued_on,title.served_on,evidence.bank_balance_cents\n"
        f"{CASE},Banque Exemple,person,{DEBTOR},{LINE1},71460,{CITY},71,500000,consumer,judgment,"
        "2025-01-02,2025-01-20,2000000\n",
        encoding="utf-8",
    )
    assert "1 case(s) imported" in _hub(env, "cases", "import", str(cases))

    stderr = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would stall the server
    server = subprocess.Popen([*HUB, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    url = f"http://127.0.0.1:{port}"
    staff = {"Authorization": f"Bearer {token}"}
    office = {"Authorization": f"Bearer {key}"}
    responses: dict[str, httpx.Response] = {}
    try:
        with httpx.Client(base_url=url, timeout=30) as client:

            def answering() -> bool:
                try:
                    return client.get("/healthz").status_code == 200
                except httpx.TransportError:
                    assert server.poll() is None, "hub serve exited"
                    return False

            _wait_for(answering, "hub serve did not answer within 30 s")
            mandate = client.post(
                "/v1/mandates",
                json={
                    "case_ref": CASE,
                    "office_code": OFFICE,
                    "kind": "per_act",
                    "acts": ["BANK_GARNISHMENT"],
                    "instructions": f"Compte connu du débiteur {DEBTOR}: IBAN {IBAN}",
                },
                headers={**staff, "X-Request-ID": "req-mandate-1"},
            )
            responses["mandate"] = mandate
            assert mandate.status_code == 201, mandate.text
            ref = mandate.json()["ref"]
            # The acts are dated the day the hub issued the mandate, by the hub's clock: a date
            # taken from the test's clock is the day before once a run crosses midnight.
            issued = mandate.json()["issued_at"][:10]
            comment = f"Saisie sur le compte {IBAN} de Mme {DEBTOR}, {LINE1}, {CITY}"
            responses["report"] = client.post(
                "/v1/act-reports", json=_report("CR-71-1", ref, issued, comment=comment), headers=office
            )
            responses["invoice"] = client.post("/v1/invoices", json=_invoice(issued), headers=office)
            responses["unknown_mandate"] = client.post(
                "/v1/act-reports",
                json=_report("CR-71-2", "M-UNKNOWN", issued, comment=comment),
                headers=office,
            )
            responses["invalid_json"] = client.post(
                "/v1/act-reports", json=_report("CR-71-3", ref, issued, seized_cents=DEBTOR), headers=office
            )
            responses["invalid_xml"] = client.post(
                "/v1/act-reports",
                content=_refused_xml(ref),
                headers={**office, "Content-Type": "application/xml"},
            )
            # A path naming the debtor: the log names the route template, never the path.
            responses["lookup"] = client.get(f"/v1/cases/{DEBTOR}", headers=staff)
            responses["case"] = client.get(f"/v1/cases/{CASE}", headers=staff)
            responses["inbox"] = client.get("/v1/inbox", headers=office)

            def relayed() -> bool:
                text = client.get("/metrics").text
                return 'hub_messages_out_total{kind="mandate",outcome="sent",transport="mailbox"}' in text

            _wait_for(relayed, "the relay sent nothing within 30 s")
            scrape = client.get("/metrics").text
    finally:
        server.terminate()
        server.wait(timeout=15)
    stderr.seek(0)
    lines = stderr.read().decode("utf-8", errors="replace").splitlines()
    yield Flow(lines, scrape, responses)


def _records(flow: Flow) -> list[dict[str, Any]]:
    return [json.loads(line) for line in flow.log_lines]


def test_the_flow_went_through(flow: Flow) -> None:
    answers = {name: response.status_code for name, response in flow.responses.items()}
    assert answers == {
        "mandate": 201,
        "report": 202,
        "invoice": 202,
        "unknown_mandate": 404,
        "invalid_json": 422,
        "invalid_xml": 422,
        "lookup": 404,
        "case": 200,
        "inbox": 200,
    }, {name: r.text[:300] for name, r in flow.responses.items() if r.status_code >= 300}
    # The hub does hold the debtor's data (it is the point): only logs and metrics must not show it.
    assert DEBTOR in flow.responses["case"].text


def test_no_log_line_and_no_metric_names_the_debtor(flow: Flow) -> None:
    assert len(flow.log_lines) > 10
    decoded = [json.dumps(record, ensure_ascii=False) for record in _records(flow)]
    for text, where in [*((line, "log") for line in flow.log_lines + decoded), (flow.scrape, "metrics")]:
        found = [part for part in PERSONAL if part in text]
        assert not found, f"{where} shows {found}: {text[:500]}"


def test_every_log_line_is_json_and_every_request_has_its_line(flow: Flow) -> None:
    records = _records(flow)  # each line parses as one JSON object
    requests = [r for r in records if r["event"] == "request"]
    for request in requests:
        assert {"method", "route", "status", "duration_ms", "correlation_id", "timestamp"} <= request.keys()
    [mandate] = [r for r in requests if r["route"] == "/v1/mandates" and r["method"] == "POST"]
    assert mandate["correlation_id"] == "req-mandate-1" and mandate["status"] == 201
    assert flow.responses["mandate"].headers["X-Request-ID"] == "req-mandate-1"
    assert "staff" in mandate and "office" not in mandate
    [lookup] = [r for r in requests if r["status"] == 404 and r["method"] == "GET"]
    assert lookup["route"] == "/v1/cases/{ref}"
    generated = flow.responses["report"].headers["X-Request-ID"]
    [report] = [r for r in requests if r.get("correlation_id") == generated]
    assert report["office"] == OFFICE and report["message_id"] == "CR-71-1"
    # Lines logged inside a request carry its correlation id and office too.
    inside = [r for r in records if r.get("correlation_id") == generated]
    assert all(r["office"] == OFFICE for r in inside)


def test_each_refused_message_has_one_line_with_its_codes(flow: Flow) -> None:
    refused = [r for r in _records(flow) if r["event"] == "message_refused"]
    by_id = {r["message_id"]: r for r in refused}
    assert len(refused) == len(by_id) == 3
    assert by_id["CR-71-2"]["kind"] == "act_report" and by_id["CR-71-2"]["error_codes"] == [
        "mandate.not_found"
    ]
    # Unreadable (schema errors): stored under an id of the hub's own, their kind unknown.
    unreadable = [r for r in refused if r["message_id"].startswith("unreadable-")]
    assert [r["kind"] for r in unreadable] == ["unknown", "unknown"]
    for record in refused:
        assert record["office"] == OFFICE and record["status"] in (404, 422)
        assert record["error_codes"] and all("." in code for code in record["error_codes"])


# Every series issue 15 lists (deliverable 2), by the family prometheus-client's parser names.
SERIES = {
    "hub_messages_in": "messages in by kind, transport and outcome",
    "hub_messages_out": "messages out by kind, transport and outcome",
    "hub_validation_errors": "validation errors by code",
    "hub_outbox_pending": "outbox depth",
    "hub_outbox_oldest_pending_age_seconds": "outbox age",
    "hub_relay_lag_seconds": "relay lag",
    "hub_webhook_deliveries": "webhook deliveries and give-ups",
    "hub_act_flags_raised": "flags raised by reason",
    "hub_ledger_postings": "ledger postings",
    "hub_http_request_duration_seconds": "HTTP latency histograms by route",
}


def test_the_scrape_parses_and_shows_every_series_of_the_issue(flow: Flow) -> None:
    families = {family.name: family for family in text_string_to_metric_families(flow.scrape)}
    missing = {name: what for name, what in SERIES.items() if name not in families}
    assert not missing
    # hub_dead_letters is exported by a hub with a broker (tests/deploy/test_prometheus.py).

    def value(name: str, **labels: str) -> float:
        return sum(
            s.value
            for s in families[name].samples
            if s.name in (name, f"{name}_total") and labels.items() <= s.labels.items()
        )

    assert value("hub_messages_in", kind="act_report", transport="http", outcome="accepted") == 1
    assert value("hub_messages_in", kind="act_report", transport="http", outcome="refused") == 1
    assert value("hub_messages_in", kind="other", transport="http", outcome="refused") == 2
    assert value("hub_messages_in", kind="fee_invoice", transport="http", outcome="accepted") == 1
    assert value("hub_messages_out", kind="mandate", transport="mailbox", outcome="sent") >= 1
    assert value("hub_validation_errors") >= 3
    assert value("hub_ledger_postings", kind="act_fees") >= 1
    assert {"cost_above_recovery", "budget_overrun", "hold_breached"} <= {
        s.labels["reason"] for s in families["hub_act_flags_raised"].samples
    }
    assert {"given_up", "delivered"} <= {
        s.labels["outcome"] for s in families["hub_webhook_deliveries"].samples
    }
    lag = [s for s in families["hub_relay_lag_seconds"].samples if s.name == "hub_relay_lag_seconds_count"]
    assert sum(s.value for s in lag) >= 1
    routes = {
        s.labels["route"]
        for s in families["hub_http_request_duration_seconds"].samples
        if s.name.endswith("_count")
    }
    assert {"/v1/mandates", "/v1/act-reports", "/v1/invoices", "/v1/cases/{ref}"} <= routes
    assert all("{" in route or route.count("/") <= 3 for route in routes)  # templates, not paths
