"""Signs of credit notes and the French legal ids of the parties."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.einvoice.model import DocumentKind, LegalId, Party
from tests.adapters.einvoice.test_rules import BASE


def test_sign_of_invoice_and_credit_note() -> None:
    assert (BASE.sign, BASE.signed(2579)) == (1, 2579)
    credit = replace(BASE, kind=DocumentKind.CREDIT_NOTE)
    assert (credit.sign, credit.signed(2579), credit.signed(-100)) == (-1, -2579, 100)
    assert [credit.signed(line.net_cents) for line in credit.lines] == [-2579, -2042, -3298]


@pytest.mark.parametrize(
    ("legal_id", "siret", "siren"),
    [
        (LegalId("83214765600025", "0009"), "83214765600025", "832147656"),
        (LegalId("83214765600025"), "83214765600025", "832147656"),
        (LegalId("832147656", "0002"), None, "832147656"),
        (LegalId("832147656"), None, "832147656"),
        (LegalId("DK12345678", "0184"), None, None),
        (LegalId("83214765600025", "0184"), None, None),
        (None, None, None),
    ],
)
def test_siret_and_siren(legal_id: LegalId | None, siret: str | None, siren: str | None) -> None:
    party = Party(name="SCP Martin", legal_id=legal_id)
    assert (party.siret, party.siren) == (siret, siren)
