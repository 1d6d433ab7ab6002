"""The after-the-fact check of an accepted act report, pure (no I/O): would it have left the creditor
worse off at the time (its expected net negative), did its fees take a whole-file mandate over its budget, and
does the approval it quotes cover it, did it break a hold its office had acknowledged. The service
reads the facts; nothing here reads a database.

An approval counts for a report only when it was decided ``approved``, for the report's mandate, and
for the reported act: a cost request's approval covers the act it was asked for; the approval a
held per-act mandate was issued with covers the acts that mandate orders. A pending approval, a
refused one or one for another act does not count (see ``docs/rules.md``, section 4).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from hub.kit.db import EncodedJson
from hub.kit.errors import InvalidInput
from hub.kit.money import Money
from hub.mandates.models import Approval, Mandate, MandateKind
from hub.recovery import plausibility
from hub.recovery.facts import CaseFacts
from hub.tariff.catalogue import Catalogue

APPROVED = "approved"
PENDING = "pending"
REFUSED = "refused"
OTHER_ACT = "other_act"

# Reason codes of a flagged report (``assessment["flags"]``).
COST_ABOVE_RECOVERY = "cost_above_recovery"
BUDGET_OVERRUN = "budget_overrun"
HOLD_BREACHED = "hold_breached"


def _eur(cents: int, currency: str) -> str:
    return Money(cents, currency).display()


@dataclass(frozen=True)
class ApprovalStanding:
    """What the approval a report quotes is worth for that report."""

    approval_id: str
    status: str  # approved | pending | refused | other_act
    message: str

    @property
    def counts(self) -> bool:
        return self.status == APPROVED

    def as_dict(self) -> dict[str, str]:
        return {"approval_id": self.approval_id, "status": self.status, "message": self.message}


def approval_standing(approval: Approval, mandate: Mandate, act_code: str) -> ApprovalStanding:
    """``approval`` (given on ``mandate``: the caller looked it up by mandate) for an act ``act_code``."""
    aid = approval.approval_id
    if approval.decision is None:
        return ApprovalStanding(aid, PENDING, f"approval {aid} is still waiting for the agency's decision")
    if approval.decision != APPROVED:
        return ApprovalStanding(aid, REFUSED, f"approval {aid} was refused by the agency")
    if approval.act_code == act_code:
        return ApprovalStanding(aid, APPROVED, f"approval {aid} approved {act_code} on mandate {mandate.ref}")
    if aid == mandate.approval_id and mandate.kind == MandateKind.PER_ACT.value and act_code in mandate.acts:
        return ApprovalStanding(
            aid, APPROVED, f"approval {aid} released mandate {mandate.ref} with the acts it orders"
        )
    if aid == mandate.approval_id:
        what = "mandate " + mandate.ref
    else:
        what = approval.act_code
    return ApprovalStanding(
        aid, OTHER_ACT, f"approval {aid} was given for {what}, not for {act_code}: ask with a cost request"
    )


@dataclass(frozen=True)
class BudgetUse:
    """A whole-file mandate's fee budget when the report arrived (fees excl. VAT, from the ledger)."""

    fee_budget_cents: int
    consumed_before_cents: int
    act_fees_cents: int
    currency: str

    @property
    def consumed_cents(self) -> int:
        return self.consumed_before_cents + self.act_fees_cents

    @property
    def overrun(self) -> bool:
        """This act's fees take (or keep) consumption above the budget."""
        return self.act_fees_cents > 0 and self.consumed_cents > self.fee_budget_cents

    def message(self) -> str:
        cur = self.currency
        return (
            f"budget {_eur(self.fee_budget_cents, cur)}, {_eur(self.consumed_before_cents, cur)} consumed "
            f"before; this act's fees {_eur(self.act_fees_cents, cur)} take it to "
            f"{_eur(self.consumed_cents, cur)}, {_eur(self.consumed_cents - self.fee_budget_cents, cur)} over"
        )

    def as_dict(self) -> dict[str, int | bool]:
        return {
            "fee_budget_cents": self.fee_budget_cents,
            "consumed_before_cents": self.consumed_before_cents,
            "act_fees_cents": self.act_fees_cents,
            "consumed_cents": self.consumed_cents,
            "overrun": self.overrun,
        }


class StoredAssessment(EncodedJson):
    """What is stored with an act report: its verdict's keys (``plausibility.Assessment.as_dict``),
    then the report's own (claimed, approval, budget, flags...). The verdict, which many reports
    share (a remembered one) and which is most of the text, is encoded once (``json_text``); each
    report encodes only its own keys. A verdict key changed or removed in place: encoded whole."""

    __slots__ = ("verdict",)

    def __init__(self, verdict: plausibility.Assessment | None = None, **own: Any) -> None:
        super().__init__(verdict.json_form if verdict is not None else (), **own)
        self.verdict = verdict

    def encoded(self) -> str:
        if self.verdict is None:
            return json.dumps(self)
        shared = self.verdict.json_form
        own: dict[str, Any] = {}
        seen = 0
        for key, value in self.items():
            if key in shared:
                if shared[key] is not value:
                    return json.dumps(self)
                seen += 1
            elif seen < len(shared):  # a key of its own among the verdict's: not in the verdict's order
                return json.dumps(self)
            else:
                own[key] = value
        if seen < len(shared) or not shared:
            return json.dumps(self)
        if not own:
            return self.verdict.json_text
        return f"{self.verdict.json_text[:-1]}, {json.dumps(own)[1:]}"


def after_the_fact(
    act_code: str,
    on: date,
    claimed_cents: int,
    facts: CaseFacts | None,
    office: str,
    assessor: plausibility.Assessor,
    *,
    budget: BudgetUse | None = None,
    approval: ApprovalStanding | None = None,
) -> tuple[bool, StoredAssessment]:
    """(flagged, what is stored with the report). Flagged when the act needed an approval (its cost
    destroying value for the creditor, or a budget overrun) and the one it quotes does not count, or when it
    quotes an approval the agency refused. ``flags`` lists each reason with its code and message.
    Missing or inconsistent case facts leave the cost unjudged, with the reason stored. ``assessor``:
    the learned rates and tariff the cost is judged with, remembering its verdicts for a set of
    reports."""
    needs: list[dict[str, str]] = []
    result: StoredAssessment
    if facts is None:
        result = StoredAssessment(available=False, reason="the case of the mandate was not found")
    else:
        try:
            assessed = assessor.assess(facts, act_code, on, office=office)
        except (InvalidInput, ValueError) as exc:
            result = StoredAssessment(available=False, reason=str(exc))
        else:
            result = StoredAssessment(assessed, available=True)
            if assessed.flagged:
                cur = facts.currency
                needs.append(
                    {
                        "code": COST_ABOVE_RECOVERY,
                        "message": f"the act cost {_eur(assessed.cost_cents, cur)} and could be expected "
                        f"to bring in {_eur(assessed.expected_recovery_cents, cur)} on {on.isoformat()}: "
                        f"the creditor could expect to lose {_eur(-assessed.expected_net_cents, cur)}",
                    }
                )
    if budget is not None and budget.overrun:
        needs.append({"code": BUDGET_OVERRUN, "message": budget.message()})
    flags: list[dict[str, str]] = []
    if needs and (approval is None or not approval.counts):
        flags = needs
    if approval is not None and not approval.counts and (needs or approval.status == REFUSED):
        flags = [*flags, {"code": f"approval_{approval.status}", "message": approval.message}]
    result["claimed_cents"] = claimed_cents
    result["approval_id"] = approval.approval_id if approval is not None else None
    result["approval"] = approval.as_dict() if approval is not None else None
    result["budget"] = budget.as_dict() if budget is not None else None
    result["needs_approval"] = [need["code"] for need in needs]
    result["flags"] = flags
    return bool(flags), result


@dataclass(frozen=True)
class AcknowledgedHold:
    """A hold on a case whose notice the reporting office acknowledged on ``acknowledged_on``."""

    id: uuid.UUID
    hold_id: str
    situation: str
    acknowledged_on: date
    lifted_on: date | None  # None: still active


def breached_hold(
    act_code: str, on: date, holds: list[AcknowledgedHold], catalogue: Catalogue
) -> AcknowledgedHold | None:
    """The hold a coercive act dated ``on`` broke: one its office had acknowledged on or before that
    day and that was not lifted by then (lifted on a later day, or still active); the first
    acknowledged when several. Every hold situation (vulnerable, payment plan, dispute, insolvency,
    limitation) forbids the coercive acts; a non-coercive act (serving the title, an inquiry) breaks
    none."""
    if not holds or not catalogue.act(act_code).coercive:
        return None
    for hold in sorted(holds, key=lambda h: (h.acknowledged_on, h.hold_id)):
        if hold.acknowledged_on <= on and (hold.lifted_on is None or on < hold.lifted_on):
            return hold
    return None


def hold_breach_flag(hold: AcknowledgedHold, act_code: str, on: date) -> dict[str, str]:
    return {
        "code": HOLD_BREACHED,
        "message": f"{act_code} on {on.isoformat()} is coercive, and the office had acknowledged on "
        f"{hold.acknowledged_on.isoformat()} the hold {hold.hold_id} ({hold.situation}) on the case, "
        "not lifted by that day",
    }
