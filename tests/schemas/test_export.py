"""The checked-in JSON Schemas and XSD are exactly what the models generate."""

from __future__ import annotations

import json

from lxml import etree

from schemas.export import generated_files, main, stale_files
from schemas.v1 import JSON_SCHEMA_DIR, KINDS, XSD_DIR


def test_checked_in_files_match_the_models() -> None:
    stale = [str(p) for p in stale_files()]
    assert not stale, f"generated files are stale: {stale}; run python -m schemas.export and commit them"


def test_one_json_schema_per_kind() -> None:
    names = {p.name for p in generated_files() if p.parent == JSON_SCHEMA_DIR}
    assert names == {f"{kind}.json" for kind in KINDS}
    for kind in KINDS:
        schema = json.loads((JSON_SCHEMA_DIR / f"{kind}.json").read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_xsd_compiles_and_declares_every_root() -> None:
    xsd = etree.parse(str(XSD_DIR / "edi.xsd"))
    etree.XMLSchema(xsd)
    roots = set(
        xsd.getroot().xpath(
            "/xs:schema/xs:element/@name", namespaces={"xs": "http://www.w3.org/2001/XMLSchema"}
        )
    )
    assert roots == {
        "mandate",
        "mandateAck",
        "actReport",
        "feeInvoice",
        "receipt",
        "errorReport",
        "holdNotice",
        "costRequest",
        "costDecision",
        "holdNoticeAck",
        "mandateCancel",
        "invoiceDispute",
        "caseUpdate",
        "caseUpdateAck",
        "remittance",
        "reminder",
        "reminderAck",
        "holdLift",
        "actReportBatch",
    }


def test_check_mode_reports_nothing_when_fresh() -> None:
    assert main(["--check"]) == 0


def test_the_json_schemas_carry_no_openapi_discriminator() -> None:
    """AsyncAPI reads the JSON Schemas as payloads and refuses pydantic's ``discriminator`` object; the
    mandate's terms are still told apart by the ``kind`` constant of each branch."""
    mandate = json.loads((JSON_SCHEMA_DIR / "mandate.json").read_text(encoding="utf-8"))
    for kind in KINDS:
        assert '"discriminator"' not in (JSON_SCHEMA_DIR / f"{kind}.json").read_text(encoding="utf-8"), kind
    branches = [
        mandate["$defs"][b["$ref"].rsplit("/", 1)[1]] for b in mandate["properties"]["terms"]["oneOf"]
    ]
    assert [b["properties"]["kind"]["const"] for b in branches] == ["per_act", "whole_file"]
