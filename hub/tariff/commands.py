"""``hub tariff ...`` commands, mounted by ``hub.cli``: what legal figures are in force on a date, and
whether a new data file (a tariff period, an RSA year or a pay scale) may be loaded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from hub.kit.commands import parse_day
from hub.kit.errors import ErrorItem
from hub.tariff.catalogue import (
    Catalogue,
    CoefficientTerms,
    ProportionalTerms,
    TariffFile,
    TariffPeriod,
    load_catalogue,
    period_unconfirmed,
    pricing_problems,
)
from hub.tariff.data import (
    MalformedTariffData,
    NoFigureInForce,
    Period,
    decode,
    eur,
    follow_problems,
    parse,
    percent,
    read_text,
)
from hub.tariff.pay_scale import PayScale, PayScaleFile, load_pay_scales
from hub.tariff.rsa import RsaFile, RsaPeriod, load_rsa

tariff_app = typer.Typer(
    help="Legal figures: the tariff, the RSA and the pay scale, as dated data.", no_args_is_help=True
)

UNCONFIRMED = "  [UNCONFIRMED]"


def _day(text: str | None) -> date:
    if text is None:
        return date.today()
    return parse_day(text)


def _mark(confirmed: bool) -> str:
    return "" if confirmed else UNCONFIRMED


def _proportional(terms: ProportionalTerms) -> str:
    lower = 0
    parts = []
    for bracket in terms.brackets:
        top = "" if bracket.up_to_cents is None else f" to {eur(bracket.up_to_cents)}"
        above = f" above {eur(lower)}" if bracket.up_to_cents is None else top
        parts.append(f"{percent(bracket.rate_bp)}{above}")
        lower = bracket.up_to_cents or lower
    return (
        f"{eur(terms.flat_cents)} up to {eur(terms.flat_up_to_cents)}, else {', '.join(parts)}; "
        f"cap {eur(terms.cap_cents)}"
    )


def _coefficient(terms: CoefficientTerms) -> str:
    parts = []
    for bracket in terms.brackets:
        factor = f"{bracket.factor_tenths / 10:g}"
        word = "up to" if terms.upper_bound == "inclusive" else "under"
        parts.append(
            f"{factor} {word} {eur(bracket.up_to_cents)}" if bracket.up_to_cents else f"{factor} above"
        )
    return ", ".join(parts)


def _tariff_lines(period: TariffPeriod, on: date) -> list[str]:
    lines = [
        f"Tariff {period.name} ({period.span()}), VAT {percent(period.vat_rate_bp)}; source: {period.source}",
        f"  claim coefficient (A444-46): {_coefficient(period.coefficient)}; "
        f"source: {period.coefficient.source}{_mark(period.coefficient.confirmed)}",
    ]
    fees: list[tuple[str, ProportionalTerms]] = [
        ("engagement fee (DEP, A444-15)", period.engagement_fee),
        ("recovery fee on the debtor (A444-31)", period.recovery_fee),
        ("collection fee on the creditor (A444-32)", period.collection_fee),
    ]
    lines += [f"  {name}: {_proportional(t)}; source: {t.source}{_mark(t.confirmed)}" for name, t in fees]
    for disbursement in period.disbursements.values():
        base = "in the VAT base" if disbursement.vat_base else "outside the VAT base"
        lines.append(
            f"  disbursement {disbursement.code}: {eur(disbursement.cents)}, {base}; "
            f"source: {disbursement.source}{_mark(disbursement.confirmed)}"
        )
    for fee in period.fees.values():
        dep = ", bears the DEP" if fee.bears_engagement_fee else ""
        extra = f", disbursements {', '.join(fee.disbursements)}" if fee.disbursements else ""
        lines.append(f"  act {fee.code}{dep}{extra}:")
        for item in fee.priced_items():
            if not item.in_force(on):
                continue
            name = f"{item.label_en}: " if item.label_en else ""
            coefficient = " x coefficient" if item.coefficient_applies else ", no coefficient"
            until = f", until {item.valid_to.isoformat()}" if item.valid_to else ""
            lines.append(
                f"    {name}{eur(item.emolument_cents)}{coefficient}{until}; "
                f"source: {item.source}{_mark(item.confirmed)}"
            )
    return lines


def _rsa_lines(period: RsaPeriod) -> list[str]:
    return [
        f"Single-person RSA {period.name} ({period.span()}): "
        f"{eur(period.single_person_monthly_cents)} a month, "
        "the unseizable bank minimum (L162-2 / R162-2 CPCE) and the pay floor (R3252-5 Code du travail); "
        f"source: {period.source}{_mark(period.confirmed)}"
    ]


def _scale_lines(scale: PayScale) -> list[str]:
    bands = []
    for band in scale.bands:
        top = f"to {eur(band.up_to_cents)}" if band.up_to_cents else "above"
        bands.append(f"{band.numerator}/{band.denominator} {top}")
    return [
        f"Wage-garnishment scale {scale.name} ({scale.span()}), on annual net pay: {', '.join(bands)}; "
        f"+{eur(scale.per_dependent_cents)} per dependent; source: {scale.source}{_mark(scale.confirmed)}"
    ]


@tariff_app.command("show")
def show(
    on: Annotated[str | None, typer.Option("--on", help="Date YYYY-MM-DD (default: today)")] = None,
) -> None:
    """Print every legal figure in force on a date, with its period, its source and an UNCONFIRMED
    marker where the figure is not confirmed. Exits 1 when some figure has no period on that date."""
    day = _day(on)
    typer.echo(f"Legal figures in force on {day.isoformat()}")
    sections: list[Callable[[], list[str]]] = [
        lambda: _tariff_lines(load_catalogue().period_on(day), day),
        lambda: _rsa_lines(load_rsa().period_on(day)),
        lambda: _scale_lines(load_pay_scales().scale_on(day)),
    ]
    missing = False
    for section in sections:
        try:
            lines = section()
        except NoFigureInForce as exc:
            missing = True
            typer.secho(f"error: {exc.detail}", fg=typer.colors.RED, err=True)
            continue
        typer.echo("\n".join(lines))
    if missing:
        raise typer.Exit(code=1)


def _check_tariff(raw: dict[str, Any], origin: str) -> tuple[Sequence[Period], list[str], list[str]]:
    catalogue: Catalogue = load_catalogue()
    new = parse(TariffFile, raw, origin).periods
    problems = pricing_problems(catalogue.acts, new) + follow_problems(catalogue.periods, new, "tariff")
    unconfirmed = [name for period in new for name in period_unconfirmed(period)]
    return new, problems, unconfirmed


def _check_rsa(raw: dict[str, Any], origin: str) -> tuple[Sequence[Period], list[str], list[str]]:
    new = parse(RsaFile, raw, origin).periods
    problems = follow_problems(load_rsa().periods, new, "RSA")
    return new, problems, [p.name for p in new if not p.confirmed]


def _check_pay_scale(raw: dict[str, Any], origin: str) -> tuple[Sequence[Period], list[str], list[str]]:
    new = parse(PayScaleFile, raw, origin).periods
    problems = follow_problems(load_pay_scales().periods, new, "wage-garnishment scale")
    return new, problems, [p.name for p in new if not p.confirmed]


CHECKS = {"tariff": _check_tariff, "rsa": _check_rsa, "pay_scale": _check_pay_scale}


def _fail(message: str, items: Sequence[ErrorItem]) -> None:
    typer.secho(
        f"error: {message}" if not items else f"error: {len(items)} problem(s) in the file",
        fg=typer.colors.RED,
        err=True,
    )
    for item in items:
        typer.secho(f"  {item.path}: {item.message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


@tariff_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="A data file: new tariff periods, RSA or pay scale")],
) -> None:
    """Validate a data file before it is loaded: every fault with its path, and its periods must
    continue the packaged ones without overlap or gap. Exits 1 on any fault."""
    origin = str(file)
    try:
        raw = decode(read_text(file), origin)
        kind = raw.get("kind")
        if kind not in CHECKS:
            known = ", ".join(f'"{k}"' for k in CHECKS)
            item = ErrorItem(
                path="kind", code="unknown_kind", message=f"must be one of {known}, got {kind!r}"
            )
            _fail("", [item])
        new, problems, unconfirmed = CHECKS[str(kind)](raw, origin)
    except MalformedTariffData as exc:
        _fail(exc.detail, exc.errors)
        return
    if problems:
        _fail("", [ErrorItem(path="periods", code="periods_do_not_follow", message=p) for p in problems])
    typer.echo(f"{origin}: valid {kind} data, {len(new)} period(s):")
    for period in new:
        typer.echo(f"  {period.name}: {period.span()}")
    if unconfirmed:
        typer.echo(f"unconfirmed figures ({len(unconfirmed)}): {', '.join(unconfirmed)}")
    else:
        typer.echo("every figure is confirmed")
