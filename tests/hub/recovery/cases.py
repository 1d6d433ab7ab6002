"""Small builders of case facts for the recovery and policy tests: a sound case, changed per test."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from hub.recovery.facts import (
    ActRecord,
    CaseFacts,
    ClaimKind,
    DebtorKind,
    Evidence,
    OutcomeCode,
    Title,
    TitleKind,
)

ON = date(2026, 3, 2)  # a Monday
SERVED_JUDGMENT = Title(kind=TitleKind.JUDGMENT, issued_on=date(2025, 1, 10), served_on=date(2025, 2, 3))


def case(
    *,
    owed_cents: int = 500_000,
    evidence: Evidence | None = None,
    acts: tuple[ActRecord, ...] = (),
    **changes: Any,
) -> CaseFacts:
    """A consumer case against a person with a served judgment, 5,000 EUR owed, nothing known."""
    base = CaseFacts(
        principal_cents=owed_cents,
        claim_kind=ClaimKind.CONSUMER,
        debtor_kind=DebtorKind.PERSON,
        title=SERVED_JUDGMENT,
        evidence=evidence or Evidence(),
        acts=acts,
    )
    return dataclasses.replace(base, **changes)


def act(code: str, on: date, outcome: OutcomeCode | None = None, **more: Any) -> ActRecord:
    return ActRecord(act_code=code, on=on, outcome=outcome, **more)
