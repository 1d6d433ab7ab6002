"""Use cases of the mandates module (each takes a session and never commits):

- ``lifecycle``: issue a mandate or hold it, approve, refuse; the transition table;
- ``endings``: cancel a mandate, expire lapsed ones, telling the office (``mandate_cancel``);
- ``completion``: complete a mandate whose work the office's act reports show done;
- ``cost_requests``: staff decide offices' cost requests;
- ``waiting``: held mandates and cost requests waiting for a person, with what they need to decide;
- ``holds``: a hold raised on a case after issue, one notice per office working on it; lifted by
  staff (``hold_lift``); a case's holds;
- ``hold_notices``: the offices' acknowledgements of hold notices, by a deadline; the overdue ones;
- ``case_updates``: what changed on a case, sent to the offices working on it; their acknowledgements;
  a payment that clears the balance ends their mandates;
- ``importing``: mandates from a CSV file.
"""

from hub.mandates.service.case_updates import (
    UpdateView,
    acknowledge_case_update,
    list_updates,
    record_update,
)
from hub.mandates.service.cost_requests import decide_cost_request
from hub.mandates.service.endings import cancel, expire_lapsed
from hub.mandates.service.hold_notices import NoticeView, acknowledge_hold_notice, list_hold_notices
from hub.mandates.service.holds import (
    WORKING,
    BreachView,
    HoldNoticeView,
    HoldView,
    lift_hold,
    list_breaches,
    list_holds,
    raise_hold,
)
from hub.mandates.service.importing import CHUNK, ImportSummary, checked_rows, import_rows
from hub.mandates.service.lifecycle import (
    ORDERED,
    TRANSITIONS,
    MandateIn,
    approve,
    budget_of,
    create_mandate,
    events,
    facts_of,
    get_mandate,
    judge,
    learned_rates,
    list_mandates,
    new_ref,
    policy_settings,
    recent_learned_rates,
    refuse,
    transition,
)
from hub.mandates.service.waiting import (
    CostRequestView,
    HeldView,
    cost_request,
    held_context,
    list_cost_requests,
    list_held,
)

__all__ = [
    "CHUNK",
    "ORDERED",
    "TRANSITIONS",
    "WORKING",
    "BreachView",
    "CostRequestView",
    "HeldView",
    "HoldNoticeView",
    "HoldView",
    "ImportSummary",
    "MandateIn",
    "NoticeView",
    "UpdateView",
    "acknowledge_case_update",
    "acknowledge_hold_notice",
    "approve",
    "budget_of",
    "cancel",
    "checked_rows",
    "cost_request",
    "create_mandate",
    "decide_cost_request",
    "events",
    "expire_lapsed",
    "facts_of",
    "get_mandate",
    "held_context",
    "import_rows",
    "judge",
    "learned_rates",
    "lift_hold",
    "list_breaches",
    "list_cost_requests",
    "list_held",
    "list_hold_notices",
    "list_holds",
    "list_mandates",
    "list_updates",
    "new_ref",
    "policy_settings",
    "raise_hold",
    "recent_learned_rates",
    "record_update",
    "refuse",
    "transition",
]
