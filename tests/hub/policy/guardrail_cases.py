"""The guardrail table: one row per rule and per side of its threshold."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hub.recovery.facts import ClaimKind, Evidence, InsolvencyKind, OutcomeCode, Title, TitleKind
from tests.hub.recovery.cases import ON, act, case

D = date.fromisoformat
SERVED_ORDER = (act("PAYMENT_ORDER", D("2026-02-02"), OutcomeCode.SERVED_IN_PERSON),)


def judgment(issued: str, served: str | None = None) -> Title:
    return Title(
        kind=TitleKind.JUDGMENT, issued_on=D(issued), served_on=None if served is None else D(served)
    )


def injunction(issued: str, served: str | None = None) -> Title:
    return Title(
        kind=TitleKind.PAYMENT_ORDER, issued_on=D(issued), served_on=None if served is None else D(served)
    )


# (label, facts, act, on, the code expected or None for "this rule does not trip", needs_review)
ROWS: list[tuple[str, Any, str, date, str, bool | None]] = [
    # No enforcement act without an enforceable title.
    (
        "garnishment without title",
        case(title=None, claim_started_on=D("2025-06-01")),
        "BANK_GARNISHMENT",
        ON,
        "NO_ENFORCEABLE_TITLE",
        False,
    ),
    ("garnishment with a title", case(), "BANK_GARNISHMENT", ON, "NO_ENFORCEABLE_TITLE", None),
    (
        "information search without title",
        case(title=None, claim_started_on=D("2025-06-01")),
        "INFO_SEARCH",
        ON,
        "NO_ENFORCEABLE_TITLE",
        False,
    ),
    (
        "summons without title: that is how one gets a title",
        case(title=None, claim_started_on=D("2025-06-01")),
        "SUMMONS",
        ON,
        "NO_ENFORCEABLE_TITLE",
        None,
    ),
    # A title is enforceable for 10 years.
    (
        "title 10 years old to the day",
        case(title=judgment("2016-03-02", "2016-04-01")),
        "BANK_GARNISHMENT",
        ON,
        "TITLE_EXPIRED",
        None,
    ),
    (
        "title 10 years and a day old",
        case(title=judgment("2016-03-01", "2016-04-01")),
        "BANK_GARNISHMENT",
        ON,
        "TITLE_EXPIRED",
        False,
    ),
    (
        "title of 29 Feb, day after its 10th year",
        case(title=judgment("2016-02-29", "2016-04-01")),
        "BANK_GARNISHMENT",
        D("2026-03-01"),
        "TITLE_EXPIRED",
        False,
    ),
    (
        "title of 29 Feb, last day",
        case(title=judgment("2016-02-29", "2016-04-01")),
        "BANK_GARNISHMENT",
        D("2026-02-28"),
        "TITLE_EXPIRED",
        None,
    ),
    # Each enforcement act reported restarts the 10 years (art. 2244 Code civil): ON is 2026-03-02.
    (
        "title 12 years old, empty garnishment 3 years ago",
        case(
            title=judgment("2014-03-02", "2014-04-01"),
            acts=(act("BANK_GARNISHMENT", D("2023-03-02"), OutcomeCode.GARNISHMENT_EMPTY),),
        ),
        "BANK_GARNISHMENT",
        ON,
        "TITLE_EXPIRED",
        None,
    ),
    (
        "title 12 years old, no enforcement act on file",
        case(title=judgment("2014-03-02", "2014-04-01")),
        "BANK_GARNISHMENT",
        ON,
        "TITLE_EXPIRED",
        False,
    ),
    (
        "restarted period: 10 years after the act to the day",
        case(
            title=judgment("2014-03-02", "2014-04-01"),
            acts=(act("SEIZURE_SALE", D("2016-03-02"), OutcomeCode.GOODS_SEIZED),),
        ),
        "BANK_GARNISHMENT",
        ON,
        "TITLE_EXPIRED",
        None,
    ),
    (
        "restarted period: 10 years and a day after the act",
        case(
            title=judgment("2014-03-02", "2014-04-01"),
            acts=(act("SEIZURE_SALE", D("2016-03-01"), OutcomeCode.GOODS_SEIZED),),
        ),
        "BANK_GARNISHMENT",
        ON,
        "TITLE_EXPIRED",
        False,
    ),
    (
        "restarts chain: 2005 title, acts in 2014 and 2023",
        case(
            title=judgment("2005-06-01", "2005-07-01"),
            acts=(
                act("PAYMENT_ORDER", D("2014-05-20"), OutcomeCode.SERVED_AT_HOME),
                act("BANK_GARNISHMENT", D("2023-01-09"), OutcomeCode.GARNISHMENT_PARTIAL),
            ),
        ),
        "BANK_GARNISHMENT",
        ON,
        "TITLE_EXPIRED",
        None,
    ),
    (
        "an act after the period ran out does not revive the title",
        case(
            title=judgment("2010-01-04", "2010-02-01"),
            acts=(act("BANK_GARNISHMENT", D("2021-01-04"), OutcomeCode.GARNISHMENT_EMPTY),),
        ),
        "BANK_GARNISHMENT",
        ON,
        "TITLE_EXPIRED",
        False,
    ),
    (
        "an act ordered but not reported restarts nothing",
        case(title=judgment("2014-03-02", "2014-04-01"), acts=(act("BANK_GARNISHMENT", D("2023-03-02")),)),
        "BANK_GARNISHMENT",
        ON,
        "TITLE_EXPIRED",
        False,
    ),
    (
        "an act reported as not carried out restarts nothing",
        case(
            title=judgment("2014-03-02", "2014-04-01"),
            acts=(act("SEIZURE_SALE", D("2023-03-02"), OutcomeCode.REFUSED_OTHER),),
        ),
        "BANK_GARNISHMENT",
        ON,
        "TITLE_EXPIRED",
        False,
    ),
    (
        "serving the title again is not an enforcement act",
        case(
            title=judgment("2014-03-02", "2014-04-01"),
            acts=(act("SERVE_TITLE", D("2023-03-02"), OutcomeCode.SERVED_IN_PERSON),),
        ),
        "BANK_GARNISHMENT",
        ON,
        "TITLE_EXPIRED",
        False,
    ),
    # Claims without title lapse: 2 years consumer, 5 years commercial.
    (
        "consumer claim 2 years old to the day",
        case(title=None, claim_started_on=D("2024-03-02")),
        "SUMMONS",
        ON,
        "TIME_BARRED",
        None,
    ),
    (
        "consumer claim 2 years and a day old",
        case(title=None, claim_started_on=D("2024-03-01")),
        "SUMMONS",
        ON,
        "TIME_BARRED",
        False,
    ),
    (
        "commercial claim 5 years old to the day",
        case(title=None, claim_kind=ClaimKind.COMMERCIAL, claim_started_on=D("2021-03-02")),
        "SUMMONS",
        ON,
        "TIME_BARRED",
        None,
    ),
    (
        "commercial claim 5 years and a day old",
        case(title=None, claim_kind=ClaimKind.COMMERCIAL, claim_started_on=D("2021-03-01")),
        "SUMMONS",
        ON,
        "TIME_BARRED",
        False,
    ),
    (
        "commercial claim 3 years old",
        case(title=None, claim_kind=ClaimKind.COMMERCIAL, claim_started_on=D("2023-03-01")),
        "SUMMONS",
        ON,
        "TIME_BARRED",
        None,
    ),
    (
        "claim with title: limitation of the title applies",
        case(claim_started_on=D("2010-01-01")),
        "SUMMONS",
        ON,
        "TIME_BARRED",
        None,
    ),
    ("no title and no start date", case(title=None), "SUMMONS", ON, "LIMITATION_START_UNKNOWN", True),
    # An injunction to pay must be served within 6 months (2025-09-02 + 6 months = Monday 2026-03-02).
    (
        "injunction served on the last day",
        case(title=injunction("2025-09-02", "2026-03-02")),
        "SERVE_TITLE",
        D("2026-04-15"),
        "INJUNCTION_NOT_SERVED_IN_TIME",
        None,
    ),
    (
        "injunction served a day late",
        case(title=injunction("2025-09-02", "2026-03-03")),
        "SERVE_TITLE",
        D("2026-04-15"),
        "INJUNCTION_NOT_SERVED_IN_TIME",
        False,
    ),
    (
        "unserved injunction, serving it on the last day",
        case(title=injunction("2025-09-02")),
        "SERVE_TITLE",
        D("2026-03-02"),
        "INJUNCTION_NOT_SERVED_IN_TIME",
        None,
    ),
    (
        "unserved injunction, serving it a day late",
        case(title=injunction("2025-09-02")),
        "SERVE_TITLE",
        D("2026-03-03"),
        "INJUNCTION_NOT_SERVED_IN_TIME",
        False,
    ),
    # 2025-08-29 + 6 months = Saturday 2026-02-28: the deadline moves to Monday 2 March (art. 642 CPC).
    (
        "deadline on a Saturday moves to Monday",
        case(title=injunction("2025-08-29")),
        "SERVE_TITLE",
        D("2026-03-02"),
        "INJUNCTION_NOT_SERVED_IN_TIME",
        None,
    ),
    (
        "and ends on Monday",
        case(title=injunction("2025-08-29")),
        "SERVE_TITLE",
        D("2026-03-03"),
        "INJUNCTION_NOT_SERVED_IN_TIME",
        False,
    ),
    (
        "unserved injunction cannot be enforced",
        case(title=injunction("2025-12-01")),
        "BANK_GARNISHMENT",
        ON,
        "INJUNCTION_NOT_SERVED",
        False,
    ),
    # Opposition: one month after service (2026-01-05 + 1 month = Thursday 2026-02-05).
    (
        "opposition window still open",
        case(title=injunction("2025-12-01", "2026-01-05")),
        "BANK_GARNISHMENT",
        D("2026-02-05"),
        "INJUNCTION_OPPOSITION_OPEN",
        False,
    ),
    (
        "opposition window closed",
        case(title=injunction("2025-12-01", "2026-01-05")),
        "BANK_GARNISHMENT",
        D("2026-02-06"),
        "INJUNCTION_OPPOSITION_OPEN",
        None,
    ),
    # Deadlines move with French public holidays (holidays.France, art. 642 CPC).
    # Garnishment 2026-12-17 + 8 days = Friday 25 December: the notice is due Monday 28 December.
    (
        "notice due on Christmas: Monday 28 December still in time",
        case(acts=(act("BANK_GARNISHMENT", D("2026-12-17")),)),
        "GARNISHMENT_NOTICE",
        D("2026-12-28"),
        "GARNISHMENT_NOTICE_LATE",
        None,
    ),
    (
        "notice due on Christmas: Tuesday 29 December too late",
        case(acts=(act("BANK_GARNISHMENT", D("2026-12-17")),)),
        "GARNISHMENT_NOTICE",
        D("2026-12-29"),
        "GARNISHMENT_NOTICE_LATE",
        False,
    ),
    # Served 2027-04-08: opposition until 8 May 2027, a Saturday and Victory Day: it closes Monday 10 May.
    (
        "opposition closing on 8 May: still open on Monday 10 May",
        case(title=injunction("2027-03-01", "2027-04-08")),
        "BANK_GARNISHMENT",
        D("2027-05-10"),
        "INJUNCTION_OPPOSITION_OPEN",
        False,
    ),
    (
        "opposition closing on 8 May: closed on Tuesday 11 May",
        case(title=injunction("2027-03-01", "2027-04-08")),
        "BANK_GARNISHMENT",
        D("2027-05-11"),
        "INJUNCTION_OPPOSITION_OPEN",
        None,
    ),
    # Issued 2026-09-29: 6 months end on Easter Monday 2027-03-29, so service is due Tuesday 30 March.
    (
        "injunction served the day after Easter Monday",
        case(title=injunction("2026-09-29", "2027-03-30")),
        "SERVE_TITLE",
        D("2027-04-15"),
        "INJUNCTION_NOT_SERVED_IN_TIME",
        None,
    ),
    (
        "injunction served two days after Easter Monday",
        case(title=injunction("2026-09-29", "2027-03-31")),
        "SERVE_TITLE",
        D("2027-04-15"),
        "INJUNCTION_NOT_SERVED_IN_TIME",
        False,
    ),
    # Payment order on Monday 2026-07-06: 8 days end on 14 July, so the seizure may take place from the 16th.
    (
        "seizure the day after 14 July",
        case(acts=(act("PAYMENT_ORDER", D("2026-07-06"), OutcomeCode.SERVED_IN_PERSON),)),
        "SEIZURE_SALE",
        D("2026-07-15"),
        "PAYMENT_ORDER_TOO_RECENT",
        False,
    ),
    (
        "seizure two days after 14 July",
        case(acts=(act("PAYMENT_ORDER", D("2026-07-06"), OutcomeCode.SERVED_IN_PERSON),)),
        "SEIZURE_SALE",
        D("2026-07-16"),
        "PAYMENT_ORDER_TOO_RECENT",
        None,
    ),
    # A judgment is enforced once served.
    (
        "judgment with no service date",
        case(title=judgment("2025-12-01")),
        "BANK_GARNISHMENT",
        ON,
        "TITLE_NOT_SERVED",
        True,
    ),
    (
        "serving the judgment itself",
        case(title=judgment("2025-12-01")),
        "SERVE_TITLE",
        ON,
        "TITLE_NOT_SERVED",
        None,
    ),
    # Under 535 EUR of principal (not maintenance), a home seizure needs the judge's leave (R221-2).
    (
        "seizure on a 534.99 EUR claim",
        case(owed_cents=53_499, acts=SERVED_ORDER),
        "SEIZURE_SALE",
        ON,
        "SMALL_CLAIM_HOME_SEIZURE",
        True,
    ),
    (
        "seizure on a 535 EUR claim",
        case(owed_cents=53_500, acts=SERVED_ORDER),
        "SEIZURE_SALE",
        ON,
        "SMALL_CLAIM_HOME_SEIZURE",
        None,
    ),
    (
        "seizure on a small maintenance claim",
        case(owed_cents=10_000, acts=SERVED_ORDER, claim_kind=ClaimKind.MAINTENANCE),
        "SEIZURE_SALE",
        ON,
        "SMALL_CLAIM_HOME_SEIZURE",
        None,
    ),
    (
        "bank garnishment on a small claim",
        case(owed_cents=10_000),
        "BANK_GARNISHMENT",
        ON,
        "SMALL_CLAIM_HOME_SEIZURE",
        None,
    ),
    # A seizure-and-sale needs a prior payment order, 8 full days old, under 2 years old.
    ("seizure without payment order", case(), "SEIZURE_SALE", ON, "NO_PRIOR_PAYMENT_ORDER", False),
    (
        "seizure after a payment order",
        case(acts=SERVED_ORDER),
        "SEIZURE_SALE",
        ON,
        "NO_PRIOR_PAYMENT_ORDER",
        None,
    ),
    (
        "seizure on the 8th day after the order",
        case(acts=SERVED_ORDER),
        "SEIZURE_SALE",
        D("2026-02-10"),
        "PAYMENT_ORDER_TOO_RECENT",
        False,
    ),
    (
        "seizure on the 9th day after the order",
        case(acts=SERVED_ORDER),
        "SEIZURE_SALE",
        D("2026-02-11"),
        "PAYMENT_ORDER_TOO_RECENT",
        None,
    ),
    (
        "payment order 2 years old to the day",
        case(acts=(act("PAYMENT_ORDER", D("2024-03-02")),)),
        "SEIZURE_SALE",
        ON,
        "PAYMENT_ORDER_LAPSED",
        None,
    ),
    (
        "payment order 2 years and a day old",
        case(acts=(act("PAYMENT_ORDER", D("2024-03-01")),)),
        "SEIZURE_SALE",
        ON,
        "PAYMENT_ORDER_LAPSED",
        False,
    ),
    # A bank garnishment must be notified within 8 days (Monday 2 March + 8 = Tuesday 10 March).
    (
        "notice on the 8th day",
        case(acts=(act("BANK_GARNISHMENT", ON),)),
        "GARNISHMENT_NOTICE",
        D("2026-03-10"),
        "GARNISHMENT_NOTICE_LATE",
        None,
    ),
    (
        "notice on the 9th day",
        case(acts=(act("BANK_GARNISHMENT", ON),)),
        "GARNISHMENT_NOTICE",
        D("2026-03-11"),
        "GARNISHMENT_NOTICE_LATE",
        False,
    ),
    (
        "8th day a Saturday: Monday still in time",
        case(acts=(act("BANK_GARNISHMENT", D("2026-02-20")),)),
        "GARNISHMENT_NOTICE",
        D("2026-03-02"),
        "GARNISHMENT_NOTICE_LATE",
        None,
    ),
    (
        "8th day a Saturday: Tuesday too late",
        case(acts=(act("BANK_GARNISHMENT", D("2026-02-20")),)),
        "GARNISHMENT_NOTICE",
        D("2026-03-03"),
        "GARNISHMENT_NOTICE_LATE",
        False,
    ),
    ("notice with no garnishment", case(), "GARNISHMENT_NOTICE", ON, "NO_GARNISHMENT_TO_NOTIFY", False),
    # Pacing: at most 2 coercive acts against a debtor within 30 days (the act itself included).
    (
        "1 coercive act in the window: this is the 2nd",
        case(acts=(act("BANK_GARNISHMENT", D("2026-02-20")),)),
        "WAGE_GARNISHMENT_REQUEST",
        ON,
        "PACING_EXCEEDED",
        None,
    ),
    (
        "2 coercive acts in the window: this would be the 3rd",
        case(acts=(act("BANK_GARNISHMENT", D("2026-02-20")), act("PAYMENT_ORDER", D("2026-02-01")))),
        "WAGE_GARNISHMENT_REQUEST",
        ON,
        "PACING_EXCEEDED",
        True,
    ),
    (
        "the older act is 30 days back: outside the window",
        case(acts=(act("BANK_GARNISHMENT", D("2026-02-20")), act("PAYMENT_ORDER", D("2026-01-31")))),
        "WAGE_GARNISHMENT_REQUEST",
        ON,
        "PACING_EXCEEDED",
        None,
    ),
    (
        "acts on the debtor's other cases count",
        case(
            acts=(act("BANK_GARNISHMENT", D("2026-02-20")),),
            debtor_acts_elsewhere=(act("SEIZURE_SALE", D("2026-02-25")),),
        ),
        "WAGE_GARNISHMENT_REQUEST",
        ON,
        "PACING_EXCEEDED",
        True,
    ),
    (
        "non-coercive acts do not count",
        case(
            acts=(
                act("BANK_GARNISHMENT", D("2026-02-20")),
                act("GARNISHMENT_NOTICE", D("2026-02-24")),
                act("SERVE_TITLE", D("2026-02-10")),
            )
        ),
        "WAGE_GARNISHMENT_REQUEST",
        ON,
        "PACING_EXCEEDED",
        None,
    ),
    (
        "a non-coercive act is never paced",
        case(acts=(act("BANK_GARNISHMENT", D("2026-02-20")), act("PAYMENT_ORDER", D("2026-02-01")))),
        "GARNISHMENT_NOTICE",
        D("2026-02-24"),
        "PACING_EXCEEDED",
        None,
    ),
    # Vulnerability, payment plan, dispute: coercive acts need a person's review.
    (
        "vulnerable debtor",
        case(evidence=Evidence(vulnerable=True)),
        "BANK_GARNISHMENT",
        ON,
        "VULNERABLE_DEBTOR",
        True,
    ),
    (
        "vulnerability unknown",
        case(evidence=Evidence(vulnerable=None)),
        "BANK_GARNISHMENT",
        ON,
        "VULNERABLE_DEBTOR",
        None,
    ),
    (
        "vulnerable debtor, non-coercive act",
        case(evidence=Evidence(vulnerable=True)),
        "SERVE_TITLE",
        ON,
        "VULNERABLE_DEBTOR",
        None,
    ),
    (
        "payment plan running",
        case(evidence=Evidence(payment_plan_active=True)),
        "SEIZURE_SALE",
        ON,
        "PAYMENT_PLAN_ACTIVE",
        True,
    ),
    (
        "payment plan reported by an office, status unknown",
        case(acts=(act("SERVE_TITLE", D("2026-01-05"), OutcomeCode.PAYMENT_PLAN_AGREED),)),
        "BANK_GARNISHMENT",
        ON,
        "PAYMENT_PLAN_ACTIVE",
        True,
    ),
    (
        "payment plan reported, known to be over",
        case(
            evidence=Evidence(payment_plan_active=False),
            acts=(act("SERVE_TITLE", D("2026-01-05"), OutcomeCode.PAYMENT_PLAN_AGREED),),
        ),
        "BANK_GARNISHMENT",
        ON,
        "PAYMENT_PLAN_ACTIVE",
        None,
    ),
    ("claim disputed", case(evidence=Evidence(disputed=True)), "PAYMENT_ORDER", ON, "CLAIM_DISPUTED", True),
    (
        "claim not disputed",
        case(evidence=Evidence(disputed=False)),
        "PAYMENT_ORDER",
        ON,
        "CLAIM_DISPUTED",
        None,
    ),
    # Admissible over-indebtedness and opened collective proceedings bar enforcement (hard blocks).
    (
        "insolvency proceedings",
        case(evidence=Evidence(insolvency_proceedings=True)),
        "BANK_GARNISHMENT",
        ON,
        "INSOLVENCY_PROCEEDINGS",
        False,
    ),
    (
        "insolvency reported by an office",
        case(acts=(act("BANK_GARNISHMENT", D("2025-11-03"), OutcomeCode.INSOLVENCY_PROCEEDINGS),)),
        "SEIZURE_SALE",
        ON,
        "INSOLVENCY_PROCEEDINGS",
        False,
    ),
    (
        "an over-indebtedness file lodged, not admissible yet",
        case(
            evidence=Evidence(
                insolvency_proceedings=True, insolvency_kind=InsolvencyKind.OVER_INDEBTEDNESS_FILED
            )
        ),
        "BANK_GARNISHMENT",
        ON,
        "INSOLVENCY_FILING",
        True,
    ),
    (
        "a lodged file is no bar",
        case(
            evidence=Evidence(
                insolvency_proceedings=True, insolvency_kind=InsolvencyKind.OVER_INDEBTEDNESS_FILED
            )
        ),
        "BANK_GARNISHMENT",
        ON,
        "INSOLVENCY_PROCEEDINGS",
        None,
    ),
    (
        "insolvency proceedings, non-coercive act",
        case(evidence=Evidence(insolvency_proceedings=True)),
        "SERVE_TITLE",
        ON,
        "INSOLVENCY_PROCEEDINGS",
        None,
    ),
    (
        "insolvency reported, proceedings known to be closed",
        case(
            evidence=Evidence(insolvency_proceedings=False),
            acts=(act("BANK_GARNISHMENT", D("2025-11-03"), OutcomeCode.INSOLVENCY_PROCEEDINGS),),
        ),
        "SEIZURE_SALE",
        ON,
        "INSOLVENCY_PROCEEDINGS",
        None,
    ),
    # Recorded by case updates: the debtor's death and the limitation reached end every act.
    (
        "debtor deceased",
        case(evidence=Evidence(debtor_deceased=True)),
        "SERVE_TITLE",
        ON,
        "DEBTOR_DECEASED",
        False,
    ),
    (
        "debtor alive",
        case(evidence=Evidence(debtor_deceased=False)),
        "SERVE_TITLE",
        ON,
        "DEBTOR_DECEASED",
        None,
    ),
    (
        "limitation reached on the day",
        case(evidence=Evidence(limitation_reached_on=ON)),
        "SERVE_TITLE",
        ON,
        "LIMITATION_REACHED",
        False,
    ),
    (
        "limitation reached after the act's day",
        case(evidence=Evidence(limitation_reached_on=ON + timedelta(days=1))),
        "BANK_GARNISHMENT",
        ON,
        "LIMITATION_REACHED",
        None,
    ),
]
