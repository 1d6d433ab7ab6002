"""Our rules on a canonical invoice before it is matched: the VAT total agrees with the lines. Pure."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from hub.acts.models import ActReport
from hub.cases.models import Case
from hub.invoices import service
from hub.offices.models import Office
from hub.tariff import load_catalogue
from schemas import v1
from tests.hub.invoices.einvoices import SIRET

OFFICE = Office(code="CJ75001", name="Étude", siret=SIRET)
RATES = st.sampled_from([0, 550, 1000, 2000])
LINES = st.lists(st.tuples(st.integers(-(10**9), 10**9), RATES), min_size=1, max_size=60)


def invoice(lines: list[tuple[int, int]], vat: int) -> v1.FeeInvoice:
    net = sum(cents for cents, _ in lines)
    return v1.FeeInvoice(
        envelope=v1.Envelope(
            message_id="FAC-1",
            kind="fee_invoice",
            version="1",
            sender="CJ75001",
            recipient="AGENCY",
            sent_at=datetime(2026, 3, 31, 18, tzinfo=UTC),
        ),
        invoice_number="F-1",
        issue_date=date(2026, 3, 31),
        seller=v1.Seller(office_code="CJ75001", siret=SIRET, name="SCP Martin"),
        lines=[
            v1.InvoiceLine(office_act_reference=f"A/{n}", description="x", net_cents=cents, vat_rate_bp=rate)
            for n, (cents, rate) in enumerate(lines)
        ],
        total_net_cents=net,
        total_vat_cents=vat,
        total_gross_cents=net + vat,
    )


def per_rate_vat(lines: list[tuple[int, int]]) -> int:
    """The VAT of each rate's taxable amount, rounded to the cent (EN 16931 BR-CO-17), summed."""
    basis: dict[int, int] = defaultdict(int)
    for cents, rate in lines:
        basis[rate] += cents
    return sum(service._vat_cents(cents, rate) for rate, cents in basis.items())


def codes(found: v1.FeeInvoice) -> list[str]:
    return [e.code for e in service.rule_errors(found, OFFICE)]


def test_a_vat_total_the_lines_do_not_carry_is_refused() -> None:
    # 51.58 at 20 % is 10.32 of VAT; billed 20.00, the agency would pay 9.68 too much.
    assert codes(invoice([(5158, 2000)], 1032)) == []
    assert codes(invoice([(5158, 2000)], 2000)) == ["invoice.total_vat_mismatch"]
    assert codes(invoice([(5158, 2000), (880, 0)], 1032 + 176)) == ["invoice.total_vat_mismatch"]
    assert codes(invoice([(-5158, 2000)], -2000)) == ["invoice.total_vat_mismatch"]  # a credit note


@given(LINES)
def test_vat_per_rate_or_per_line_is_accepted(lines: list[tuple[int, int]]) -> None:
    assert codes(invoice(lines, per_rate_vat(lines))) == []
    # Rounded per line then summed: within a cent per line of the per-rate figure.
    assert codes(invoice(lines, sum(service._vat_cents(c, r) for c, r in lines))) == []


@given(LINES, st.sampled_from([-1, 1]))
def test_vat_off_by_a_unit_per_rate_is_refused(lines: list[tuple[int, int]], sign: int) -> None:
    taxed = len({rate for _, rate in lines if rate})
    off = sign * (100 * taxed or 1)  # at 0 % the VAT is exactly 0
    assert codes(invoice(lines, per_rate_vat(lines) + off)) == ["invoice.total_vat_mismatch"]


def test_the_tariff_of_an_act_knows_its_flat_disbursements() -> None:
    # DOMAIN.md, Fees: only true pass-through costs are outside the VAT base; flat reimbursements are not.
    act = ActReport(act_code="SERVE_TITLE", act_date=date(2026, 3, 2))
    case = Case(principal_cents=100_000, interest_cents=0, costs_cents=0)
    tariff = service._tariff(act, case, load_catalogue())
    assert tariff is not None and tariff.vat_rate_bp == 2000
    assert tariff.vat_base_disbursements == {"TRAVEL", "ELECTRONIC_SERVICE", "WITNESS", "POLICE"}
