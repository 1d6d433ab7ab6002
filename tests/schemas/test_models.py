"""The v1 models: samples, the error format, cross-field rules, and no float anywhere."""

from __future__ import annotations

import ast
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.v1 import (
    JSON_SCHEMA_DIR,
    KINDS,
    MESSAGE_TYPES,
    PACKAGE_DIR,
    ActReport,
    Envelope,
    FeeInvoice,
    FeesClaimed,
    InvoiceLine,
    MessageModel,
    OutcomeCode,
    Seller,
    dump_json,
    message_errors,
    parse_json,
)
from schemas.v1.xml_form import layout
from tests.schemas.samples import expected, ids, invalid, valid
from tests.schemas.strategies import ACT_REPORTS, FEE_INVOICES, MANDATES

VALID_JSON = valid(".json")
INVALID_JSON = invalid(".json")


def _walk(node: Any) -> list[Any]:
    found = [node]
    if isinstance(node, dict):
        for value in node.values():
            found.extend(_walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_walk(value))
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_no_float_in_any_json_schema(kind: str) -> None:
    schema = MESSAGE_TYPES[kind].model_json_schema()  # type: ignore[index]
    numbers = [n for n in _walk(schema) if isinstance(n, dict) and n.get("type") == "number"]
    assert not numbers, f"{kind} has a 'number' (float) field: amounts must be integer cents"
    types = [n.get("type") for n in _walk(schema) if isinstance(n, dict) and isinstance(n.get("type"), list)]
    assert not any("number" in t for t in types)


def test_every_kind_has_a_sample() -> None:
    kinds = {json.loads(p.read_text(encoding="utf-8"))["envelope"]["kind"] for p in VALID_JSON}
    assert kinds == set(KINDS)


@pytest.mark.parametrize("path", VALID_JSON, ids=ids(VALID_JSON))
def test_valid_json_sample_passes_model_and_json_schema(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    message = parse_json(path.read_bytes())
    schema = json.loads((JSON_SCHEMA_DIR / f"{message.envelope.kind}.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(data)
    assert parse_json(dump_json(message)) == message


@pytest.mark.parametrize("path", INVALID_JSON, ids=ids(INVALID_JSON))
def test_invalid_json_sample_lists_every_expected_error(path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_json(path.read_bytes())
    found = {(e.code, e.path) for e in message_errors(caught.value)}
    wanted = {(e["code"], e["path"]) for e in expected(path)["errors"]}
    assert wanted <= found, f"missing {wanted - found}; found {found}"


def test_json_schema_refuses_the_wrong_kind_in_the_envelope() -> None:
    schema = json.loads((JSON_SCHEMA_DIR / "act_report.json").read_text(encoding="utf-8"))
    data = json.loads(valid(".json")[0].read_text(encoding="utf-8"))
    assert data["envelope"]["kind"] == "act_report"
    data["envelope"]["kind"] = "mandate"
    assert not jsonschema.Draft202012Validator(schema).is_valid(data)


def _envelope(kind: str = "act_report", **changes: Any) -> Envelope:
    fields: dict[str, Any] = {
        "message_id": "CJ75001-2026-000123",
        "kind": kind,
        "version": "1",
        "sender": "CJ75001",
        "recipient": "AGENCY",
        "sent_at": datetime(2026, 3, 2, 9, 15, tzinfo=UTC),
    }
    return Envelope(**{**fields, **changes})


def _report(**changes: Any) -> ActReport:
    fields: dict[str, Any] = {
        "envelope": _envelope(),
        "mandate_ref": "M-2026-000042",
        "act_code": "SERVE_TITLE",
        "act_date": date(2026, 2, 27),
        "outcome_code": OutcomeCode.SERVED_IN_PERSON,
        "office_reference": "A26/0815",
        "fees": FeesClaimed(emoluments_cents=2579, vat_cents=516),
    }
    return ActReport(**{**fields, **changes})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("message_id", ""),
        ("message_id", "x" * 65),
        ("message_id", "has space"),
        ("sender", "cj75001"),
        ("sent_at", datetime(2026, 3, 2, 9, 15)),
        ("sent_at", datetime(2026, 3, 2, 9, 15, tzinfo=timezone(timedelta(seconds=30)))),
        ("version", "2"),
        ("kind", "invoice"),
    ],
)
def test_envelope_refuses(field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        _envelope(**{field: value})


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"act_code": "service_title"}, "string_pattern_mismatch"),
        ({"fees": {"emoluments_cents": -1}}, "greater_than_equal"),
        ({"collected_cents": 12.5}, "int_type"),
        ({"collected_cents": True}, "int_type"),
        ({"outcome_code": OutcomeCode.REFUSED_OTHER}, "act_report.comment_required"),
        ({"envelope": _envelope("mandate")}, "envelope.kind_mismatch"),
        ({"comment": "bip\x07"}, "value.invalid_character"),
        ({"unknown": 1}, "extra_forbidden"),
    ],
)
def test_act_report_refuses(changes: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _report(**changes)
    assert code in {e["type"] for e in caught.value.errors()}


def test_models_are_frozen() -> None:
    report = _report()
    with pytest.raises(ValidationError):
        report.act_code = "OTHER"  # type: ignore[misc]


def _invoice(**changes: Any) -> FeeInvoice:
    line = InvoiceLine(
        office_act_reference="A26/0815", description="Signification", net_cents=-5158, vat_rate_bp=2000
    )
    fields: dict[str, Any] = {
        "envelope": _envelope("fee_invoice"),
        "invoice_number": "AV2026-0001",
        "issue_date": date(2026, 4, 2),
        "seller": Seller(office_code="CJ75001", siret="44205637000004", name="SCP Martin & Associés"),
        "lines": [line],
        "total_net_cents": -5158,
        "total_vat_cents": -1032,
        "total_gross_cents": -6190,
    }
    return FeeInvoice(**{**fields, **changes})


def test_a_credit_note_has_negative_amounts() -> None:
    assert _invoice().total_gross_cents == -6190


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"total_net_cents": -5000}, "invoice.total_net_mismatch"),
        ({"total_gross_cents": -6000}, "invoice.total_gross_mismatch"),
        ({"due_date": date(2026, 4, 1)}, "invoice.due_before_issue"),
        ({"lines": []}, "too_short"),
        ({"currency": "eur"}, "string_pattern_mismatch"),
    ],
)
def test_invoice_refuses(changes: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _invoice(**changes)
    assert code in {e["type"] for e in caught.value.errors()}


def test_an_invoice_line_names_its_act() -> None:
    with pytest.raises(ValidationError) as caught:
        InvoiceLine(description="?", net_cents=100, vat_rate_bp=2000)
    assert caught.value.errors()[0]["type"] == "invoice.line_unreferenced"


def test_rule_errors_point_at_their_field() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_json(dump_json(_invoice()).replace(b'"total_net_cents":-5158', b'"total_net_cents":-1'))
    assert [(e.code, e.path) for e in message_errors(caught.value)] == [
        ("invoice.total_net_mismatch", "/total_net_cents")
    ]


def test_error_paths_are_json_pointers_into_lists() -> None:
    data = json.loads(dump_json(_invoice()))
    data["lines"][0]["vat_rate_bp"] = 20000
    with pytest.raises(ValidationError) as caught:
        parse_json(json.dumps(data))
    assert [e.path for e in message_errors(caught.value)] == ["/lines/0/vat_rate_bp"]


def test_list_fields_are_named_in_the_plural() -> None:
    # XML list items are named in the singular: lines -> line; a receipt proof's path -> step.
    repeated = {(f.name, f.element) for t in layout().types.values() for f in t.fields if f.repeated}
    assert repeated
    assert all(name.endswith("s") for name, _ in repeated - {("path", "step")})
    assert ("path", "step") in repeated


SOURCES = sorted((PACKAGE_DIR).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(PACKAGE_DIR)) for p in SOURCES])
def test_schemas_import_nothing_of_the_project(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in ("hub", "adapters"), f"{path} imports {name}"


@settings(max_examples=100, deadline=None)
@given(message=st.one_of(ACT_REPORTS, MANDATES, FEE_INVOICES))
def test_json_round_trip(message: MessageModel) -> None:
    assert parse_json(dump_json(message)) == message
