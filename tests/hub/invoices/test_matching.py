"""The three-way match as tables: one case per finding code, both sides of each threshold. Pure."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from hub.invoices.matching import (
    ActFacts,
    Billed,
    Facts,
    LineToMatch,
    Tariff,
    invoice_state,
    is_disbursement,
    match_lines,
    tariff_ceiling_cents,
)

OFFICE = uuid.uuid4()
OTHER = uuid.uuid4()
MANDATE = uuid.uuid4()
# Flat disbursements (travel...) are in the VAT base; a true pass-through cost is not (DOMAIN.md, Fees).
TARIFF = Tariff(
    "2024-03",
    emolument_cents=5158,
    engagement_fee_cents=0,
    vat_rate_bp=2000,
    vat_base_disbursements=frozenset({"TRAVEL", "POLICE"}),
)
WITH_DEP = Tariff("2024-03", emolument_cents=4084, engagement_fee_cents=3504, vat_rate_bp=2000)


def act(**changes: Any) -> ActFacts:
    base = ActFacts(
        id=uuid.uuid4(),
        office_id=OFFICE,
        office_reference="A/1",
        act_code="SERVE_TITLE",
        act_date=date(2026, 3, 2),
        case_id=uuid.uuid4(),
        mandate_id=MANDATE,
        disbursements_cents=880,
        flagged=False,
        approval_id=None,
        in_mandate=True,
        tariff=TARIFF,
    )
    return replace(base, **changes)


def facts(*acts: ActFacts, **changes: Any) -> Facts:
    base = Facts(
        office_id=OFFICE,
        by_id={str(a.id): a for a in acts},
        by_reference={a.office_reference: a for a in acts if a.office_id == OFFICE},
        by_approval={a.approval_id: a for a in acts if a.approval_id},
    )
    return replace(base, **changes)


def fee(net: int = 5158, vat: int = 2000, ref: str | None = "A/1", **changes: Any) -> LineToMatch:
    return LineToMatch(line_id="1", net_cents=net, vat_rate_bp=vat, office_act_reference=ref, **changes)


def disb(net: int = 880, vat: int = 0, ref: str = "A/1", code: str | None = "DISBURSEMENT") -> LineToMatch:
    return LineToMatch(
        line_id="2",
        net_cents=net,
        vat_rate_bp=vat,
        office_act_reference=ref,
        act_code=code,
        disbursement=True,
    )


def codes(lines: list[LineToMatch], f: Facts) -> list[list[str]]:
    return [[x.code.value for x in r.findings] for r in match_lines(lines, f)]


A = act()
FLAGGED = act(flagged=True)
FLAGGED_APPROVED = act(flagged=True, approval_id="APR-1")
OUTSIDE = act(in_mandate=False)
THEIRS = act(office_id=OTHER, office_reference="B/1", approval_id="APR-B")
PAYMENT_ORDER = act(act_code="PAYMENT_ORDER", tariff=WITH_DEP)
NO_TARIFF = act(tariff=None)

CASES = [
    # (name, lines, facts, expected codes per line)
    ("matched by the office's reference", [fee()], facts(A), [[]]),
    ("matched by our act id", [fee(ref=None, hub_act_id=str(A.id))], facts(A), [[]]),
    (
        "matched by the approval id",
        [fee(ref=None, approval_id="APR-1")],
        facts(FLAGGED_APPROVED, approved=frozenset({("APR-1", MANDATE, "SERVE_TITLE")})),
        [[]],
    ),
    ("unknown reference", [fee(ref="A/404")], facts(A), [["act_unknown"]]),
    ("no act at all", [fee()], facts(), [["act_unknown"]]),
    (
        "another office's act by our id",
        [fee(ref=None, hub_act_id=str(THEIRS.id))],
        facts(THEIRS),
        [["other_office_case"]],
    ),
    (
        "another office's act by approval id",
        [fee(ref=None, approval_id="APR-B")],
        facts(THEIRS),
        [["other_office_case"]],
    ),
    ("flagged without approval", [fee()], facts(FLAGGED), [["act_not_mandated"]]),
    (
        "flagged, approved on the act report",
        [fee()],
        facts(FLAGGED_APPROVED, approved=frozenset({("APR-1", MANDATE, "SERVE_TITLE")})),
        [[]],
    ),
    # Flagged although it quotes an approval: the approval did not count (pending, refused, another act).
    ("flagged, quoting an approval not given", [fee()], facts(FLAGGED_APPROVED), [["act_not_mandated"]]),
    (
        "flagged, approval quoted on the line only",
        [fee(approval_id="APR-9")],
        facts(FLAGGED, approved=frozenset({("APR-9", MANDATE, "SERVE_TITLE")})),
        [[]],
    ),
    (
        "flagged, approval of another act code",
        [fee(approval_id="APR-9")],
        facts(FLAGGED, approved=frozenset({("APR-9", MANDATE, "SUMMONS")})),
        [["act_not_mandated"]],
    ),
    ("not in its per-act mandate", [fee()], facts(OUTSIDE), [["act_not_mandated"]]),
    (
        "not in its mandate, approved",
        [fee(approval_id="APR-2")],
        facts(OUTSIDE, approved=frozenset({("APR-2", MANDATE, "SERVE_TITLE")})),
        [[]],
    ),
    ("twice on one invoice", [fee(), fee()], facts(A), [[], ["billed_twice"]]),
    ("on an earlier invoice", [fee()], facts(A, billed={A.id: Billed(fee_lines=1)}), [["billed_twice"]]),
    ("earlier billed then credited", [fee()], facts(A, billed={A.id: Billed(fee_lines=0)}), [[]]),
    (
        "a credit line is never billed twice",
        [fee(net=-5158)],
        facts(A, billed={A.id: Billed(fee_lines=1)}),
        [[]],
    ),
    (
        "credited more than billed: released once, not twice",
        [fee(), fee()],
        facts(A, billed={A.id: Billed(fee_lines=-1)}),
        [[], ["billed_twice"]],
    ),
    (
        "a credit line before two fee lines releases nothing unbilled",
        [fee(net=-5158), fee(), fee()],
        facts(A),
        [[], [], ["billed_twice"]],
    ),
    ("fees and a disbursement of one act are not twice", [fee(), disb()], facts(A), [[], []]),
    ("at the tariff", [fee(net=5158)], facts(A), [[]]),
    ("one cent above the tariff", [fee(net=5159)], facts(A), [["above_tariff"]]),
    ("emolument + engagement fee", [fee(net=4084 + 3504)], facts(PAYMENT_ORDER), [[]]),
    ("above emolument + engagement fee", [fee(net=4084 + 3505)], facts(PAYMENT_ORDER), [["above_tariff"]]),
    (
        "a dearer act code on the line: the reported act's tariff",
        [fee(net=4084 + 3504, act_code="PAYMENT_ORDER")],
        facts(A),
        [["above_tariff"]],
    ),
    ("no tariff in force: no tariff check", [fee(net=99999, vat=550)], facts(NO_TARIFF), [[]]),
    ("fees at 10 %", [fee(vat=1000)], facts(A), [["vat_wrong"]]),
    ("fees at 0 %", [fee(vat=0, act_code="SERVE_TITLE")], facts(A), [["vat_wrong"]]),
    ("disbursement with VAT", [disb(vat=2000)], facts(A), [["vat_wrong"]]),
    ("flat disbursement at the tariff's VAT", [disb(code="TRAVEL", vat=2000)], facts(A), [[]]),
    ("flat disbursement without VAT", [disb(code="TRAVEL", vat=0)], facts(A), [["vat_wrong"]]),
    ("flat disbursement at another rate", [disb(code="POLICE", vat=1000)], facts(A), [["vat_wrong"]]),
    ("pass-through disbursement without VAT", [disb(code="LOCKSMITH", vat=0)], facts(A), [[]]),
    ("disbursement without a code, at 0 %", [disb(code=None, vat=0)], facts(A), [[]]),
    ("disbursement as claimed", [disb(net=880)], facts(A), [[]]),
    ("disbursement one cent above", [disb(net=881)], facts(A), [["disbursement_unjustified"]]),
    (
        "two disbursement lines above together",
        [disb(net=500), disb(net=381)],
        facts(A),
        [[], ["disbursement_unjustified"]],
    ),
    (
        "disbursement above with earlier invoices",
        [disb(net=100)],
        facts(A, billed={A.id: Billed(disbursements_cents=800)}),
        [["disbursement_unjustified"]],
    ),
    (
        "disbursements credited more than billed release nothing unbilled",
        [disb(net=-500), disb(net=881)],
        facts(A, billed={A.id: Billed(disbursements_cents=-300)}),
        [[], ["disbursement_unjustified"]],
    ),
    (
        "several findings, the first is the result",
        [fee(net=9999, vat=1000)],
        facts(FLAGGED, billed={FLAGGED.id: Billed(fee_lines=1)}),
        [["act_not_mandated", "billed_twice", "above_tariff", "vat_wrong"]],
    ),
]


@pytest.mark.parametrize(("name", "lines", "f", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_rule(name: str, lines: list[LineToMatch], f: Facts, expected: list[list[str]]) -> None:
    assert codes(lines, f) == expected


def test_the_result_is_the_first_finding_and_the_state_follows() -> None:
    results = match_lines([fee(), fee(net=9999, vat=1000)], facts(A))
    assert [r.code for r in results] == ["matched", "billed_twice"]
    assert "above_tariff" in results[1].detail() and "51.58" in results[1].detail()
    assert invoice_state(results) == "disputed"
    assert invoice_state(results[:1]) == "matched"


def test_another_offices_act_is_not_described() -> None:
    [result] = match_lines([fee(ref=None, hub_act_id=str(THEIRS.id))], facts(THEIRS))
    assert result.act is None
    assert "B/1" not in result.detail() and str(THEIRS.case_id) not in result.detail()


@pytest.mark.parametrize(
    ("code", "vat", "expected"),
    [
        ("DISBURSEMENT", 0, True),
        ("POLICE", 2000, True),
        ("SERVE_TITLE", 0, False),
        (None, 0, True),
        (None, 2000, False),
    ],
)
def test_what_a_disbursement_line_is(code: str | None, vat: int, expected: bool) -> None:
    assert is_disbursement(code, vat, frozenset({"POLICE", "WITNESS"})) is expected


def test_the_ceiling_is_emolument_plus_engagement_fee() -> None:
    assert tariff_ceiling_cents(WITH_DEP) == 4084 + 3504
