"""Regenerate the checked-in contract files from the models: ``python -m schemas.export``.

Writes ``schemas/json/v1/<kind>.json`` (JSON Schema 2020-12 of each message kind),
``schemas/xsd/v1/edi.xsd`` (the XML form) and ``schemas/asyncapi.yaml`` (the AMQP side, with the
valid samples as examples). ``--check`` only compares and exits 1 when a file differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lxml import etree

from schemas.asyncapi import document_yaml
from schemas.v1 import ASYNCAPI_PATH, JSON_SCHEMA_DIR, MESSAGE_TYPES, XSD_DIR
from schemas.v1.xml_form import BATCH_RECORD, BATCH_ROOT, NAMESPACE, FieldLayout, layout

XS = "http://www.w3.org/2001/XMLSchema"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
XSD_FILE = "edi.xsd"
# An instant must carry its UTC offset; a date must not carry one.
DATETIME_PATTERN = r".+T.+(Z|[+\-][0-9]{2}:[0-9]{2})"
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"


def _without_discriminators(node: Any) -> Any:
    """The schema without pydantic's ``discriminator`` objects. They are OpenAPI's, not JSON
    Schema's, and AsyncAPI's schema format (which reads the payloads) wants a property name there
    and refuses the document. Nothing is lost: each ``oneOf`` branch fixes its ``kind`` with a
    ``const``, which is what tells the branches apart."""
    if isinstance(node, dict):
        return {
            key: _without_discriminators(value)
            for key, value in node.items()
            if not (key == "discriminator" and isinstance(value, dict))
        }
    if isinstance(node, list):
        return [_without_discriminators(value) for value in node]
    return node


def json_schema(kind: str) -> dict[str, Any]:
    schema = _without_discriminators(MESSAGE_TYPES[kind].model_json_schema())  # type: ignore[index]
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"{NAMESPACE}:{kind}", **schema}


def json_schema_files() -> dict[str, str]:
    """File name -> content of every JSON Schema."""
    return {
        f"{kind}.json": json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"
        for kind in MESSAGE_TYPES
    }


def _xs(tag: str, parent: etree._Element | None = None, **attrs: str) -> etree._Element:
    if parent is None:
        return etree.Element(f"{{{XS}}}{tag}", attrs, nsmap={"xs": XS, "hub": NAMESPACE})
    return etree.SubElement(parent, f"{{{XS}}}{tag}", attrs)


def _document(parent: etree._Element, text: str | None) -> None:
    if text:
        annotation = _xs("annotation", parent)
        _xs("documentation", annotation).text = " ".join(text.split())


def _xsd_pattern(pattern: str) -> str:
    # XSD patterns are anchored already and know no ^ or $.
    if not (pattern.startswith("^") and pattern.endswith("$")) or "\\d" in pattern or "(?" in pattern:
        raise ValueError(f"pattern {pattern!r} has no plain XSD equivalent")
    return pattern[1:-1]


def _simple_restriction(parent: etree._Element, schema: dict[str, Any]) -> None:
    json_type = schema.get("type")
    simple = _xs("simpleType", parent)
    if json_type == "integer":
        restriction = _xs("restriction", simple, base="xs:long")
        for key, facet in (
            ("minimum", "minInclusive"),
            ("exclusiveMinimum", "minExclusive"),
            ("maximum", "maxInclusive"),
            ("exclusiveMaximum", "maxExclusive"),
        ):
            if key in schema:
                _xs(facet, restriction, value=str(schema[key]))
        return
    fmt = schema.get("format")
    if fmt == "date-time":
        restriction = _xs("restriction", simple, base="xs:dateTime")
        _xs("pattern", restriction, value=DATETIME_PATTERN)
        return
    if fmt == "date":
        restriction = _xs("restriction", simple, base="xs:date")
        _xs("pattern", restriction, value=DATE_PATTERN)
        return
    if fmt is not None:
        raise ValueError(f"string format {fmt!r} has no XSD mapping")
    restriction = _xs("restriction", simple, base="xs:string")
    values = [schema["const"]] if "const" in schema else schema.get("enum", [])
    for value in values:
        _xs("enumeration", restriction, value=str(value))
    if "minLength" in schema:
        _xs("minLength", restriction, value=str(schema["minLength"]))
    if "maxLength" in schema:
        _xs("maxLength", restriction, value=str(schema["maxLength"]))
    if "pattern" in schema:
        _xs("pattern", restriction, value=_xsd_pattern(schema["pattern"]))


def _element(sequence: etree._Element, f: FieldLayout) -> None:
    attrs = {"name": f.element}
    if f.min_occurs != 1:
        attrs["minOccurs"] = str(f.min_occurs)
    if f.max_occurs != 1:
        attrs["maxOccurs"] = "unbounded" if f.max_occurs is None else str(f.max_occurs)
    if f.shape == "object" or (f.shape == "scalar" and f.type_name is not None):
        attrs["type"] = f"hub:{f.type_name}"
    elif f.shape == "scalar" and f.json_type == "boolean":
        attrs["type"] = "xs:boolean"
    element = _xs("element", sequence, **attrs)
    _document(element, f.description)
    if f.shape == "choice":
        complex_type = _xs("complexType", element)
        choice = _xs("choice", complex_type)
        for name, (_, type_name) in f.choices.items():
            _xs("element", choice, name=name, type=f"hub:{type_name}")
    elif "type" not in attrs:
        _simple_restriction(element, f.schema)


def xsd_document() -> bytes:
    """The XSD of every v1 message, generated from the models."""
    lay = layout()
    root = _xs("schema", None, targetNamespace=NAMESPACE, elementFormDefault="qualified", version="1")
    _document(
        root,
        "XML form of the v1 messages between the agency's hub and bailiff offices. Generated from the "
        "models in schemas/v1 by `python -m schemas.export`: do not edit by hand. Amounts are integer "
        "cents (xs:long); every message starts with its envelope.",
    )
    for element, type_name in lay.roots.items():
        _document(
            _xs("element", root, name=element, type=f"hub:{type_name}"), lay.types[type_name].description
        )
    batch = _xs("element", root, name=BATCH_ROOT)
    _document(
        batch, "A batch file of act reports, each with its own envelope; read as a stream, record by record."
    )
    batch_seq = _xs("sequence", _xs("complexType", batch))
    _xs("element", batch_seq, ref=f"hub:{BATCH_RECORD}", minOccurs="0", maxOccurs="unbounded")
    for name in sorted(lay.types):
        type_layout = lay.types[name]
        complex_type = _xs("complexType", root, name=name)
        _document(complex_type, type_layout.description)
        sequence = _xs("sequence", complex_type)
        for f in type_layout.fields:
            _element(sequence, f)
    for name in sorted(lay.enums):
        enum = lay.enums[name]
        simple = _xs("simpleType", root, name=name)
        _document(simple, enum.get("description"))
        restriction = _xs("restriction", simple, base="xs:string")
        for value in enum["enum"]:
            _xs("enumeration", restriction, value=str(value))
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def generated_files() -> dict[Path, bytes]:
    """Every generated file and its expected content."""
    files = {JSON_SCHEMA_DIR / name: text.encode() for name, text in json_schema_files().items()}
    files[XSD_DIR / XSD_FILE] = xsd_document()
    files[ASYNCAPI_PATH] = document_yaml().encode()
    return files


def stale_files() -> list[Path]:
    """Generated files that are missing or differ from what the models produce."""
    return [
        path
        for path, content in generated_files().items()
        if not path.exists() or path.read_bytes() != content
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.export", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report files that differ; exit 1 if any")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path}; run python -m schemas.export", file=sys.stderr)
        return 1 if stale else 0
    for path, content in generated_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
