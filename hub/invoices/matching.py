"""The three-way match of a fee invoice, pure: each line against the act report it names (what was
done and claimed) and the tariff in force on the act's date (what may be billed), with the mandate
and the approvals saying whether the act was ordered at all.

The service gathers the facts in a few queries (``ActFacts`` per act, ``Billed`` per act for the
office's earlier invoices) and calls ``match_lines``; nothing here reads a database or a clock.

A line is either the act's fees (emolument and the engagement fee, "droit d'engagement des
poursuites") or a disbursement ("débours"): its act code (BT-155) is a disbursement code of the
catalogue or ``DISBURSEMENT``; a line without an act code is a disbursement when its VAT rate is 0.
Beyond that, a fee line's act code is not compared with the act report's: the tariff and the
mandate checks always use the reported act, so billing an act under a dearer code cannot raise
what the line may bill.

Every finding of a line is kept, in the order below; the first is the line's result. The codes are
``schemas.v1.LineFinding``:

1. ``other_office_case``: the act (by our act id or an approval id) is another office's; nothing of
   it is said, not even its reference;
2. ``act_unknown``: no act report of this office has the line's references (then nothing else is
   checked);
3. ``act_not_mandated``: the act was reported as flagged (a negative expected net to the creditor or over its
   whole-file budget, and the approval it quoted, if any, did not count: ``hub.acts.assessment``),
   or is not among the acts of its per-act mandate, and no approval covers it (an approved approval
   for its mandate and act code, quoted on the act report or on the line);
4. ``billed_twice``: the act's fees are billed on an earlier line of this invoice or on an earlier
   invoice of the office, whatever its state (a disputed invoice may still be approved and paid),
   and not credited since: a credit line of the act counts minus one, so a credit note releases
   the act for a new invoice; credits beyond what was billed release nothing more;
5. ``above_tariff``: see ``tariff_ceiling_cents``;
6. ``vat_wrong``: a fee line whose VAT rate is not the rate of the tariff period of the act's date;
   a disbursement line whose VAT rate is not that rate when its code is a flat reimbursement of the
   tariff (travel, electronic service, witness, police: in the VAT base), or is not 0 otherwise (a
   true pass-through cost, or a line that does not say which disbursement it bills);
7. ``disbursement_unjustified``: the disbursement lines of the act, on this invoice and earlier ones
   (credits subtracted, never below zero), add up to more than the disbursements its act report
   claimed.

Credit lines (negative amounts) are matched to their act but never billed twice, above the tariff or
unjustified: they give money back.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from hub.kit.money import Money
from schemas.v1 import LineFinding

DISBURSEMENT_CODE = "DISBURSEMENT"


@dataclass(frozen=True)
class LineToMatch:
    """One invoice line as received (amounts signed: negative on a credit)."""

    line_id: str
    net_cents: int
    vat_rate_bp: int
    office_act_reference: str | None = None
    hub_act_id: str | None = None
    approval_id: str | None = None
    act_code: str | None = None
    disbursement: bool = False


@dataclass(frozen=True)
class Tariff:
    """What the tariff in force on the act's date allows for the act (``hub.tariff.catalogue.act_cost``)."""

    period: str
    emolument_cents: int
    engagement_fee_cents: int
    vat_rate_bp: int
    vat_base_disbursements: frozenset[str] = frozenset()
    """The disbursement codes of the period that are flat reimbursements, in the VAT base."""

    @property
    def ceiling_cents(self) -> int:
        return self.emolument_cents + self.engagement_fee_cents


@dataclass(frozen=True)
class ActFacts:
    """An act report and what the match needs of its mandate, approvals and tariff."""

    id: uuid.UUID
    office_id: uuid.UUID
    office_reference: str
    act_code: str
    act_date: date
    case_id: uuid.UUID
    mandate_id: uuid.UUID
    disbursements_cents: int
    flagged: bool
    approval_id: str | None
    in_mandate: bool
    """Ordered by its mandate: a whole-file mandate, or an act code among a per-act mandate's."""
    tariff: Tariff | None
    """None when no tariff period covers the act's date: nothing to compare with."""


@dataclass(frozen=True)
class Billed:
    """What earlier invoices and credit notes of the office, in any state, billed for one act."""

    fee_lines: int = 0
    """Fee lines billed minus fee lines credited."""
    disbursements_cents: int = 0


@dataclass(frozen=True)
class Finding:
    code: LineFinding
    detail: str


@dataclass(frozen=True)
class LineResult:
    line_id: str
    act: ActFacts | None
    findings: tuple[Finding, ...] = field(default=())

    @property
    def code(self) -> str:
        return self.findings[0].code.value if self.findings else "matched"

    @property
    def matched(self) -> bool:
        return not self.findings

    def detail(self) -> str:
        if not self.findings:
            return f"act {self.act.office_reference} ({self.act.act_code})" if self.act else ""
        return "; ".join(f"{f.code.value}: {f.detail}" for f in self.findings)


@dataclass(frozen=True)
class Facts:
    """Everything ``match_lines`` reads, gathered by the service."""

    office_id: uuid.UUID
    by_id: Mapping[str, ActFacts]
    """Act reports by our id (as text), of any office: a line may name another office's act."""
    by_reference: Mapping[str, ActFacts]
    """This office's act reports by its own reference."""
    by_approval: Mapping[str, ActFacts]
    """Act reports by the approval id they carry, of any office."""
    approved: frozenset[tuple[str, uuid.UUID, str]] = frozenset()
    """The approvals decided ``approved``, as (approval id, mandate id, act code)."""
    billed: Mapping[uuid.UUID, Billed] = field(default_factory=dict)


def _eur(cents: int) -> str:
    return Money(cents).display()


def _percent(bp: int) -> str:
    whole, rest = divmod(bp, 100)
    return f"{whole} %" if rest == 0 else f"{whole}.{rest:02d} %"


def tariff_ceiling_cents(tariff: Tariff) -> int:
    """The most a fee line may bill for one act: the act's emolument on the date (times the claim
    coefficient) plus the engagement fee when the act bears it.

    Why this figure: an invoice line bills the act's fees excl. VAT (BT-131), and the tariff fixes
    the emolument and the "droit d'engagement des poursuites" of the procedure the act opens. The
    engagement fee is counted in full even though it is charged once per procedure: whether an
    earlier act of the case bore it is in the office's books, not always in ours, so the ceiling is
    the most the tariff could allow, and a line above it is above the tariff whatever happened
    before. Disbursements are not in the ceiling: they are billed on lines of their own and checked
    against the act report (``disbursement_unjustified``); VAT is checked by rate (``vat_wrong``)."""
    return tariff.ceiling_cents


def _resolve(line: LineToMatch, facts: Facts) -> tuple[ActFacts | None, bool]:
    """The act the line names, and whether a reference pointed at another office's act."""
    other = False
    candidates = []
    if line.hub_act_id is not None:
        candidates.append(facts.by_id.get(line.hub_act_id))
    if line.office_act_reference is not None:
        candidates.append(facts.by_reference.get(line.office_act_reference))
    if line.approval_id is not None:
        candidates.append(facts.by_approval.get(line.approval_id))
    for act in candidates:
        if act is None:
            continue
        if act.office_id != facts.office_id:
            other = True
            continue
        return act, other
    return None, other


def _approved(line: LineToMatch, act: ActFacts, facts: Facts) -> bool:
    quoted = {a for a in (act.approval_id, line.approval_id) if a is not None}
    return any((approval, act.mandate_id, act.act_code) in facts.approved for approval in quoted)


def match_lines(lines: Sequence[LineToMatch], facts: Facts) -> list[LineResult]:
    """Each line's findings, in line order (see the module docstring for the rules)."""
    fee_lines: dict[uuid.UUID, int] = defaultdict(int)
    disbursed: dict[uuid.UUID, int] = defaultdict(int)
    for act_id, billed in facts.billed.items():
        fee_lines[act_id] = max(billed.fee_lines, 0)
        disbursed[act_id] = max(billed.disbursements_cents, 0)
    results = []
    for line in lines:
        act, other = _resolve(line, facts)
        if act is None:
            if other:
                finding = Finding(
                    LineFinding.OTHER_OFFICE_CASE,
                    "the act this line names belongs to another office's case; bill only your own acts",
                )
            else:
                refs = ", ".join(
                    f"{name} {value}"
                    for name, value in (
                        ("office act reference", line.office_act_reference),
                        ("hub act id", line.hub_act_id),
                        ("approval id", line.approval_id),
                    )
                    if value is not None
                )
                finding = Finding(
                    LineFinding.ACT_UNKNOWN, f"no act reported by this office has {refs or 'no reference'}"
                )
            results.append(LineResult(line.line_id, None, (finding,)))
            continue
        findings = _findings(line, act, facts, fee_lines, disbursed)
        results.append(LineResult(line.line_id, act, tuple(findings)))
    return results


def _findings(
    line: LineToMatch,
    act: ActFacts,
    facts: Facts,
    fee_lines: dict[uuid.UUID, int],
    disbursed: dict[uuid.UUID, int],
) -> list[Finding]:
    found = []
    approved = _approved(line, act, facts)
    if act.flagged and not approved:
        found.append(
            Finding(
                LineFinding.ACT_NOT_MANDATED,
                f"act {act.office_reference} ({act.act_code}) was flagged when reported (costing more than "
                "it could recover, over its mandate's budget, or breaking a hold the office had "
                "acknowledged) and no approval was given for it",
            )
        )
    elif not act.in_mandate and not approved:
        found.append(
            Finding(
                LineFinding.ACT_NOT_MANDATED,
                f"{act.act_code} is not among the acts of its mandate and no approval covers it",
            )
        )
    credit = line.net_cents < 0
    if not line.disbursement:
        if not credit and fee_lines[act.id] > 0:
            found.append(
                Finding(
                    LineFinding.BILLED_TWICE,
                    f"the fees of act {act.office_reference} are already billed on another line or invoice",
                )
            )
        fee_lines[act.id] = max(fee_lines[act.id] - 1, 0) if credit else fee_lines[act.id] + 1
        if act.tariff is not None:
            ceiling = tariff_ceiling_cents(act.tariff)
            if line.net_cents > ceiling:
                found.append(
                    Finding(
                        LineFinding.ABOVE_TARIFF,
                        f"billed {_eur(line.net_cents)}; the tariff {act.tariff.period} allows at most "
                        f"{_eur(ceiling)} for {act.act_code} on {act.act_date.isoformat()} (emolument "
                        f"{_eur(act.tariff.emolument_cents)} + engagement fee "
                        f"{_eur(act.tariff.engagement_fee_cents)})",
                    )
                )
            if line.vat_rate_bp != act.tariff.vat_rate_bp:
                found.append(
                    Finding(
                        LineFinding.VAT_WRONG,
                        f"VAT {_percent(line.vat_rate_bp)} on fees; the rate on "
                        f"{act.act_date.isoformat()} is {_percent(act.tariff.vat_rate_bp)}",
                    )
                )
        return found
    tariff = act.tariff
    if tariff is not None and line.act_code in tariff.vat_base_disbursements:
        if line.vat_rate_bp != tariff.vat_rate_bp:
            found.append(
                Finding(
                    LineFinding.VAT_WRONG,
                    f"VAT {_percent(line.vat_rate_bp)} on {line.act_code}, a flat reimbursement in the "
                    f"VAT base; the rate on {act.act_date.isoformat()} is {_percent(tariff.vat_rate_bp)}",
                )
            )
    elif line.vat_rate_bp != 0:
        found.append(
            Finding(
                LineFinding.VAT_WRONG,
                f"VAT {_percent(line.vat_rate_bp)} on a disbursement passed on at cost, outside the VAT "
                "base; a flat reimbursement names its code (TRAVEL, POLICE...)",
            )
        )
    disbursed[act.id] = max(disbursed[act.id] + line.net_cents, 0)
    if not credit and disbursed[act.id] > act.disbursements_cents:
        found.append(
            Finding(
                LineFinding.DISBURSEMENT_UNJUSTIFIED,
                f"disbursements billed for act {act.office_reference} add up to "
                f"{_eur(disbursed[act.id])}; its act report claimed {_eur(act.disbursements_cents)}",
            )
        )
    return found


def is_disbursement(act_code: str | None, vat_rate_bp: int, disbursement_codes: frozenset[str]) -> bool:
    """Whether a line bills a disbursement rather than the act's fees (see the module docstring)."""
    if act_code is None:
        return vat_rate_bp == 0
    return act_code == DISBURSEMENT_CODE or act_code in disbursement_codes


def invoice_state(results: Sequence[LineResult]) -> str:
    """``matched`` when every line is, else ``disputed``."""
    return "matched" if all(r.matched for r in results) else "disputed"
