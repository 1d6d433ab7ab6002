"""The AsyncAPI 3.0 document of the AMQP side, ``schemas/asyncapi.yaml``, written by
``python -m schemas.export``.

It is generated rather than written by hand so that it cannot drift from the models: every kind of
``schemas/v1`` is a message, its payload is the kind's JSON Schema, and every valid JSON sample of
``samples/v1/valid`` is an example of its kind. The channels are the exchanges and queues of
DESIGN.md, "Names that are part of the interface"; which kinds travel on each follows from who
sends them (:data:`OFFICE_KINDS`).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from schemas.v1 import KINDS, SAMPLES_DIR
from schemas.v1.xml_form import camel

ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING = "0.3.0"

OFFICE_KINDS = (
    "mandate_ack",
    "act_report",
    "fee_invoice",
    "cost_request",
    "hold_notice_ack",
    "case_update_ack",
    "remittance",
    "reminder_ack",
)
"""What an office sends to the hub (``hub.inbound``); the hub forwards each one it accepts to the
agency's systems (``hub.agency``). Every other kind is the hub's, sent to an office (``hub.outbound``)."""
HUB_KINDS = tuple(kind for kind in KINDS if kind not in OFFICE_KINDS)

TITLES = {
    "mandate": "Mandate (agency -> office)",
    "mandate_ack": "Mandate acknowledgement (office -> agency)",
    "act_report": "Act report (office -> agency)",
    "fee_invoice": "Fee invoice, canonical form (office -> agency)",
    "receipt": "Signed receipt (hub -> sender)",
    "error_report": "Error report, negative acknowledgement (hub -> sender)",
    "hold_notice": "Hold notice (hub -> office)",
    "cost_request": "Cost request (office -> agency)",
    "cost_decision": "Cost decision (agency -> office)",
    "hold_notice_ack": "Hold notice acknowledgement (office -> agency)",
    "mandate_cancel": "Mandate cancelled or expired (agency -> office)",
    "invoice_dispute": "Fee invoice disputed, with the disputed lines (agency -> office)",
    "case_update": "Case update: a payment, address, dispute, plan, death, insolvency (agency -> office)",
    "case_update_ack": "Case update acknowledgement (office -> agency)",
    "remittance": "Remittance of money collected, one bank transfer split per case (office -> agency)",
    "hold_lift": "Hold lifted: the acts it held may go ahead (agency -> office)",
    "reminder": (
        "Reminder: the agency waits for an act, an acknowledgement, a remittance or an invoice "
        "(agency -> office)"
    ),
    "reminder_ack": "Reminder acknowledgement (office -> agency)",
}

DESCRIPTION = """\
Messages between the collection agency's hub and bailiff offices over RabbitMQ (AMQP 0-9-1).
Every message is one v1 wire message (schemas/v1): JSON (application/json) described by
schemas/json/v1/<kind>.json, or XML (application/xml) described by schemas/xsd/v1/edi.xsd, root
element named in x-xml-root-element. An office publishes persistent messages with the AMQP
properties message_id = envelope.message_id and content_type. The hub publishes persistent
messages with content_type, type = envelope.kind, correlation_id = envelope.correlation_id, a
timestamp, message_id = the hub's id of that send (unique; a copy published again after a lost
confirm has the same one) and the headers x-hub-message-id = envelope.message_id, x-hub-kind =
envelope.kind and x-hub-sender = envelope.sender. What the hub sends is delivered at least once
and not ordered: recognise a copy by envelope.message_id and process it once; schemas/README.md,
"What the hub sends you: delivery". An office connects as its own RabbitMQ user (validated
user_id): it may publish to hub.inbound and consume only its own queue office.<code>; an envelope
whose sender disagrees with that user is refused. The hub answers every inbound message with a
receipt (or an error report) on the office's queue; a message sent again with the message_id of one
applied already is applied no second time and answered with its first receipt again (same
envelope message_id, RCPT-...). A receipt is signed alone (signature_alg
Ed25519) or, for a record of a batch file, with its chunk (Ed25519-Merkle, with its inclusion
proof); schemas/README.md, "Receipts", gives the steps to verify either. The examples of each
message are the valid samples of schemas/samples/v1/valid.
"""

INBOUND_DESCRIPTION = """\
Direct exchange where offices publish, with routing key hub.inbound. The body limits of the
HTTP API apply (HUB_MAX_BODY_BYTES, 1 MiB by default; an application/pdf Factur-X invoice up to
HUB_MAX_INVOICE_BYTES, 20 MiB): a larger message is refused unread, with a receipt refusing it
(code payload_too_large, message_id the AMQP property's) and an error report. A JSON object
that gives a key twice is refused (json.duplicate_key). Error codes are lower case with dots;
EN 16931 rules read en16931.br_co_10 (BR-CO-10). Publish persistent, with publisher confirms and
the mandatory flag: a message is the hub's once the broker has confirmed it; one returned
(basic.return, NO_ROUTE, e.g. while the queue is being replaced) was not queued, and one neither
confirmed nor returned may not have been: send both again (a copy of a message applied already is
answered with its first receipt, not applied twice).
"""

DEAD_DESCRIPTION = """\
Fanout dead-letter exchange of every work queue: a message refused too often lands here with its
reason in the x-death header (delivery_limit: the broker's limit on the queues offices and the
agency consume; rejected: the hub gave up on a message of hub.inbound after its retries). Any kind
of message may appear.
"""


def _ref(*parts: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(parts)}


def _exchange(name: str, exchange_type: str) -> dict[str, Any]:
    exchange = {"name": name, "type": exchange_type, "durable": True, "autoDelete": False, "vhost": "/"}
    return {"amqp": {"is": "routingKey", "exchange": exchange, "bindingVersion": AMQP_BINDING}}


def _queue(name: str) -> dict[str, Any]:
    queue = {"name": name, "durable": True, "exclusive": False, "autoDelete": False, "vhost": "/"}
    return {"amqp": {"is": "queue", "queue": queue, "bindingVersion": AMQP_BINDING}}


def _channel(
    address: str, title: str, description: str, kinds: tuple[str, ...], bindings: dict[str, Any]
) -> dict[str, Any]:
    return {
        "address": address,
        "title": title,
        "description": description,
        "messages": {camel(kind): _ref("components", "messages", camel(kind)) for kind in kinds},
        "bindings": bindings,
    }


def channels() -> dict[str, Any]:
    """The exchanges and queues, each with the kinds that travel on it."""
    office_queue = _channel(
        "office.{officeCode}",
        "Queue office.<code>",
        "Quorum queue of one office, bound to hub.outbound with routing key office.<code>.",
        HUB_KINDS,
        _queue("office.{officeCode}"),
    )
    office_queue = {
        **office_queue,
        "parameters": {
            "officeCode": {"description": "The office code, e.g. CJ75001.", "examples": ["CJ75001"]}
        },
    }
    return {
        "hubOutbound": _channel(
            "hub.outbound",
            "Exchange hub.outbound",
            "Direct exchange; the hub's relay publishes here, routing key office.<code>.",
            HUB_KINDS,
            _exchange("hub.outbound", "direct"),
        ),
        "officeQueue": office_queue,
        "hubInboundExchange": _channel(
            "hub.inbound",
            "Exchange hub.inbound",
            INBOUND_DESCRIPTION,
            OFFICE_KINDS,
            _exchange("hub.inbound", "direct"),
        ),
        "hubInboundQueue": _channel(
            "hub.inbound",
            "Queue hub.inbound",
            "Quorum queue the hub consumes; acked only after the hub has committed the message.",
            OFFICE_KINDS,
            _queue("hub.inbound"),
        ),
        "hubAgency": _channel(
            "hub.agency",
            "Exchange hub.agency",
            "Topic exchange of events for the agency: every office message the hub accepted, as it was "
            "received, with routing key <kind>.received, e.g. act_report.received.",
            OFFICE_KINDS,
            _exchange("hub.agency", "topic"),
        ),
        "agencyEvents": _channel(
            "agency.events",
            "Queue agency.events",
            "Quorum queue of the agency's systems, bound to hub.agency (binding key #).",
            OFFICE_KINDS,
            _queue("agency.events"),
        ),
        "hubDead": _channel(
            "hub.dead", "Exchange hub.dead", DEAD_DESCRIPTION, KINDS, _exchange("hub.dead", "fanout")
        ),
    }


# Operation name -> (action, title, channel name).
OPERATIONS = {
    "publishToOffice": ("send", "The hub's relay sends to an office", "hubOutbound"),
    "officeConsumes": ("receive", "An office consumes its own queue", "officeQueue"),
    "officePublishes": ("send", "An office sends to the hub", "hubInboundExchange"),
    "hubConsumesInbound": ("receive", "The hub consumes what offices sent", "hubInboundQueue"),
    "publishAgencyEvent": ("send", "The hub's relay publishes events for the agency", "hubAgency"),
    "agencyConsumes": ("receive", "The agency's systems consume their events", "agencyEvents"),
    "deadLetters": ("receive", "Operators inspect dead letters (queue hub.dead)", "hubDead"),
}


def operations(channels: dict[str, Any]) -> dict[str, Any]:
    """Who sends or receives on each channel, and which of its messages."""
    return {
        name: {
            "action": action,
            "title": title,
            "channel": _ref("channels", channel),
            "messages": [_ref("channels", channel, "messages", m) for m in channels[channel]["messages"]],
        }
        for name, (action, title, channel) in OPERATIONS.items()
    }


def examples() -> dict[str, list[dict[str, Any]]]:
    """Kind -> its valid JSON samples, named by their file."""
    found: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for path in sorted((SAMPLES_DIR / "valid").glob("*.json")):
        payload = json.loads(path.read_text(encoding="utf-8"))
        found[payload["envelope"]["kind"]].append({"name": path.stem, "payload": payload})
    return found


def messages() -> dict[str, Any]:
    """One message per kind: its JSON Schema, its XML root, its AMQP type and its samples."""
    samples = examples()
    return {
        camel(kind): {
            "name": kind,
            "title": TITLES[kind],
            "payload": {"$ref": f"json/v1/{kind}.json"},
            "x-xml-root-element": camel(kind),
            "bindings": {"amqp": {"messageType": kind, "bindingVersion": AMQP_BINDING}},
            "examples": samples[kind],
        }
        for kind in KINDS
    }


def document() -> dict[str, Any]:
    """The whole AsyncAPI document."""
    chans = channels()
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": "Agency hub EDI - AMQP side", "version": "1", "description": DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": {
            "broker": {
                "host": "broker.example.invalid:5671",
                "protocol": "amqps",
                "description": "The agency's RabbitMQ cluster (address given to each office at onboarding).",
            }
        },
        "channels": chans,
        "operations": operations(chans),
        "components": {"messages": messages()},
    }


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    """Block style throughout; a text of several lines as a literal block, as a person writes it."""


def _text(dumper: yaml.SafeDumper, text: str) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_Dumper.add_representer(str, _text)

HEADER = (
    "# Generated by `python -m schemas.export` from schemas/v1 and schemas/samples/v1/valid: do not edit.\n"
)


def document_yaml() -> str:
    """The document as checked in."""
    body = yaml.dump(document(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return HEADER + str(body)
