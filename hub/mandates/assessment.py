"""Pure: the verdict on a mandate before it leaves. Runs the guardrails and the cost flag on every
act, each with the acts planned before it in the same mandate, and sorts what it finds into hard
blocks (the mandate is refused), reasons to hold it for a person, or nothing (it is issued).

No I/O: the service builds the case facts and passes them in.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from hub.policy import guardrails
from hub.policy.settings import DEFAULT_SETTINGS, PolicySettings
from hub.recovery import plausibility, stop_loss
from hub.recovery.evidence import eur
from hub.recovery.facts import ActRecord, CaseFacts
from hub.recovery.recovery_rates import RecoveryRates


@dataclass(frozen=True)
class Finding:
    """One reason about one act: ``kind`` is ``cost`` (the flag) or ``guardrail``."""

    act_code: str
    kind: str
    code: str
    message: str

    @property
    def reason_code(self) -> str:
        """The wire form (``cost.creditor_loses``, ``guardrail.vulnerable_debtor``)."""
        return f"{self.kind}.{self.code.lower()}"

    def as_dict(self) -> dict[str, str]:
        return {"act_code": self.act_code, "code": self.reason_code, "message": self.message}


@dataclass(frozen=True)
class Verdict:
    blocks: list[Finding] = field(default_factory=list)
    """Hard legal blocks: the mandate cannot be issued, even with an approval."""
    holds: list[Finding] = field(default_factory=list)
    """Why a person must approve it first (flagged cost, guardrail needing review)."""
    acts: list[dict[str, Any]] = field(default_factory=list)
    """Each act's assessment and guardrails, JSON-ready, as stored with the mandate."""

    @property
    def held(self) -> bool:
        return bool(self.holds)

    def as_dict(self) -> dict[str, Any]:
        return {
            "held": self.held,
            "reasons": [f.as_dict() for f in self.holds],
            "blocks": [f.as_dict() for f in self.blocks],
            "acts": self.acts,
        }


def _with(case: CaseFacts, planned: list[ActRecord]) -> CaseFacts:
    if not planned:
        return case
    return replace(case, acts=case.acts + tuple(planned))


def assess_per_act(
    case: CaseFacts,
    act_codes: list[str],
    on: date,
    *,
    office: str | None = None,
    rates: RecoveryRates | None = None,
    settings: PolicySettings = DEFAULT_SETTINGS,
) -> Verdict:
    """Each act is judged as if the acts listed before it were already ordered (not those after)."""
    verdict = Verdict()
    planned: list[ActRecord] = []
    stopped = stop_loss.check(case, settings.stop_loss_share_percent)
    for act_code in act_codes:
        facts = _with(case, planned)
        violations = guardrails.check(facts, act_code, on, settings=settings)
        assessment = plausibility.assess(facts, act_code, on, office=office, rates=rates)
        for v in violations:
            finding = Finding(act_code, "guardrail", v.code, v.message)
            (verdict.holds if v.needs_review else verdict.blocks).append(finding)
        if assessment.flagged:
            verdict.holds.extend(Finding(act_code, "cost", r.code, r.message) for r in assessment.reasons)
        stops = stopped is not None and weighed(assessment)
        if stopped is not None and stops:
            verdict.holds.append(Finding(act_code, "cost", stopped.code, stopped.message))
        verdict.acts.append(
            {
                "act_code": act_code,
                "cost_cents": assessment.cost_cents,
                "expected_recovery_cents": assessment.expected_recovery_cents,
                "expected_net_cents": assessment.expected_net_cents,
                "flagged": assessment.flagged,
                "stop_loss": stops,
                "guardrails": [
                    {"code": v.code, "message": v.message, "needs_review": v.needs_review, "source": v.source}
                    for v in violations
                ],
                "assessment": assessment.as_dict(),
            }
        )
        period = guardrails.title_period(facts, on, settings=settings)
        if period is not None:
            verdict.acts[-1]["title_period"] = period.explanation
        planned.append(ActRecord(act_code=act_code, on=on, office=office))
    return verdict


def weighed(assessment: plausibility.Assessment) -> bool:
    """The stop-loss holds acts spent on recovery, not a legal duty or a visit's outcome."""
    return all(reason.code != plausibility.NOT_WEIGHED for reason in assessment.reasons)


# Situations where the office must not start coercive acts on its own (guardrails, "situation").
SITUATIONS = {
    "vulnerable": (
        "VULNERABLE_DEBTOR",
        "The debtor is flagged vulnerable: a person reviews the mandate first.",
    ),
    "payment_plan_active": (
        "PAYMENT_PLAN_ACTIVE",
        "A payment plan is running: no enforcement while it is kept.",
    ),
    "disputed": ("CLAIM_DISPUTED", "The debtor disputes the claim: a person reviews the mandate first."),
    "insolvency_proceedings": (
        "INSOLVENCY_PROCEEDINGS",
        "Over-indebtedness declared admissible or collective proceedings opened: enforcement is "
        "suspended (art. L722-2 Code de la consommation, art. L622-21 Code de commerce).",
    ),
}


def assess_whole_file(
    case: CaseFacts, fee_budget_cents: int, on: date, *, settings: PolicySettings = DEFAULT_SETTINGS
) -> Verdict:
    """A whole-file mandate lets the office choose its acts: it is refused when insolvency
    proceedings bar enforcement (``guardrails.insolvency_bars``) or the case has ended for every act
    (the debtor deceased, the limitation reached: ``guardrails.case_ended``), held when the debtor's
    situation needs a person's review, when the case is past its stop-loss
    (``hub.recovery.stop_loss``), or when the fee budget exceeds what is owed (fees that cannot be
    recovered from the balance fall on the creditor)."""
    verdict = Verdict()
    stopped = stop_loss.check(case, settings.stop_loss_share_percent)
    if stopped is not None:
        verdict.holds.append(Finding("*", "cost", stopped.code, stopped.message))
    for v in guardrails.case_ended(case, on) + guardrails.insolvency_bars(case, on):
        (verdict.holds if v.needs_review else verdict.blocks).append(
            Finding("*", "guardrail", v.code, v.message)
        )
    for name, (code, message) in SITUATIONS.items():
        if name != "insolvency_proceedings" and getattr(case.evidence, name) is True:
            verdict.holds.append(Finding("*", "guardrail", code, message))
    owed = case.outstanding_cents
    if fee_budget_cents > owed:
        verdict.holds.append(
            Finding(
                "*",
                "cost",
                "BUDGET_ABOVE_BALANCE",
                f"The fee budget ({eur(fee_budget_cents, case.currency)}) is above the balance "
                f"owed ({eur(owed, case.currency)}).",
            )
        )
    return verdict
