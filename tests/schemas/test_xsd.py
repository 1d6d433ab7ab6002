"""The XSD and the models agree: on every sample, the XSD refuses exactly what is a schema error."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from schemas.v1 import XSD_DIR
from tests.schemas.samples import expected, ids, invalid, valid

XSD = etree.XMLSchema(etree.parse(str(XSD_DIR / "edi.xsd")))
VALID_XML = valid(".xml") + valid(".xml", batches=True)
INVALID_XML = invalid(".xml")


def _parse(path: Path) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(path.read_bytes(), parser)


@pytest.mark.parametrize("path", VALID_XML, ids=ids(VALID_XML))
def test_valid_sample_is_valid_for_the_xsd(path: Path) -> None:
    XSD.assertValid(_parse(path))


@pytest.mark.parametrize("path", INVALID_XML, ids=ids(INVALID_XML))
def test_the_xsd_refuses_exactly_the_schema_errors(path: Path) -> None:
    codes = {e["code"] for e in expected(path)["errors"]}
    is_schema_error = bool(codes & {"xml.schema", "xml.unknown_root"})
    assert XSD.validate(_parse(path)) is not is_schema_error, XSD.error_log


def test_the_xsd_refuses_the_bad_batch_record() -> None:
    (path,) = invalid(".xml", batches=True)
    assert not XSD.validate(_parse(path))
