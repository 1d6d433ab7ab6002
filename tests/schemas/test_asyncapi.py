"""The AsyncAPI document of the AMQP side: names as in DESIGN.md, every referenced schema present."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from schemas.v1 import ASYNCAPI_PATH, KINDS, PACKAGE_DIR

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
