"""An act's stored assessment encodes its verdict once and each report's own keys alone
(``StoredAssessment.encoded``, what COPY sends): the text must be the column's own encoding of the
dict, ``json.dumps``, whatever the report added or changed."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest

from hub.acts.assessment import (
    AcknowledgedHold,
    ApprovalStanding,
    BudgetUse,
    StoredAssessment,
    after_the_fact,
    hold_breach_flag,
)
from hub.recovery.plausibility import Assessor
from tests.hub.recovery.cases import ON, case

HOLD = AcknowledgedHold(uuid.uuid4(), "H-1", "dispute", date(2026, 1, 5), None)


@pytest.mark.parametrize("act_code", ["SERVE_TITLE", "BANK_GARNISHMENT", "PAYMENT_ORDER"])
@pytest.mark.parametrize("owed_cents", [9_000, 500_000])
@pytest.mark.parametrize(
    "approval",
    [None, ApprovalStanding("AP-1", "approved", "ok"), ApprovalStanding("AP-2", "refused", "no")],
)
@pytest.mark.parametrize("budget", [None, BudgetUse(10_000, 9_000, 5_000, "EUR")])
def test_the_encoding_is_json_dumps_of_what_is_stored(
    act_code: str, owed_cents: int, approval: ApprovalStanding | None, budget: BudgetUse | None
) -> None:
    assessor = Assessor()
    for _ in range(2):  # the second report gets the remembered verdict, its text encoded already
        _flagged, stored = after_the_fact(
            act_code, ON, 12_345, case(owed_cents=owed_cents), "A", assessor, budget=budget, approval=approval
        )
        assert stored.verdict is not None
        assert stored.encoded() == json.dumps(stored)
        # What the service adds for a breached hold, after the check.
        stored["flags"] = [*stored["flags"], hold_breach_flag(HOLD, act_code, ON)]
        stored["hold_breached"] = HOLD.hold_id
        assert stored.encoded() == json.dumps(stored)
        assert json.loads(stored.encoded())["hold_breached"] == "H-1"


def test_a_verdict_key_changed_or_removed_in_place_is_encoded_from_the_dict() -> None:
    assessor = Assessor()
    _flagged, stored = after_the_fact("SERVE_TITLE", ON, 100, case(), "A", assessor)
    stored["cost_cents"] = -1
    assert json.loads(stored.encoded())["cost_cents"] == -1
    assert stored.encoded() == json.dumps(stored)
    _flagged, stored = after_the_fact("SERVE_TITLE", ON, 100, case(), "A", assessor)
    del stored["act_code"]
    assert "act_code" not in json.loads(stored.encoded())
    assert stored.encoded() == json.dumps(stored)


def test_an_assessment_without_a_verdict_is_encoded_whole() -> None:
    _flagged, stored = after_the_fact("SERVE_TITLE", ON, 100, None, "A", Assessor())
    assert stored.verdict is None and stored["available"] is False
    assert stored.encoded() == json.dumps(stored)
    assert isinstance(stored, StoredAssessment) and dict(stored) == json.loads(stored.encoded())
