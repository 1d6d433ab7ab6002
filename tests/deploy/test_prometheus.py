"""deploy/prometheus: the alert rules name only series the hub exports (a real scrape of /metrics
after some traffic, parsed with prometheus-client's parser), Prometheus scrapes every role, and the
probes of every deployment file ask for routes the app has."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
import yaml
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from hub.app import create_app
from hub.database import unit_of_work
from hub.kit.crypto import SecretBox
from hub.messaging import service
from hub.messaging.relay import Relay
from hub.messaging.service import Envelope
from hub.messaging.webhooks import WebhookPusher
from hub.offices import service as offices
from hub.settings import Settings
from tests.conftest import sqlite_database
from tests.deploy.manifests import DEPLOY, KUSTOMIZATIONS, compose, kustomize

RULES = DEPLOY / "prometheus" / "alerts.yml"
PROMETHEUS_OWN = {"up"}  # synthesised by Prometheus for each target, not by the hub
PROMQL_WORDS = {"bool", "and", "or", "unless", "offset"}


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def metric_names(expression: str) -> set[str]:
    """The series an expression reads: identifiers that are not functions, keywords, label names
    (inside ``{}``), durations (inside ``[]``) or strings."""
    bare = re.sub(r'"[^"]*"', "", expression)
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", bare)
    bare = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", bare)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare):
        following = bare[match.end() :].lstrip()
        if not following.startswith("(") and match.group() not in PROMQL_WORDS:
            names.add(match.group())
    return names


def test_metric_names_are_read_from_an_expression() -> None:
    expression = 'sum by (outcome) (increase(hub_a_total{outcome=~"x|y"}[1h])) / max(hub_b) > 0'
    assert metric_names(expression) == {"hub_a_total", "hub_b"}


def test_the_rules_cover_the_outbox_dead_letters_relay_failures_and_webhook_give_ups() -> None:
    read = set().union(*(metric_names(rule["expr"]) for rule in rules()))
    assert {
        "hub_outbox_oldest_pending_age_seconds",
        "hub_dead_letters",
        "hub_relay_publish_failures_total",
        "hub_webhook_deliveries_total",
    } <= read
    for rule in rules():
        assert rule["alert"] and rule["annotations"]["summary"] and rule["labels"]["severity"]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_rules() -> None:
    subprocess.run(["promtool", "check", "rules", str(RULES)], check=True, timeout=60)


def test_prometheus_scrapes_every_role_and_loads_the_rules() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job["dns_sd_configs"][0]["names"] for job in config["scrape_configs"]}
    assert jobs == {"hub-api": ["api"], "hub-relay": ["relay"], "hub-worker": ["worker"]}
    [mounted_rules] = [v for v in compose()["services"]["prometheus"]["volumes"] if "alerts.yml" in v]
    assert mounted_rules.split(":")[1] in config["rule_files"]
    assert 'job="hub-relay"' in next(r["expr"] for r in rules() if r["alert"] == "HubRelayDown")


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    """The API role on a database of its own (the backlog it shows is this test's alone)."""
    settings = Settings(
        env="test", database_url=await sqlite_database(tmp_path), secret_key="t" * 40, role="api"
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def scrape(app: FastAPI) -> dict[str, float]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
    ) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.text):
        samples[family.name] = float("nan")  # a family declared with no value yet
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
            samples.setdefault(sample.name, sample.value)
    return samples


async def some_traffic(app: FastAPI) -> None:
    """A mandate to a webhook office whose endpoint is down (relayed, one push failed) and one
    message left in the outbox."""
    sessions = app.state.sessions
    box = SecretBox(app.state.settings.secret_key)
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code="CJ33001", name="Étude Bordeaux")
        await offices.set_webhook(session, box, "CJ33001", "http://127.0.0.1:1/down")
        await _enqueue(session, "CJ33001")
    while await Relay(sessions).run_once():
        pass
    async with httpx.AsyncClient() as client:
        assert await WebhookPusher(sessions, box, client).run_once() == 1
    async with unit_of_work(sessions) as session:
        await _enqueue(session, "CJ33001")


async def _enqueue(session: Any, code: str) -> None:
    envelope = Envelope(f"MND-{code}-{id(session)}", "mandate", "AGENCY", code)
    await service.enqueue_outbound(
        session, envelope, b"<m/>", "application/xml", exchange="hub.outbound", routing_key=f"office.{code}"
    )


async def test_every_series_the_rules_read_is_exported_after_traffic(app: FastAPI) -> None:
    before = await scrape(app)
    await some_traffic(app)
    after = await scrape(app)

    for rule in rules():
        missing = metric_names(rule["expr"]) - set(after) - PROMETHEUS_OWN
        # hub_dead_letters is exported when a broker is configured (the next test).
        assert missing <= {"hub_dead_letters"}, f"{rule['alert']} reads series the hub does not export"
    assert after["hub_outbox_pending"] == 1
    assert after["hub_outbox_oldest_pending_age_seconds"] >= 0
    mailbox = "hub_relay_sent_total{transport=mailbox}"
    assert after[mailbox] - before[mailbox] == 1
    failed = "hub_webhook_deliveries_total{outcome=failed}"
    assert after[failed] - before[failed] == 1
    assert "hub_webhook_deliveries_total{outcome=given_up}" in after


@pytest.mark.rabbitmq
async def test_the_dead_letters_are_counted_when_a_broker_is_configured(
    tmp_path: Path, vhost_url: str
) -> None:
    settings = Settings(
        env="test",
        database_url=await sqlite_database(tmp_path),
        amqp_url=vhost_url,
        secret_key="t" * 40,
        role="api",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await _ready(app)
        connection = await aio_pika.connect(vhost_url, timeout=30)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            dead = await channel.get_exchange("hub.dead")
            for n in range(2):
                await dead.publish(aio_pika.Message(b"poison", message_id=f"dead-{n}"), routing_key="")
        samples = await scrape(app)
    assert samples["hub_dead_letters"] == 2
    for rule in rules():
        assert metric_names(rule["expr"]) - set(samples) - PROMETHEUS_OWN == set()


async def _ready(app: FastAPI) -> None:
    async with asyncio.timeout(30):
        await app.state.broker.ready()


def _probe_paths() -> set[str]:
    paths = set()
    for directory in KUSTOMIZATIONS:
        for obj in kustomize(directory):
            template = obj.get("spec", {}).get("template", {})
            if scraped := template.get("metadata", {}).get("annotations", {}).get("prometheus.io/path"):
                paths.add(scraped)
            for container in template.get("spec", {}).get("containers", []):
                for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                    if probe in container:
                        paths.add(container[probe]["httpGet"]["path"])
    dockerfile = (DEPLOY.parent / "Dockerfile").read_text()
    paths.update(re.findall(r"http://127\.0\.0\.1:8000(/\w+)", dockerfile))
    return paths


async def test_the_probes_ask_for_routes_the_app_answers(app: FastAPI) -> None:
    paths = _probe_paths()
    assert paths == {"/healthz", "/readyz", "/metrics"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
    ) as client:
        for path in sorted(paths):
            assert (await client.get(path)).status_code == 200, path
