"""The pain.001.001.09 writer: amounts exact from integer cents, counts and control sums from the
transfers, every file valid against the official ISO 20022 XSD (the one ``sepaxml`` installs),
accounts checked with python-stdnum."""

from __future__ import annotations

import pathlib
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sepaxml
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from adapters.sepa import (
    MAX_TRANSFER_CENTS,
    Account,
    CreditTransfer,
    PaymentFile,
    amount_text,
    check_account,
    pain001,
)
from adapters.sepa.pain001 import sepa_text

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
SCHEMA = etree.XMLSchema(
    etree.parse(str(pathlib.Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.09.xsd"))
)
AGENCY = Account("Agence de recouvrement", "FR7630006000011234567890189", "BNPAFRPPXXX")
OFFICE = Account(
    "Étude Dupont & Associés, commissaires de justice", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX"
)


def payment(amounts: list[int], creditor: Account = OFFICE) -> PaymentFile:
    return PaymentFile(
        message_id="PR-test",
        created_at=datetime(2026, 12, 4, 20, 0, tzinfo=UTC),
        execution_date=date(2026, 12, 7),
        debtor=AGENCY,
        transfers=[
            CreditTransfer(f"E2E-{n}", cents, creditor, f"FACTURE-{n}") for n, cents in enumerate(amounts)
        ],
    )


def valid(document: bytes) -> etree._Element:
    root = etree.fromstring(document)
    assert SCHEMA.validate(root), SCHEMA.error_log
    return root


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (10, "0.10"),
        (99, "0.99"),
        (100, "1.00"),
        (6190, "61.90"),
        (123456789, "1234567.89"),
    ],
)
def test_amounts_are_written_exactly_from_cents(cents: int, text: str) -> None:
    assert amount_text(cents) == text


@pytest.mark.parametrize("bad", [-1, 1.5, Decimal("1")])
def test_an_amount_is_non_negative_integer_cents(bad: object) -> None:
    with pytest.raises(ValueError, match="integer cents"):
        amount_text(bad)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=MAX_TRANSFER_CENTS), min_size=1, max_size=8))
def test_counts_and_control_sums_are_the_transfers_own(amounts: list[int]) -> None:
    root = valid(pain001(payment(amounts)))
    total = f"{sum(amounts) // 100}.{sum(amounts) % 100:02d}"
    for block in ("p:GrpHdr", "p:PmtInf"):
        assert root.findtext(f".//{block}/p:NbOfTxs", namespaces=NS) == str(len(amounts))
        assert root.findtext(f".//{block}/p:CtrlSum", namespaces=NS) == total
    written = [Decimal(a) for a in root.xpath("//p:InstdAmt/text()", namespaces=NS)]
    assert written == [Decimal(c) / 100 for c in amounts] and sum(written) == Decimal(total)


def test_the_file_names_debtor_creditors_and_remittance() -> None:
    root = valid(pain001(payment([6190])))
    assert root.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == AGENCY.iban
    assert root.findtext(".//p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == "DE89370400440532013000"
    assert root.findtext(".//p:CdtrAgt/p:FinInstnId/p:BICFI", namespaces=NS) == "COBADEFFXXX"
    # In the EPC's Latin character set, as every bank reads it.
    assert (
        root.findtext(".//p:Cdtr/p:Nm", namespaces=NS) == "Etude Dupont + Associes, commissaires de justice"
    )
    assert root.findtext(".//p:RmtInf/p:Ustrd", namespaces=NS) == "FACTURE-0"
    assert root.findtext(".//p:EndToEndId", namespaces=NS) == "E2E-0"
    assert root.findtext(".//p:ReqdExctnDt/p:Dt", namespaces=NS) == "2026-12-07"
    assert root.findtext(".//p:SvcLvl/p:Cd", namespaces=NS) == "SEPA"


def test_a_creditor_without_bic_is_paid_on_its_iban_alone() -> None:
    root = valid(pain001(payment([100], Account("Étude", "FR1420041010050500013M02606"))))
    assert root.find(".//p:CdtrAgt", namespaces=NS) is None


def test_long_texts_are_cut_to_the_standards_lengths() -> None:
    long = PaymentFile(
        message_id="PR-long",
        created_at=datetime(2026, 12, 4, tzinfo=UTC),
        execution_date=date(2026, 12, 7),
        debtor=AGENCY,
        transfers=[CreditTransfer("E2E", 1, Account("N" * 200, OFFICE.iban), "R" * 300)],
    )
    root = valid(pain001(long))
    assert len(root.findtext(".//p:Cdtr/p:Nm", namespaces=NS)) == 70
    assert len(root.findtext(".//p:Ustrd", namespaces=NS)) == 140


@pytest.mark.parametrize(
    ("iban", "bic", "codes"),
    [
        ("FR1420041010050500013M02606", "PSSTFRPPPAR", []),
        ("FR1420041010050500013M02606", None, []),
        (None, None, ["payment.iban_missing"]),
        ("", "PSSTFRPPPAR", ["payment.iban_missing"]),
        ("FR1420041010050500013M02607", None, ["payment.iban_invalid"]),  # checksum
        ("FR14", None, ["payment.iban_invalid"]),
        ("FR1420041010050500013M02606", "PSST", ["payment.bic_invalid"]),
        ("XX00", "12345678", ["payment.iban_invalid", "payment.bic_invalid"]),
    ],
)
def test_accounts_are_checked_with_stdnum(iban: str | None, bic: str | None, codes: list[str]) -> None:
    assert [code for code, _ in check_account(iban, bic)] == codes


def test_a_file_is_never_written_with_a_bad_account_or_no_transfer() -> None:
    with pytest.raises(ValueError, match="IBAN"):
        pain001(payment([100], Account("Étude", "FR1420041010050500013M02607")))
    with pytest.raises(ValueError, match="at least one transfer"):
        pain001(payment([]))


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("Étude Lœvenbruck & Fils", "Etude Loevenbruck + Fils"),
        ("FAC_2026#17 «urgent»", "FAC 2026 17 urgent"),
        ("  SCP  Müller—Ørsted ", "SCP Muller Orsted"),
    ],
)
def test_free_texts_are_written_in_the_sepa_character_set(text: str, written: str) -> None:
    assert sepa_text(text, 70) == written
    assert set(written) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/?:().,'+ -")


def test_a_text_with_nothing_a_bank_reads_or_an_amount_a_transfer_cannot_carry_is_refused() -> None:
    with pytest.raises(ValueError, match="nothing a SEPA file can carry"):
        sepa_text("«»", 70)
    with pytest.raises(ValueError, match="positive amount"):
        pain001(payment([0]))
    # The EPC rulebook's ceiling for one transfer (AT-04): 999,999,999.99 is the most; a cent more is refused.
    assert b'<InstdAmt Ccy="EUR">999999999.99</InstdAmt>' in pain001(payment([MAX_TRANSFER_CENTS]))
    with pytest.raises(ValueError, match=r"at most 999999999\.99"):
        pain001(payment([MAX_TRANSFER_CENTS + 1]))
