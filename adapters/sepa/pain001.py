"""The SEPA credit transfer initiation file, ISO 20022 ``pain.001.001.09``, built with lxml.

One group header, one payment information block (the debtor: the agency's account, one requested
execution date, service level SEPA, charges shared ``SLEV``) and one credit transfer per payment.
Amounts are integer cents written exactly (``12345`` -> ``123.45``); ``NbOfTxs`` and ``CtrlSum`` are
counted from the transfers themselves. IBAN and BIC are checked with python-stdnum: a file is never
written with an account a bank would refuse (``check_account`` says why, for the caller to leave the
payment out). Free texts are written in the EPC's basic Latin character set (``sepa_text``: accents
dropped, anything else a space, as banks expect even where the XSD would take more) and cut to the
standard's lengths (names 70, remittance 140, ids 35).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
MAX_ID = 35
MAX_NAME = 70
MAX_REMITTANCE = 140
# The most one SEPA credit transfer carries (EPC SCT rulebook, AT-04: 0.01 to 999,999,999.99 EUR).
MAX_TRANSFER_CENTS = 99_999_999_999
# The EPC's SEPA character set (EPC217-08, "Latin character set"): what every bank accepts.
OUTSIDE_SEPA = re.compile(r"[^A-Za-z0-9/?:().,'+ -]+")
# Letters Unicode does not decompose into a base letter and an accent.
LETTERS = str.maketrans(
    {
        "œ": "oe",
        "Œ": "OE",
        "æ": "ae",
        "Æ": "AE",
        "ß": "ss",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "&": "+",
    }
)


def sepa_text(text: str, limit: int) -> str:
    """``text`` in the SEPA character set, at most ``limit`` characters: accents and ligatures are
    decomposed to their letters (``Étude`` -> ``Etude``, ``œ`` -> ``oe``, ``Ø`` -> ``O``), ``&``
    becomes ``+``, any other character a space; spaces are collapsed. Raises ``ValueError`` when
    nothing is left."""
    plain = unicodedata.normalize("NFKD", text.translate(LETTERS))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    cleaned = " ".join(OUTSIDE_SEPA.sub(" ", plain).split())[:limit].rstrip()
    if not cleaned:
        raise ValueError(f"{text!r} has nothing a SEPA file can carry")
    return cleaned


@dataclass(frozen=True)
class Account:
    name: str
    iban: str
    bic: str | None = None  # optional for a SEPA creditor (IBAN-only), required for the debtor here


@dataclass(frozen=True)
class CreditTransfer:
    end_to_end_id: str  # up to 35 characters, returned on the bank statement
    amount_cents: int  # > 0, at most MAX_TRANSFER_CENTS
    creditor: Account
    remittance: str  # unstructured remittance information, e.g. the invoice number


@dataclass(frozen=True)
class PaymentFile:
    message_id: str  # up to 35 characters, unique per file
    created_at: datetime
    execution_date: date
    debtor: Account
    transfers: Sequence[CreditTransfer]
    currency: str = "EUR"


def amount_text(cents: int) -> str:
    """Integer cents as the file's decimal amount, exactly: 5 -> ``0.05``, 123456 -> ``1234.56``."""
    if type(cents) is not int or cents < 0:
        raise ValueError(f"an amount is a non-negative number of integer cents, got {cents!r}")
    return f"{cents // 100}.{cents % 100:02d}"


def normal_iban(value: str) -> str:
    return stdnum_iban.compact(value)


def normal_bic(value: str) -> str:
    return stdnum_bic.compact(value)


def check_account(iban: str | None, bic: str | None) -> list[tuple[str, str]]:
    """What is wrong with an account for a SEPA transfer, as ``(code, reason)``; empty when none.
    A missing BIC is fine (SEPA pays on the IBAN alone); a wrong one is not."""
    problems = []
    if not iban:
        problems.append(("payment.iban_missing", "no IBAN is registered"))
    else:
        try:
            stdnum_iban.validate(iban)
        except ValidationError as exc:
            problems.append(("payment.iban_invalid", f"the IBAN {iban!r} is not valid: {exc}"))
    if bic:
        try:
            stdnum_bic.validate(bic)
        except ValidationError as exc:
            problems.append(("payment.bic_invalid", f"the BIC {bic!r} is not valid: {exc}"))
    return problems


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NAMESPACE}}}{tag}", attrib)
    if text is not None:
        element.text = text
    return element


def _path(parent: etree._Element, tags: str, text: str) -> None:
    """``_path(x, "Id/IBAN", v)``: the chain of elements, the last one holding ``text``."""
    *chain, last = tags.split("/")
    for tag in chain:
        parent = _sub(parent, tag)
    _sub(parent, last, text)


def _agent(parent: etree._Element, tag: str, bic: str) -> None:
    _path(_sub(parent, tag), "FinInstnId/BICFI", normal_bic(bic))


def pain001(payment: PaymentFile) -> bytes:
    """The file's bytes (UTF-8, with its XML declaration). Raises ``ValueError`` on an account that
    ``check_account`` refuses, an amount a transfer cannot carry, an empty file or an id too long:
    the caller filters first."""
    if not payment.transfers:
        raise ValueError("a payment file needs at least one transfer")
    if any(not 0 < t.amount_cents <= MAX_TRANSFER_CENTS for t in payment.transfers):
        raise ValueError(
            f"every transfer pays a positive amount of at most {amount_text(MAX_TRANSFER_CENTS)}"
        )
    for account in (payment.debtor, *(t.creditor for t in payment.transfers)):
        if problems := check_account(account.iban, account.bic):
            raise ValueError(f"{account.name}: {problems[0][1]}")
    if payment.debtor.bic is None:
        raise ValueError("the debtor's BIC is required")
    ids = [payment.message_id, *(t.end_to_end_id for t in payment.transfers)]
    if any(not 0 < len(i) <= MAX_ID for i in ids):
        raise ValueError(f"ids are 1 to {MAX_ID} characters: {ids}")
    count = str(len(payment.transfers))
    total = amount_text(sum(t.amount_cents for t in payment.transfers))

    document = etree.Element(f"{{{NAMESPACE}}}Document", nsmap={None: NAMESPACE})
    initiation = _sub(document, "CstmrCdtTrfInitn")
    header = _sub(initiation, "GrpHdr")
    _sub(header, "MsgId", payment.message_id)
    _sub(header, "CreDtTm", payment.created_at.replace(microsecond=0).isoformat())
    _sub(header, "NbOfTxs", count)
    _sub(header, "CtrlSum", total)
    _path(header, "InitgPty/Nm", sepa_text(payment.debtor.name, MAX_NAME))

    block = _sub(initiation, "PmtInf")
    _sub(block, "PmtInfId", payment.message_id)
    _sub(block, "PmtMtd", "TRF")
    _sub(block, "NbOfTxs", count)
    _sub(block, "CtrlSum", total)
    _path(block, "PmtTpInf/SvcLvl/Cd", "SEPA")
    _path(block, "ReqdExctnDt/Dt", payment.execution_date.isoformat())
    _path(block, "Dbtr/Nm", sepa_text(payment.debtor.name, MAX_NAME))
    _path(block, "DbtrAcct/Id/IBAN", normal_iban(payment.debtor.iban))
    _agent(block, "DbtrAgt", payment.debtor.bic)
    _sub(block, "ChrgBr", "SLEV")
    for transfer in payment.transfers:
        tx = _sub(block, "CdtTrfTxInf")
        _path(tx, "PmtId/EndToEndId", transfer.end_to_end_id)
        _sub(_sub(tx, "Amt"), "InstdAmt", amount_text(transfer.amount_cents), Ccy=payment.currency)
        if transfer.creditor.bic:
            _agent(tx, "CdtrAgt", transfer.creditor.bic)
        _path(tx, "Cdtr/Nm", sepa_text(transfer.creditor.name, MAX_NAME))
        _path(tx, "CdtrAcct/Id/IBAN", normal_iban(transfer.creditor.iban))
        _path(tx, "RmtInf/Ustrd", sepa_text(transfer.remittance, MAX_REMITTANCE))
    return bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True))
