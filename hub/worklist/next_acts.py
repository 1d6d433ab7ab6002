"""The possible next acts of a case, ranked by the creditor's expected net: pure, no I/O.

Each act the agency can order (every act of the catalogue but the outcomes of a visit: a PV de
carence, a PV 659, an attempted execution are reported, never ordered) is judged with the hub's
one cost model (``hub.recovery.plausibility.assess``: cost, expected recovery, expected net and
why) and its guardrails (``hub.policy.guardrails.check``) and stop-loss (``hub.recovery.stop_loss``),
as ``POST /v1/acts/assess`` judges one act. An act a hard guardrail blocks (insolvency, limitation,
debtor deceased, no enforceable title...) is listed as ``blocked`` with the reason, not hidden; one
that needs a person's review first (a hold on the case: vulnerable debtor, payment plan, dispute;
pacing; stop-loss) as ``review``; the others ``open``. Blocked acts come last; the rest by expected
net, the highest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hub.mandates.assessment import weighed
from hub.policy import guardrails
from hub.policy.settings import PolicySettings
from hub.recovery import plausibility, stop_loss
from hub.recovery.assumptions import Assumptions
from hub.recovery.facts import CaseFacts
from hub.recovery.recovery_rates import RecoveryRates
from hub.tariff.catalogue import Catalogue

OPEN = "open"
REVIEW = "review"
BLOCKED = "blocked"


@dataclass(frozen=True)
class NextAct:
    act_code: str
    label: str  # English name, with the French one
    status: str  # open | review | blocked
    cost_cents: int
    expected_recovery_cents: int
    expected_net_cents: int
    currency: str
    explanation: str  # the cost model's verdict in one sentence
    reasons: tuple[tuple[str, str], ...]  # (code, message) of each guardrail or stop-loss met
    lines: tuple[str, ...]  # the cost model's full explanation, line by line


def orderable(catalogue: Catalogue, assumptions: Assumptions) -> list[str]:
    """The acts one orders: not the outcomes of a visit."""
    return sorted(code for code in catalogue.acts if assumptions.role(code).outcome_of is None)


def next_acts(
    case: CaseFacts,
    on: date,
    *,
    catalogue: Catalogue,
    assumptions: Assumptions,
    settings: PolicySettings,
    rates: RecoveryRates | None = None,
    office: str | None = None,
) -> list[NextAct]:
    stopped = stop_loss.check(case, settings.stop_loss_share_percent)
    found = []
    for code in orderable(catalogue, assumptions):
        act = catalogue.acts[code]
        assessment = plausibility.assess(
            case, code, on, office=office, rates=rates, assumptions=assumptions, catalogue=catalogue
        )
        violations = guardrails.check(case, code, on, settings=settings)
        reasons = [(v.code, v.message) for v in violations]
        if stopped is not None and weighed(assessment):
            reasons.append((stopped.code, stopped.message))
        if guardrails.hard_blocks(violations):
            status = BLOCKED
        elif reasons:
            status = REVIEW
        else:
            status = OPEN
        verdict = assessment.reasons[0].message if assessment.reasons else ""
        found.append(
            NextAct(
                act_code=code,
                label=f"{act.label_en} ({act.name_fr})",
                status=status,
                cost_cents=assessment.cost_cents,
                expected_recovery_cents=assessment.expected_recovery_cents,
                expected_net_cents=assessment.expected_net_cents,
                currency=case.currency,
                explanation=verdict,
                reasons=tuple(reasons),
                lines=tuple(assessment.explanation.lines(case.currency)),
            )
        )
    return sorted(found, key=lambda a: (a.status == BLOCKED, -a.expected_net_cents, a.act_code))
