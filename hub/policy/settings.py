"""The guardrails' settings: every legal period and charter threshold, with its source.

Legal periods are the law's figures and change only with the law; the pacing figures are the
agency's charter and may be tuned. Defaults are documented here and in ``docs/rules.md``.

Public holidays come from the ``holidays`` package (``holidays.France``), a maintained calendar
computed from each year's rules (Easter, Ascension, Whit Monday...): no clock, no network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from holidays.countries.france import France

from hub.recovery.facts import ClaimKind


@lru_cache(maxsize=256)
def french_public_holidays(year: int, subdivision: str | None = None) -> frozenset[date]:
    """France's public holidays ("jours fériés", art. L3133-1 Code du travail) in ``year``: those of
    metropolitan France, plus the local ones of ``subdivision`` (``"57"`` Moselle or ``"6AE"``
    Alsace: Good Friday and 26 December; an overseas département's own days)."""
    return frozenset(France(years=year, subdiv=subdivision))  # type: ignore[no-untyped-call]


@dataclass(frozen=True, kw_only=True)
class PolicySettings:
    """Frozen settings of ``hub.policy.guardrails.check``; build a new one to change a figure."""

    title_validity_years: int = 10
    """An enforceable title can be enforced for 10 years (art. L111-4 CPCE)."""
    consumer_limitation_years: int = 2
    """A consumer claim without title lapses after 2 years (art. L218-2 Code de la consommation)."""
    commercial_limitation_years: int = 5
    """A commercial (or ordinary civil) claim without title lapses after 5 years (art. L110-4 Code de
    commerce, art. 2224 Code civil)."""
    wage_limitation_years: int = 3
    """Wage claims lapse after 3 years (art. L3245-1 Code du travail)."""
    maintenance_limitation_years: int = 5
    """Maintenance arrears lapse after 5 years (art. 2224 Code civil)."""
    injunction_service_months: int = 6
    """An injunction to pay not served within 6 months of its date is void (art. 1411 CPC)."""
    injunction_opposition_months: int = 1
    """The debtor may oppose an injunction for 1 month after service (art. 1416 CPC); it cannot be
    enforced before that window closes."""
    garnishment_notice_days: int = 8
    """A bank garnishment must be notified to the debtor within 8 days, or it lapses (art. R211-3
    CPCE)."""
    payment_order_wait_days: int = 8
    """A seizure-and-sale may take place only once 8 days have passed since the payment order
    (art. R221-10 CPCE)."""
    payment_order_validity_years: int = 2
    """A payment order not followed by enforcement within 2 years must be renewed (art. R221-5
    CPCE)."""
    pacing_max_coercive_acts: int = 2
    """Charter: at most this many coercive acts against one debtor within the window."""
    pacing_window_days: int = 30
    """Charter: the pacing window, in days, ending on the day of the act (inclusive)."""
    acts_needing_title: frozenset[str] = frozenset({"SERVE_TITLE", "INFO_SEARCH"})
    """Acts needing an enforceable title besides the coercive ones: serving it, and the information
    search a commissaire de justice may run only with a title (art. L152-1 CPCE)."""
    acts_needing_payment_order: frozenset[str] = frozenset({"SEIZURE_SALE"})
    """Acts that must be preceded by a payment order ("commandement de payer", art. R221-1 CPCE)."""
    small_claim_home_seizure_cents: int = 53_500
    """Below this principal (other than maintenance), a seizure-and-sale in the debtor's home needs
    the judge's leave unless a bank or wage garnishment is impossible (art. R221-2 CPCE)."""
    require_title_served: bool = True
    """A judgment is enforced only once served (art. 503 CPC): an enforcement act on a title with no
    service date asks for a person's review (it may be served with the act itself)."""
    public_holidays: frozenset[date] = field(default_factory=frozenset)
    """Days off besides the calendar's public holidays (a day the courts are closed by decree): a
    procedural deadline falling on one moves to the next working day, as on a public holiday."""
    holiday_subdivision: str | None = None
    """Whose public holidays count (``holidays.France`` subdivision): ``None`` is metropolitan
    France; ``"57"`` (Moselle) or ``"6AE"`` (Bas-Rhin, Haut-Rhin) add Alsace-Moselle's Good Friday
    and 26 December, for an agency whose cases are heard there."""
    stop_loss_share_percent: int = 20
    """Agency's rule, not the law: once the fees borne on a case exceed this share of its balance
    (percent) with nothing recovered, every further act is held for review (``hub.recovery.stop_loss``);
    0 switches it off."""

    def __post_init__(self) -> None:
        for name in (
            "title_validity_years",
            "consumer_limitation_years",
            "commercial_limitation_years",
            "wage_limitation_years",
            "maintenance_limitation_years",
            "injunction_service_months",
            "injunction_opposition_months",
            "garnishment_notice_days",
            "payment_order_wait_days",
            "payment_order_validity_years",
            "pacing_max_coercive_acts",
            "pacing_window_days",
        ):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
        known = France.subdivisions
        if self.holiday_subdivision is not None and self.holiday_subdivision not in known:
            raise ValueError(
                f"holiday_subdivision must be one of {', '.join(known)} or None (metropolitan France), "
                f"got {self.holiday_subdivision!r}"
            )

    def limitation_years(self, kind: ClaimKind) -> int:
        return {
            ClaimKind.CONSUMER: self.consumer_limitation_years,
            ClaimKind.COMMERCIAL: self.commercial_limitation_years,
            ClaimKind.WAGE: self.wage_limitation_years,
            ClaimKind.MAINTENANCE: self.maintenance_limitation_years,
        }[kind]

    def is_working_day(self, day: date) -> bool:
        """Neither a Saturday, a Sunday, a French public holiday nor an extra day off."""
        if day.weekday() >= 5 or day in self.public_holidays:
            return False
        return day not in french_public_holidays(day.year, self.holiday_subdivision)

    def procedural_deadline(self, last_day: date) -> date:
        """A procedural deadline ending on a Saturday, Sunday or public holiday moves to the next
        working day (art. 642 CPC). Limitation periods and the title's 10 years do not move."""
        day = last_day
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


DEFAULT_SETTINGS = PolicySettings()
