"""The AsyncAPI document of the AMQP side: names as in DESIGN.md, every referenced schema present,
every kind with valid examples, and ``asyncapi validate`` passing on it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from hub.messaging.inbound import OFFICE_KINDS
from schemas.v1 import ASYNCAPI_PATH, JSON_SCHEMA_DIR, KINDS, PACKAGE_DIR
from tests.conftest import require

# DESIGN.md, "Names that are part of the interface".
EXCHANGES = {"hub.outbound", "hub.inbound", "hub.agency", "hub.dead"}
QUEUES = {"office.{officeCode}", "hub.inbound", "agency.events"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ASYNCAPI_PATH.read_text(encoding="utf-8"))
    return loaded


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for part in pointer.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_version(document: dict[str, Any]) -> None:
    assert document["asyncapi"].startswith("3.")


def test_channel_addresses_are_the_design_names(document: dict[str, Any]) -> None:
    exchanges = {
        c["address"] for c in document["channels"].values() if c["bindings"]["amqp"]["is"] == "routingKey"
    }
    queues = {c["address"] for c in document["channels"].values() if c["bindings"]["amqp"]["is"] == "queue"}
    assert exchanges == EXCHANGES
    assert queues == QUEUES
    for channel in document["channels"].values():
        binding = channel["bindings"]["amqp"]
        name = binding["exchange"]["name"] if binding["is"] == "routingKey" else binding["queue"]["name"]
        assert name == channel["address"]


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    for ref in _refs(document):
        if ref.startswith("#"):
            _resolve(document, ref)
        else:
            assert (PACKAGE_DIR / ref).is_file(), f"{ref} is referenced by asyncapi.yaml but missing"


def test_every_kind_is_described(document: dict[str, Any]) -> None:
    names = {m["name"] for m in document["components"]["messages"].values()}
    assert names == set(KINDS)


def test_operations_use_their_channels_messages(document: dict[str, Any]) -> None:
    for operation in document["operations"].values():
        channel = operation["channel"]["$ref"]
        for message in operation.get("messages", []):
            assert message["$ref"].startswith(channel + "/messages/")


def _kinds(document: dict[str, Any], channel: str) -> set[str]:
    messages = document["channels"][channel]["messages"].values()
    return {_resolve(document, m["$ref"])["name"] for m in messages}


def test_each_channel_carries_the_kinds_its_sender_sends(document: dict[str, Any]) -> None:
    """Offices publish what the hub's inbound processor accepts from them; the hub forwards those to
    the agency and sends every other kind to the offices; anything may be dead-lettered."""
    hub_kinds = set(KINDS) - OFFICE_KINDS
    expected = {
        "hubInboundExchange": OFFICE_KINDS,
        "hubInboundQueue": OFFICE_KINDS,
        "hubAgency": OFFICE_KINDS,
        "agencyEvents": OFFICE_KINDS,
        "hubOutbound": hub_kinds,
        "officeQueue": hub_kinds,
        "hubDead": set(KINDS),
    }
    assert {channel: _kinds(document, channel) for channel in document["channels"]} == expected


def test_every_kind_has_examples_its_schema_accepts(document: dict[str, Any]) -> None:
    for message in document["components"]["messages"].values():
        kind = message["name"]
        schema = json.loads((JSON_SCHEMA_DIR / f"{kind}.json").read_text(encoding="utf-8"))
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        assert message["examples"], kind
        for example in message["examples"]:
            assert example["payload"]["envelope"]["kind"] == kind, example["name"]
            assert not list(validator.iter_errors(example["payload"])), example["name"]


ASYNCAPI_CLI = ["npx", "-y", "@asyncapi/cli@6", "validate", "--fail-severity=warn"]


def test_the_document_passes_asyncapi_validate(tmp_path: Path) -> None:
    """The bar of schemas/README.md: the AsyncAPI CLI's validation, every warning counted; it reads
    the JSON Schemas the document refers to (it refused pydantic's OpenAPI ``discriminator`` object),
    but not the examples against them, which the test above does. Missing npx skips here and fails
    under CI=true. The CLI's usage metrics are switched off, with a settings file of the test's own."""
    require("npx", shutil.which("npx") is not None)
    metrics = tmp_path / "asyncapi-analytics.json"
    metrics.write_text(
        json.dumps({"analyticsEnabled": "false", "infoMessageShown": "true", "userID": "hub-tests"}),
        encoding="utf-8",
    )
    env = {**os.environ, "ASYNCAPI_METRICS_CONFIG_PATH": str(metrics), "SUPPRESS_NO_CONFIG_WARNING": "1"}
    run = subprocess.run(
        [*ASYNCAPI_CLI, ASYNCAPI_PATH.name],
        cwd=PACKAGE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "is valid" in run.stdout, run.stdout + run.stderr
