"""The finance reports as JSON-ready dicts and as CSV (pure: no I/O).

Amounts are integer cents in both (``reported_cents: 12345`` is EUR 123.45), never a float or a
decimal string; ratios and day counts are decimal strings (``"0.2500"``, ``"12.5"``), empty in CSV
and null in JSON when there is nothing to divide.

Reconciliation CSV, one row per line of the report (``row`` says which):

``office_code, period_from, period_to, currency, row, key, acts, unpriced_acts, reported_cents,
tariff_cents, reported_minus_tariff_cents, invoiced_cents, paid_cents, invoices_received,
invoices_received_cents, disputed_lines, disputed_cents``

- ``row=total`` (``key`` empty): every column.
- ``row=act_type`` (``key`` = act code): acts, unpriced_acts, reported, tariff, their difference;
  invoiced and paid are empty (an invoice is posted per case, not per act).
- ``row=dispute`` (``key`` = the line's result, e.g. ``above_tariff``): disputed_lines, disputed_cents.

Scorecard CSV, one row per office x act type, plus one row per office with ``act_code=ALL`` (its
totals; the office-level columns are filled on that row only):

``office_code, period_from, period_to, currency, act_code, acts, flagged_acts, collected_cents,
fees_cents, net_cents, cases, cost_per_case_cents, recovered_per_case_cents, mandates_sent,
mandates_refused, refusal_rate, first_act_mandates, first_act_median_days, first_act_mean_days``
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from hub.finance.reports import Reconciliation, Scorecard, ScoreLine
from hub.remittances.ageing import OfficeUnremitted

RECONCILIATION_COLUMNS = (
    "office_code",
    "period_from",
    "period_to",
    "currency",
    "row",
    "key",
    "acts",
    "unpriced_acts",
    "reported_cents",
    "tariff_cents",
    "reported_minus_tariff_cents",
    "invoiced_cents",
    "paid_cents",
    "invoices_received",
    "invoices_received_cents",
    "disputed_lines",
    "disputed_cents",
)
SCORECARD_COLUMNS = (
    "office_code",
    "period_from",
    "period_to",
    "currency",
    "act_code",
    "acts",
    "flagged_acts",
    "collected_cents",
    "fees_cents",
    "net_cents",
    "cases",
    "cost_per_case_cents",
    "recovered_per_case_cents",
    "mandates_sent",
    "mandates_refused",
    "refusal_rate",
    "first_act_mandates",
    "first_act_median_days",
    "first_act_mean_days",
    "unremitted_cents",
    "unremitted_oldest_on",
    "unremitted_overdue",
)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def reconciliation_json(rec: Reconciliation) -> dict[str, Any]:
    return {
        "office_code": rec.office_code,
        "from": rec.start.isoformat(),
        "to": rec.end.isoformat(),
        "currency": rec.currency,
        "totals": {
            "acts": rec.acts,
            "unpriced_acts": rec.unpriced_acts,
            "reported_cents": rec.ledger.fees_cents,
            "tariff_cents": rec.tariff_cents,
            "reported_minus_tariff_cents": rec.ledger.fees_cents - rec.tariff_cents,
            "invoiced_cents": rec.ledger.invoiced_cents,
            "paid_cents": rec.ledger.paid_cents,
            "invoiced_minus_reported_cents": rec.ledger.invoiced_cents - rec.ledger.fees_cents,
            "invoices_received": rec.invoices_received,
            "invoices_received_cents": rec.invoices_received_cents,
            "disputed_lines": rec.disputed_lines,
            "disputed_cents": rec.disputed_cents,
        },
        "act_types": [
            {
                "act_code": line.act_code,
                "acts": line.acts,
                "unpriced_acts": line.unpriced_acts,
                "reported_cents": line.reported_cents,
                "tariff_cents": line.tariff_cents,
                "reported_minus_tariff_cents": line.reported_minus_tariff_cents,
            }
            for line in rec.act_types
        ],
        "disputed": [{"code": d.code, "lines": d.lines, "cents": d.cents} for d in rec.disputes],
    }


def reconciliation_rows(rec: Reconciliation) -> list[dict[str, Any]]:
    head = {
        "office_code": rec.office_code,
        "period_from": rec.start.isoformat(),
        "period_to": rec.end.isoformat(),
        "currency": rec.currency,
    }
    totals = reconciliation_json(rec)["totals"]
    rows: list[dict[str, Any]] = [
        {
            **head,
            "row": "total",
            "key": "",
            **{k: v for k, v in totals.items() if k in RECONCILIATION_COLUMNS},
        }
    ]
    for line in rec.act_types:
        rows.append(
            {
                **head,
                "row": "act_type",
                "key": line.act_code,
                "acts": line.acts,
                "unpriced_acts": line.unpriced_acts,
                "reported_cents": line.reported_cents,
                "tariff_cents": line.tariff_cents,
                "reported_minus_tariff_cents": line.reported_minus_tariff_cents,
            }
        )
    for dispute in rec.disputes:
        rows.append(
            {
                **head,
                "row": "dispute",
                "key": dispute.code,
                "disputed_lines": dispute.lines,
                "disputed_cents": dispute.cents,
            }
        )
    return rows


def _score_line(line: ScoreLine) -> dict[str, Any]:
    return {
        "act_code": line.act_code,
        "acts": line.acts,
        "flagged_acts": line.flagged_acts,
        "collected_cents": line.ledger.collected_cents,
        "fees_cents": line.ledger.fees_cents,
        "net_cents": line.ledger.net_cents,
    }


def _office_level(card: Scorecard) -> dict[str, Any]:
    return {
        "cases": card.cases,
        "cost_per_case_cents": card.cost_per_case_cents,
        "recovered_per_case_cents": card.recovered_per_case_cents,
        "mandates_sent": card.mandates_sent,
        "mandates_refused": card.mandates_refused,
        "refusal_rate": _text(card.refusal_rate),
        "first_act_mandates": card.first_act_mandates,
        "first_act_median_days": _text(card.first_act_median_days),
        "first_act_mean_days": _text(card.first_act_mean_days),
        # Held by the office today, whatever the period: collected and not remitted yet.
        "unremitted_cents": card.unremitted_cents,
        "unremitted_oldest_on": None
        if card.unremitted_oldest_on is None
        else card.unremitted_oldest_on.isoformat(),
        "unremitted_overdue": card.unremitted_overdue,
    }


def scorecard_json(cards: Sequence[Scorecard]) -> list[dict[str, Any]]:
    return [
        {
            "office_code": card.office_code,
            **{k: v for k, v in _score_line(card.total).items() if k != "act_code"},
            "remitted_cents": card.total.ledger.remitted_cents,
            "written_off_cents": card.total.ledger.written_off_cents,
            **_office_level(card),
            "act_types": [_score_line(line) for line in card.act_types],
        }
        for card in cards
    ]


def scorecard_rows(cards: Sequence[Scorecard]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for card in cards:
        head = {
            "office_code": card.office_code,
            "period_from": card.start.isoformat(),
            "period_to": card.end.isoformat(),
            "currency": card.currency,
        }
        rows.append({**head, **_score_line(card.total), **_office_level(card)})
        rows.extend({**head, **_score_line(line)} for line in card.act_types)
    return rows


def _cell(value: Any) -> Any:
    """``None`` as an empty cell, a flag as in JSON (``true``, ``false``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def to_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """RFC 4180 CSV (CRLF line ends), a header row, ``None`` as an empty cell, flags as in JSON."""
    sink = io.StringIO()
    writer = csv.DictWriter(sink, fieldnames=list(columns), extrasaction="raise")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: _cell(row.get(column)) for column in columns})
    return sink.getvalue()


def unremitted_json(held: Sequence[OfficeUnremitted], *, today: date, deadline_days: int) -> dict[str, Any]:
    """``GET /v1/finance/unremitted``'s answer."""
    return {
        "as_of": today.isoformat(),
        "deadline_days": deadline_days,
        "offices": [
            {
                "office_code": o.office_code,
                "currency": o.currency,
                "amount_cents": o.cents,
                "oldest_collected_on": o.oldest_on.isoformat(),
                "age_days": o.age_days,
                "overdue": o.overdue,
                "cases": [
                    {
                        "case_ref": c.case_ref,
                        "amount_cents": c.cents,
                        "oldest_collected_on": c.oldest_on.isoformat(),
                        "age_days": c.age_days,
                        "overdue": c.overdue,
                    }
                    for c in o.cases
                ],
            }
            for o in held
        ],
    }
