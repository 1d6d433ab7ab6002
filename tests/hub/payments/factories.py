"""Approved invoices of offices with (or without) a bank account, and the official pain.001.001.09
XSD the files are checked against: the one the ``sepaxml`` package installs (a dev dependency), read
in place, never copied into the repository."""

from __future__ import annotations

import pathlib
from datetime import date
from decimal import Decimal
from functools import cache

import sepaxml
from lxml import etree
from sqlalchemy.ext.asyncio import AsyncSession

from hub.invoices.models import Invoice
from tests.hub.acts.factories import Seeded, seed
from tests.hub.finance.factories import LineSpec, act, approve, invoice

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
# Valid accounts (checksums right), paying nobody.
IBAN_FR = "FR1420041010050500013M02606"
IBAN_DE = "DE89370400440532013000"
BIC_FR = "PSSTFRPPPAR"
BIC_DE = "COBADEFFXXX"


@cache
def pain001_schema() -> etree.XMLSchema:
    xsd = pathlib.Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.09.xsd"
    return etree.XMLSchema(etree.parse(str(xsd)))


def check_pain001(document: bytes) -> etree._Element:
    """The file parsed, after asserting it is valid against the official XSD."""
    root = etree.fromstring(document)
    schema = pain001_schema()
    assert schema.validate(root), schema.error_log
    return root


def control_sum_cents(root: etree._Element) -> int:
    (text,) = root.xpath("//p:GrpHdr/p:CtrlSum/text()", namespaces=NS)
    return int(Decimal(text) * 100)


def transfers(root: etree._Element) -> dict[str, int]:
    """EndToEndId -> amount in cents, of every transfer of the file."""
    return {
        tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS): int(
            Decimal(tx.findtext("p:Amt/p:InstdAmt", namespaces=NS)) * 100
        )
        for tx in root.iterfind(".//p:CdtTrfTxInf", namespaces=NS)
    }


async def office_with_account(session: AsyncSession, iban: str | None, bic: str | None = None) -> Seeded:
    s = await seed(session)
    s.office.iban, s.office.bic = iban, bic
    await session.flush()
    return s


async def approved_invoice(
    session: AsyncSession, s: Seeded, net: int, vat: int, on: date = date(2026, 3, 2)
) -> Invoice:
    """An invoice of one act of ``s``'s office, matched, then approved by the real decision; a credit
    note (negative amounts) names no act."""
    done = await act(session, s, date(2026, 3, 1), emoluments=net, vat=vat) if net > 0 else None
    inv = await invoice(session, s, date(2026, 3, 1), [LineSpec(net, vat, act=done)])
    await approve(session, inv, on)
    return inv
