"""What /openapi.json says about the office routes that read their body themselves: the body of
each, and a real schema for every answer (the receipt, the batch result, problem+json errors)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from hub.app import create_app
from hub.kit.http import PROBLEM_JSON
from hub.kit.openapi import inline_schema, schema_of
from schemas import v1
from schemas.v1 import SAMPLES_DIR
from tests.conftest import require

# The office routes that take one v1 message, and the kind each documents.
MESSAGE_ROUTES = {
    "/v1/act-reports": ["act_report"],
    "/v1/mandate-acks": ["mandate_ack"],
    "/v1/hold-notice-acks": ["hold_notice_ack"],
    "/v1/case-update-acks": ["case_update_ack"],
    "/v1/cost-requests": ["cost_request"],
    "/v1/invoices": ["fee_invoice"],
    "/v1/remittances": ["remittance"],
    "/v1/reminders/{reminder_id}/ack": ["reminder_ack"],
    "/v1/messages": [
        "act_report",
        "case_update_ack",
        "cost_request",
        "fee_invoice",
        "hold_notice_ack",
        "mandate_ack",
        "reminder_ack",
        "remittance",
    ],
}
SAMPLE = json.loads((SAMPLES_DIR / "valid" / "act_report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_an_inlined_schema_stands_alone_and_judges_like_the_model() -> None:
    schema = schema_of(v1.ActReport)
    assert "$defs" not in json.dumps(schema) and refs(schema) == []
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(SAMPLE)
    for broken in ({"fees": {"emoluments_cents": -1}}, {"outcome_code": "lost"}, {"extra": 1}):
        assert not validator.is_valid({**SAMPLE, **broken}), broken
    wrong_kind = {**SAMPLE, "envelope": {**SAMPLE["envelope"], "kind": "mandate"}}
    assert not validator.is_valid(wrong_kind)


def test_a_reference_keeps_its_sibling_keywords() -> None:
    schema = {
        "$defs": {"Cents": {"type": "integer", "minimum": 0}},
        "properties": {"fee": {"$ref": "#/$defs/Cents", "description": "the fee"}},
    }
    assert inline_schema(schema) == {
        "properties": {"fee": {"type": "integer", "minimum": 0, "description": "the fee"}}
    }


@pytest.mark.parametrize("path", sorted(MESSAGE_ROUTES))
def test_a_message_route_documents_its_json_and_xml_bodies(document: dict[str, Any], path: str) -> None:
    body = document["paths"][path]["post"]["requestBody"]
    assert body["required"] is True
    content = body["content"]
    assert content["application/xml"]["schema"]["format"] == "binary"
    as_json = content["application/json"]["schema"]
    branches = as_json.get("oneOf", [as_json])
    kinds = [b["properties"]["envelope"]["allOf"][1]["properties"]["kind"]["const"] for b in branches]
    assert kinds == MESSAGE_ROUTES[path]
    assert refs(as_json) == []


def test_the_batch_route_documents_an_xml_file(document: dict[str, Any]) -> None:
    content = document["paths"]["/v1/act-reports/batch"]["post"]["requestBody"]["content"]
    assert list(content) == ["application/xml"]


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    office = (
        "/v1/act-reports",
        "/v1/mandate-acks",
        "/v1/hold-notice-acks",
        "/v1/case-update-acks",
        "/v1/cost-requests",
        "/v1/batches",
        "/v1/messages",
        "/v1/inbox",
        "/v1/invoices",
        "/v1/inventory",
    )
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        if path.startswith(office)
        for method, operation in item.items()
    ]


def test_every_answer_of_the_office_routes_has_a_schema(document: dict[str, Any]) -> None:
    """An empty schema would let any body pass schemathesis's response check."""
    for method, path, operation in _operations(document):
        for status, answer in operation["responses"].items():
            label = f"{method} {path} {status}"
            content = answer.get("content", {})
            assert content, label
            for media_type, declared in content.items():
                schema = declared.get("schema")
                assert schema, label  # {} accepts anything
                if int(status) >= 400:
                    assert media_type == PROBLEM_JSON, label
                    assert {"type", "title", "status", "detail", "code", "errors"} <= set(schema["required"])
                if int(status) in (200, 202):
                    assert schema.get("$ref") or schema.get("type") in ("object", "array"), label


def test_a_refusal_documents_the_receipt_under_receipt(document: dict[str, Any]) -> None:
    answers = document["paths"]["/v1/act-reports"]["post"]["responses"]
    assert answers["202"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Receipt"}
    refused = answers["422"]["content"][PROBLEM_JSON]["schema"]
    assert refused["additionalProperties"] is False
    receipt = refused["properties"]["receipt"]["anyOf"][0]
    assert receipt["properties"]["signature_alg"]["enum"] == ["Ed25519", "Ed25519-Merkle"]
    assert "proof" in receipt["properties"] and "proof" not in receipt["required"]


def test_every_tag_used_is_listed_with_a_description(document: dict[str, Any]) -> None:
    listed = [tag["name"] for tag in document["tags"]]
    used = {tag for item in document["paths"].values() for op in item.values() for tag in op.get("tags", [])}
    assert sorted(listed) == sorted(set(listed)) and set(listed) == used
    assert all(tag["description"] for tag in document["tags"])


def test_every_operation_is_described(document: dict[str, Any]) -> None:
    """A summary is a title; the description tells an office's IT team who may call it and what it answers."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert len(operation.get("description", "")) >= 40, f"{method.upper()} {path}"


SPECTRAL = ["npx", "-y", "@stoplight/spectral-cli@6", "lint", "--fail-severity=warn", "--ruleset"]


def test_the_document_lints_clean_with_spectral_oas(tmp_path: Path, document: dict[str, Any]) -> None:
    """The bar of the README: Spectral's OAS ruleset, every warning counted (the package is in the
    npm cache; npx only runs it). Missing npx skips here and fails under CI=true."""
    require("npx", shutil.which("npx") is not None)
    (tmp_path / "openapi.json").write_text(json.dumps(document), encoding="utf-8")
    (tmp_path / ".spectral.yaml").write_text('extends: ["spectral:oas"]\n', encoding="utf-8")
    run = subprocess.run(
        [*SPECTRAL, ".spectral.yaml", "openapi.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("path", sorted(MESSAGE_ROUTES))
def test_a_message_route_shows_a_valid_sample_of_each_kind_it_takes(
    document: dict[str, Any], path: str
) -> None:
    content = document["paths"][path]["post"]["requestBody"]["content"]
    validator = jsonschema.Draft202012Validator(content["application/json"]["schema"])
    examples = content["application/json"]["examples"]
    assert sorted({e["value"]["envelope"]["kind"] for e in examples.values()}) == MESSAGE_ROUTES[path]
    for name, example in examples.items():
        assert not list(validator.iter_errors(example["value"])), name
    assert set(content["application/xml"]["examples"]) == set(examples)


def test_a_message_route_shows_a_valid_receipt(document: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(schema_of(v1.Receipt))
    for path in MESSAGE_ROUTES:
        examples = document["paths"][path]["post"]["responses"]["202"]["content"]["application/json"][
            "examples"
        ]
        assert examples, path
        for example in examples.values():
            assert not list(validator.iter_errors(example["value"])), path


def _json_examples(document: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
    """(label, schema, example) of every JSON request body and success answer that shows one."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            bodies = [("request", operation.get("requestBody", {}))]
            bodies += [(s, a) for s, a in operation["responses"].items() if s.startswith("2")]
            for where, body in bodies:
                media = body.get("content", {}).get("application/json", {})
                schema = media.get("schema", {})
                values = [e["value"] for e in media.get("examples", {}).values()]
                values += [media["example"]] if "example" in media else []
                component = schema.get("$ref", "").rpartition("/")[2]
                values += document["components"]["schemas"].get(component, {}).get("examples", [])
                found += [(f"{method.upper()} {path} {where}", schema, value) for value in values]
    return found


def test_every_example_matches_its_schema(document: dict[str, Any]) -> None:
    examples = _json_examples(document)
    # The message routes (requests and receipts), health, /v1/me, the key, the inbox.
    assert len(examples) >= 28
    for label, schema, value in examples:
        validator = jsonschema.Draft202012Validator({**schema, "components": document["components"]})
        assert not list(validator.iter_errors(value)), label
