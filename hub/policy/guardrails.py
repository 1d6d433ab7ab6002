"""Guardrails: may this act be ordered on this case on this day, and if not, why?

``check`` returns every rule the act breaks, each with a stable code, a sentence a case handler
understands, its legal or charter source, and whether a person's review may override it
(``needs_review``) or it is a hard legal block. An empty list means no guardrail trips.

Unknown evidence (``None``) trips no review flag: a debtor is "vulnerable" when the agency has
flagged them so. Where a legal check cannot be made for lack of a date, the result asks for review.

Periods in months and years follow art. 641-642 CPC (see ``hub.recovery.dates``). Procedural
deadlines (injunction served within 6 months, opposition 1 month, 8 days after a payment order,
garnishment notified within 8 days) that end on a weekend or a French public holiday move to the
next working day (``PolicySettings.procedural_deadline``); the title's 10 years, the limitation of
claims and the payment order's 2 years are not procedural deadlines and do not move.

The title's 10 years restart at each enforcement act on file (art. 2244 Code civil): an act the
catalogue marks ``coercive``, reported by its office as carried out. Serving the title is not
counted: it makes the title enforceable, it is not an act of enforcement. A claim without title
lapses (2 years consumer, 5 commercial...) counted from ``CaseFacts.claim_started_on``, which the
case keeps at the last interruption (an acknowledgement of the debt, art. 2240 Code civil): no act
on file restarts it, since no enforcement act may be done without a title.

Insolvency bars enforcement as a hard block: an over-indebtedness file declared admissible (art.
L722-2 Code de la consommation) or collective proceedings opened (art. L622-21 Code de commerce),
named after what the case records or, failing that, after the debtor's kind. It is lifted when the
case records the proceedings ended (an ``insolvency_ended`` case update sets
``insolvency_proceedings`` to false), an office's earlier report of them included.

Two facts recorded by case updates end every act on the case, as hard blocks: the debtor's death
(``DEBTOR_DECEASED``: the title must first be served on the heirs, art. 877 Code civil) and the
limitation period reached (``LIMITATION_REACHED``, from the day the agency recorded). A dispute
opened by a case update is the ``disputed`` fact: coercive acts wait for a person's review
(``CLAIM_DISPUTED``) until a ``dispute_closed`` update clears it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from hub.kit.money import Money
from hub.policy.settings import DEFAULT_SETTINGS, PolicySettings
from hub.recovery.dates import add_months, add_years
from hub.recovery.facts import ActRecord, CaseFacts, ClaimKind, DebtorKind, InsolvencyKind, OutcomeCode
from hub.tariff.catalogue import ActDefinition, Catalogue, load_catalogue

__all__ = [
    "DEFAULT_SETTINGS",
    "PolicySettings",
    "TitlePeriod",
    "Violation",
    "case_ended",
    "check",
    "hard_blocks",
    "insolvency_bars",
    "reviewable",
    "title_period",
]

# Outcomes of an act that was not carried out: such a report restarts no period.
NOT_CARRIED_OUT = frozenset(
    {OutcomeCode.REFUSED_OTHER, OutcomeCode.DEBTOR_DECEASED, OutcomeCode.INSOLVENCY_PROCEEDINGS}
)


@dataclass(frozen=True)
class Violation:
    """One guardrail the act trips."""

    code: str
    message: str
    needs_review: bool
    """True: a person may approve the act anyway; False: a hard legal block, no override."""
    source: str
    """The article of law or the charter rule behind it."""


def hard_blocks(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if not v.needs_review]


def reviewable(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.needs_review]


@dataclass(frozen=True)
class TitlePeriod:
    """How long the title on file may be enforced, as of a day."""

    issued_on: date
    last_day: date
    """The last day it may be enforced (10 years after its date or after the last restart)."""
    restarted_by: ActRecord | None
    """The latest enforcement act that restarted the period; ``None``: none did."""
    restarted_label: str | None = None
    """That act's name, for the explanation."""

    @property
    def explanation(self) -> str:
        if self.restarted_by is None:
            return (
                f"The title of {self.issued_on.isoformat()} may be enforced until "
                f"{self.last_day.isoformat()}: no enforcement act on file restarted its period."
            )
        act = self.restarted_by
        ref = f" ({act.reference})" if act.reference else ""
        return (
            f"The title of {self.issued_on.isoformat()} may be enforced until {self.last_day.isoformat()}: "
            f"its period restarted with the {self.restarted_label or act.act_code}{ref} of "
            f"{act.on.isoformat()}, the latest enforcement act on file (art. 2244 Code civil)."
        )


def title_period(
    case: CaseFacts,
    on: date,
    *,
    settings: PolicySettings = DEFAULT_SETTINGS,
    catalogue: Catalogue | None = None,
) -> TitlePeriod | None:
    """The title's enforcement period as of ``on``; ``None`` when no title is on file.

    The period runs ``title_validity_years`` from the title's date (art. L111-4 CPCE) and starts
    again from each enforcement act reported on the case (art. 2244 Code civil): a coercive act of
    the catalogue with an outcome, dated on or before ``on``, other than a report that the act was
    not carried out. An act after the period ran out does not revive it.
    """
    title = case.title
    if title is None:
        return None
    cat = catalogue or load_catalogue()
    years = settings.title_validity_years
    last_day = add_years(title.issued_on, years)
    restarted_by: ActRecord | None = None

    def enforcement(record: ActRecord) -> bool:
        act = cat.acts.get(record.act_code)
        reported = record.outcome is not None and record.outcome not in NOT_CARRIED_OUT
        return act is not None and act.coercive and reported and title.issued_on <= record.on <= on

    for record in sorted((r for r in case.acts if enforcement(r)), key=lambda r: r.on):
        if record.on > last_day:
            break
        last_day = add_years(record.on, years)
        restarted_by = record
    label = cat.acts[restarted_by.act_code].label_en.lower() if restarted_by is not None else None
    return TitlePeriod(title.issued_on, last_day, restarted_by, label)


@dataclass(frozen=True)
class _Ask:
    case: CaseFacts
    act: ActDefinition
    on: date
    settings: PolicySettings
    catalogue: Catalogue

    @property
    def needs_title(self) -> bool:
        return self.act.coercive or self.act.code in self.settings.acts_needing_title

    def latest(self, act_code: str) -> ActRecord | None:
        found = self.case.acts_before(self.on, codes=frozenset({act_code}))
        return found[0] if found else None


Rule = Callable[[_Ask], list[Violation]]


def _title_missing(ask: _Ask) -> list[Violation]:
    if not ask.needs_title or ask.case.title is not None:
        return []
    return [
        Violation(
            "NO_ENFORCEABLE_TITLE",
            f"No enforceable title (titre exécutoire) is on file, and '{ask.act.label_en}' needs one.",
            False,
            "Art. L111-2 CPCE (L152-1 for the information search)",
        )
    ]


def _title_expired(ask: _Ask) -> list[Violation]:
    if not ask.needs_title:
        return []
    period = title_period(ask.case, ask.on, settings=ask.settings, catalogue=ask.catalogue)
    if period is None or ask.on <= period.last_day:
        return []
    years = ask.settings.title_validity_years
    if period.restarted_by is None:
        since = f"{years} years, and no enforcement act on file restarted them"
    else:
        act = period.restarted_by
        ref = f" ({act.reference})" if act.reference else ""
        since = (
            f"{years} years after the {period.restarted_label}{ref} of {act.on.isoformat()}, "
            "the latest enforcement act on file"
        )
    return [
        Violation(
            "TITLE_EXPIRED",
            f"The title of {period.issued_on.isoformat()} could be enforced until "
            f"{period.last_day.isoformat()} only ({since}).",
            False,
            "Art. L111-4 CPCE, art. 2244 Code civil",
        )
    ]


def _injunction_void(ask: _Ask) -> list[Violation]:
    title = ask.case.title
    if not ask.needs_title or title is None or not title.is_injunction:
        return []
    months = ask.settings.injunction_service_months
    deadline = ask.settings.procedural_deadline(add_months(title.issued_on, months))
    if title.served_on is not None and title.served_on > deadline:
        how = f"was served on {title.served_on.isoformat()}, after"
    elif title.served_on is None and ask.on > deadline:
        how = "was not served by"
    else:
        return []
    return [
        Violation(
            "INJUNCTION_NOT_SERVED_IN_TIME",
            f"The injunction to pay (injonction de payer) of {title.issued_on.isoformat()} {how} "
            f"{deadline.isoformat()}, {months} months after its date: it is void and cannot be enforced.",
            False,
            "Art. 1411 CPC",
        )
    ]


def _title_not_served(ask: _Ask) -> list[Violation]:
    title = ask.case.title
    if not ask.act.coercive or title is None:
        return []
    if title.served_on is None:
        if title.is_injunction:
            return [
                Violation(
                    "INJUNCTION_NOT_SERVED",
                    "The injunction to pay has not been served: it cannot be declared enforceable, let "
                    "alone enforced, before it is served and the opposition window has closed.",
                    False,
                    "Art. 1411, 1416 and 1422 CPC",
                )
            ]
        if not ask.settings.require_title_served:
            return []
        return [
            Violation(
                "TITLE_NOT_SERVED",
                "The title has no service date on file; it must be served before it is enforced. A person "
                "should confirm it was served, or is served together with this act.",
                True,
                "Art. 503 CPC",
            )
        ]
    if not title.is_injunction:
        return []
    months = ask.settings.injunction_opposition_months
    closes = ask.settings.procedural_deadline(add_months(title.served_on, months))
    if ask.on > closes:
        return []
    return [
        Violation(
            "INJUNCTION_OPPOSITION_OPEN",
            f"The debtor may still oppose the injunction to pay served on {title.served_on.isoformat()} "
            f"until {closes.isoformat()}: no enforcement before {(closes + timedelta(days=1)).isoformat()}.",
            False,
            "Art. 1416 and 1422 CPC",
        )
    ]


def _time_barred(ask: _Ask) -> list[Violation]:
    case = ask.case
    if case.title is not None:
        return []
    years = ask.settings.limitation_years(case.claim_kind)
    if case.claim_started_on is None:
        return [
            Violation(
                "LIMITATION_START_UNKNOWN",
                f"The claim has no title and the date its {years}-year limitation period started is unknown: "
                "a person must check it is not time-barred.",
                True,
                "Art. L218-2 Code de la consommation, art. 2224 Code civil, art. L110-4 Code de commerce",
            )
        ]
    last_day = add_years(case.claim_started_on, years)
    if ask.on <= last_day:
        return []
    return [
        Violation(
            "TIME_BARRED",
            f"This {case.claim_kind.value} claim without title is time-barred: its {years}-year limitation "
            f"period, started on {case.claim_started_on.isoformat()}, ended on {last_day.isoformat()}.",
            False,
            "Art. L218-2 Code de la consommation (consumer), art. 2224 Code civil / L110-4 Code de commerce",
        )
    ]


def _payment_order_first(ask: _Ask) -> list[Violation]:
    if ask.act.code not in ask.settings.acts_needing_payment_order:
        return []
    order = ask.latest("PAYMENT_ORDER")
    if order is None:
        return [
            Violation(
                "NO_PRIOR_PAYMENT_ORDER",
                "A seizure-and-sale needs a prior payment order (commandement de payer aux fins de "
                "saisie-vente), and none is on file.",
                False,
                "Art. R221-1 CPCE",
            )
        ]
    wait = ask.settings.payment_order_wait_days
    waited_until = ask.settings.procedural_deadline(order.on + timedelta(days=wait))
    if ask.on <= waited_until:
        return [
            Violation(
                "PAYMENT_ORDER_TOO_RECENT",
                f"The payment order of {order.on.isoformat()} gives the debtor {wait} days: the seizure may "
                f"take place from {(waited_until + timedelta(days=1)).isoformat()}.",
                False,
                "Art. R221-10 CPCE",
            )
        ]
    years = ask.settings.payment_order_validity_years
    lapsed_after = add_years(order.on, years)
    if ask.on > lapsed_after:
        return [
            Violation(
                "PAYMENT_ORDER_LAPSED",
                f"The last payment order, of {order.on.isoformat()}, is more than {years} years old: a new "
                "one is needed before a seizure-and-sale.",
                False,
                "Art. R221-5 CPCE",
            )
        ]
    return []


def _small_claim_home_seizure(ask: _Ask) -> list[Violation]:
    if ask.act.code not in ask.settings.acts_needing_payment_order:
        return []
    limit = ask.settings.small_claim_home_seizure_cents
    case = ask.case
    if case.claim_kind is ClaimKind.MAINTENANCE or case.principal_cents >= limit:
        return []
    return [
        Violation(
            "SMALL_CLAIM_HOME_SEIZURE",
            f"The claim's principal ({Money(case.principal_cents, case.currency).display()}) is under "
            f"{Money(limit, case.currency).display()}: a seizure-and-sale in the debtor's home needs the "
            "judge's leave, unless a bank or wage garnishment is impossible. A person checks which applies.",
            True,
            "Art. R221-2 CPCE",
        )
    ]


def _garnishment_notice(ask: _Ask) -> list[Violation]:
    if ask.act.code != "GARNISHMENT_NOTICE":
        return []
    garnishment = ask.latest("BANK_GARNISHMENT")
    if garnishment is None:
        return [
            Violation(
                "NO_GARNISHMENT_TO_NOTIFY",
                "No bank garnishment is on file for this notice to notify.",
                False,
                "Art. R211-3 CPCE",
            )
        ]
    days = ask.settings.garnishment_notice_days
    deadline = ask.settings.procedural_deadline(garnishment.on + timedelta(days=days))
    if ask.on <= deadline:
        return []
    return [
        Violation(
            "GARNISHMENT_NOTICE_LATE",
            f"The bank garnishment of {garnishment.on.isoformat()} had to be notified to the debtor by "
            f"{deadline.isoformat()} ({days} days): it has lapsed (caducité), a new garnishment is needed.",
            False,
            "Art. R211-3 CPCE",
        )
    ]


def _pacing(ask: _Ask) -> list[Violation]:
    if not ask.act.coercive:
        return []
    settings, catalogue = ask.settings, ask.catalogue
    opens = ask.on - timedelta(days=settings.pacing_window_days - 1)

    def coercive(record: ActRecord) -> bool:
        act = catalogue.acts.get(record.act_code)
        return act is not None and act.coercive and opens <= record.on <= ask.on

    recent = sorted(r.on for r in ask.case.acts + ask.case.debtor_acts_elsewhere if coercive(r))
    if len(recent) < settings.pacing_max_coercive_acts:
        return []
    dates = ", ".join(d.isoformat() for d in recent)
    return [
        Violation(
            "PACING_EXCEEDED",
            f"{len(recent)} coercive act(s) against this debtor already in the {settings.pacing_window_days} "
            f"days up to {ask.on.isoformat()} ({dates}); the charter allows at most "
            f"{settings.pacing_max_coercive_acts}.",
            True,
            "Agency charter: responsible collection, acts are paced",
        )
    ]


def _situation(ask: _Ask) -> list[Violation]:
    """Vulnerability, payment plan, dispute: coercive acts wait for a person's review."""
    if not ask.act.coercive:
        return []
    ev = ask.case.evidence
    history = ask.case.acts_before(ask.on)

    def reported(outcome: OutcomeCode) -> ActRecord | None:
        return next((r for r in history if r.outcome is outcome), None)

    found: list[Violation] = []
    if ev.vulnerable:
        found.append(
            Violation(
                "VULNERABLE_DEBTOR",
                "The debtor is flagged vulnerable: a coercive act needs a person's review.",
                True,
                "Agency charter: extra review for vulnerable debtors",
            )
        )
    plan = reported(OutcomeCode.PAYMENT_PLAN_AGREED) if ev.payment_plan_active is None else None
    if ev.payment_plan_active or plan is not None:
        since = f" (agreed on {plan.on.isoformat()}, per the act report)" if plan is not None else ""
        found.append(
            Violation(
                "PAYMENT_PLAN_ACTIVE",
                f"A payment plan is running{since}: a coercive act needs a person's review.",
                True,
                "Agency charter: an amicable solution is always preferred",
            )
        )
    if ev.disputed:
        found.append(
            Violation(
                "CLAIM_DISPUTED",
                "The debtor disputes the claim: a coercive act needs a person's review.",
                True,
                "Agency charter: disputes are settled before enforcement",
            )
        )
    return found


_INSOLVENCY_LAW = {
    InsolvencyKind.OVER_INDEBTEDNESS: (
        "the debtor's over-indebtedness file (surendettement) was declared admissible, which "
        "suspends and forbids enforcement against their goods",
        "Art. L722-2 Code de la consommation",
    ),
    InsolvencyKind.COLLECTIVE_PROCEEDINGS: (
        "collective proceedings (sauvegarde, redressement or liquidation judiciaire) were opened "
        "against the debtor, which stops every individual enforcement",
        "Art. L622-21 Code de commerce",
    ),
}


def _insolvency_kinds(case: CaseFacts) -> tuple[InsolvencyKind, ...]:
    """The proceedings the debtor may be in: as known, else as their kind allows (a company: collective
    proceedings; a person: over-indebtedness, or collective proceedings too on a business claim,
    since a trader or self-employed person goes through those)."""
    known = case.evidence.insolvency_kind
    if known is not None:
        return (known,)
    if case.debtor_kind is DebtorKind.COMPANY:
        return (InsolvencyKind.COLLECTIVE_PROCEEDINGS,)
    if case.claim_kind is ClaimKind.COMMERCIAL:
        return (InsolvencyKind.OVER_INDEBTEDNESS, InsolvencyKind.COLLECTIVE_PROCEEDINGS)
    return (InsolvencyKind.OVER_INDEBTEDNESS,)


def insolvency_bars(case: CaseFacts, on: date) -> list[Violation]:
    """What the debtor's insolvency says of enforcement on ``on``: a hard block when proceedings bar it
    (known to the agency, or reported by an office and not known to be over), a review when only an
    over-indebtedness file is lodged, nothing otherwise. The caller applies it to enforcement acts."""
    ev = case.evidence
    report: ActRecord | None = None
    if ev.insolvency_proceedings is None:
        history = case.acts_before(on)
        report = next((r for r in history if r.outcome is OutcomeCode.INSOLVENCY_PROCEEDINGS), None)
        if report is None:
            return []
    elif not ev.insolvency_proceedings:
        return []
    if ev.insolvency_kind is InsolvencyKind.OVER_INDEBTEDNESS_FILED:
        return [
            Violation(
                "INSOLVENCY_FILING",
                "The debtor has lodged an over-indebtedness file that is not declared admissible yet: "
                "enforcement is not suspended by law until it is, but a person reviews each coercive act.",
                True,
                "Art. L721-4 and L722-2 Code de la consommation",
            )
        ]
    kinds = _insolvency_kinds(case)
    why = " or ".join(_INSOLVENCY_LAW[k][0] for k in kinds)
    source = "; ".join(_INSOLVENCY_LAW[k][1] for k in kinds)
    if report is not None:
        ref = f" ({report.reference})" if report.reference else ""
        known = f"The office reported on {report.on.isoformat()}{ref} that {why}"
    else:
        known = f"The case records that {why}"
    return [
        Violation(
            "INSOLVENCY_PROCEEDINGS",
            f"{known}: no enforcement act may be ordered while they run ({source}).",
            False,
            source,
        )
    ]


def case_ended(case: CaseFacts, on: date) -> list[Violation]:
    """The debtor's death and the limitation reached, as case updates record them: hard blocks on
    every act dated ``on`` (whole-file mandates included)."""
    ev = case.evidence
    found: list[Violation] = []
    if ev.debtor_deceased:
        found.append(
            Violation(
                "DEBTOR_DECEASED",
                "The debtor is recorded deceased: no act may be directed at them. Enforcement against "
                "the heirs needs the title served on them first, and eight days' wait.",
                False,
                "Art. 877 Code civil",
            )
        )
    reached = ev.limitation_reached_on
    if reached is not None and on >= reached:
        found.append(
            Violation(
                "LIMITATION_REACHED",
                f"The agency recorded that the claim's limitation period ran out on {reached.isoformat()}: "
                "it can no longer be pursued.",
                False,
                "Art. 2219 Code civil; art. L218-2 Code de la consommation; art. L111-4 CPCE",
            )
        )
    return found


def _case_ended(ask: _Ask) -> list[Violation]:
    return case_ended(ask.case, ask.on)


def _insolvency(ask: _Ask) -> list[Violation]:
    if not ask.act.coercive:
        return []
    return insolvency_bars(ask.case, ask.on)


_RULES: tuple[Rule, ...] = (
    _title_missing,
    _title_expired,
    _injunction_void,
    _title_not_served,
    _time_barred,
    _payment_order_first,
    _small_claim_home_seizure,
    _garnishment_notice,
    _case_ended,
    _insolvency,
    _situation,
    _pacing,
)


def check(
    case: CaseFacts,
    act_code: str,
    on: date,
    *,
    settings: PolicySettings = DEFAULT_SETTINGS,
    catalogue: Catalogue | None = None,
) -> list[Violation]:
    """Every guardrail that ``act_code`` on ``case`` dated ``on`` trips; empty when none does.

    ``case.acts`` (and ``case.debtor_acts_elsewhere`` for pacing) hold the acts already done or
    ordered; put acts planned in the same mandate there too (outcome ``None``), so the garnishment
    notice finds its garnishment and pacing counts them. Never the checked act itself.
    """
    cat = catalogue or load_catalogue()
    ask = _Ask(case, cat.act(act_code), on, settings, cat)
    return [violation for rule in _RULES for violation in rule(ask)]
