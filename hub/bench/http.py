"""Act reports over HTTP end to end: ``hub serve`` (API role, ``HUB_ENV=production``) in a
subprocess, the load generator in another, one office and key per client (the hub limits the rate
per key), each office reporting acts round-robin over its own mandates."""

from __future__ import annotations

import json
import secrets
import sys
from typing import Any

from hub.bench import Bench, Row, measured
from hub.bench.serving import Server, free_port, load
from schemas.v1 import SAMPLES_DIR

MANDATES_PER_OFFICE = 20


def act_report_template(office: str, mandate_ref: str) -> str:
    """The sample act report from ``office`` under ``mandate_ref``; ``__N__`` numbers it."""
    data = json.loads((SAMPLES_DIR / "valid" / "act_report.json").read_bytes())
    data["envelope"]["message_id"] = f"CR-{office}-__N__"
    data["envelope"]["sender"] = office
    data["mandate_ref"] = mandate_ref
    data["office_reference"] = f"A/{office}/__N__"
    return json.dumps(data)


async def offices_with_keys(url: str, count: int) -> list[tuple[str, str]]:
    """``count`` new offices, each with ``MANDATES_PER_OFFICE`` issued mandates and an API key."""
    from hub.acts.bench import office_with_mandates
    from hub.database import create_engine, session_factory, unit_of_work
    from hub.offices import service as offices

    engine = create_engine(url)
    try:
        made = []
        async with unit_of_work(session_factory(engine)) as session:
            for _ in range(count):
                office, _refs = await office_with_mandates(session, MANDATES_PER_OFFICE)
                made.append((office.code, (await offices.create_key(session, office.code)).secret))
        return made
    finally:
        await engine.dispose()


def statuses(answer: dict[str, Any]) -> str:
    """The answers' statuses, the codes of the refusals among them, and the load generator's own CPU
    a request: near a core's worth of its run, the generator, not the server, bounds the rate."""
    refusals = f", refused {answer['refusals']}" if answer.get("refusals") else ""
    client = 1000 * answer["cpu_seconds"] / max(answer["sent"], 1)
    busy = answer["cpu_seconds"] / answer["seconds"] if answer["seconds"] else 0.0
    return (
        f"statuses {answer['statuses']}{refusals}; load generator {client:.2f} CPU ms a request "
        f"({busy:.0%} of a core)"
    )


def hub_serve(url: str, port: int) -> Server:
    return Server(
        [sys.executable, "-m", "hub", "serve"],
        port,
        {
            "HUB_DATABASE_URL": url,
            "HUB_AMQP_URL": "",
            "HUB_ENV": "production",
            "HUB_AGENCY_IBAN": "DE89370400440532013000",  # production refuses the demonstration account
            "HUB_ROLE": "api",
            "HUB_PORT": str(port),
            "HUB_SECRET_KEY": secrets.token_urlsafe(48),
            "HUB_LOG_LEVEL": "WARNING",
        },
    )


async def measure_http(bench: Bench, url: str, group: str, name: str, note: str = "") -> Row:
    """Act reports posted to ``hub serve`` on the migrated database ``url``."""
    scale = bench.scale
    keyed = await offices_with_keys(url, scale.clients)
    port = free_port()
    with hub_serve(url, port) as server:
        cpu_before = server.cpu_seconds()
        answer = await load(
            url=f"{server.base_url}/v1/act-reports",
            bodies=[act_report_template(code, f"M-{code}-__M__") for code, _key in keyed],
            headers=[
                {"Authorization": f"Bearer {key}", "Content-Type": "application/json"} for _c, key in keyed
            ],
            clients=scale.clients,
            requests=scale.requests,
            seconds=scale.seconds,
            modulo=MANDATES_PER_OFFICE,
        )
        cpu = server.cpu_seconds() - cpu_before
        rss = server.peak_rss_mb()
    return measured(
        group,
        name,
        "req/s",
        {
            "count": answer["sent"],
            "seconds": answer["seconds"],
            "latencies": answer["latencies"],
            "cpu_seconds": cpu,
        },
        engine=bench.engine,
        peak_rss_mb=rss,
        process="hub serve",
        raw="http",
        note="; ".join(part for part in (note, statuses(answer)) if part),
    )


async def group(bench: Bench) -> list[Row]:
    async with bench.database() as url:
        return [
            await measure_http(bench, url, "http", f"act report over HTTP, {bench.scale.clients} clients")
        ]
