"""The recovery rule's working assumptions, validated from ``assumptions.toml`` once per process.

Every share and factor is integer basis points in the file and a ``Fraction`` in the rules.
"""

from __future__ import annotations

import functools
import importlib.resources
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints, ValidationError, model_validator

from hub.kit.errors import ErrorItem, HubError

ASSUMPTIONS_FILE = "assumptions.toml"
BASIS_POINTS = 10_000

Cents = Annotated[int, Strict(), Field(ge=0)]
Share = Annotated[int, Strict(), Field(ge=0, le=BASIS_POINTS)]
Count = Annotated[int, Strict(), Field(gt=0)]
Text = Annotated[str, Strict(), StringConstraints(min_length=1)]
Code = Annotated[str, Strict(), StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")]


def share(basis_points: int) -> Fraction:
    return Fraction(basis_points, BASIS_POINTS)


def percent(value: Fraction) -> str:
    """``Fraction(5, 8)`` -> ``"62.5 %"`` (to the tenth, half up), for sentences only."""
    tenths = int(value * 1000 + Fraction(1, 2))
    return f"{tenths // 10}.{tenths % 10} %"


class MalformedAssumptions(HubError):
    """The assumptions data file is unreadable or inconsistent: a deployment fault."""

    status = 500
    code = "malformed_recovery_assumptions"
    title = "The recovery assumptions are malformed"


class Asset(StrEnum):
    """What a collecting act reaches: the bound of what it can bring back."""

    BANK_BALANCE = "bank_balance"
    PAY = "pay"
    GOODS = "goods"
    VEHICLE = "vehicle"


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RecoveryTerms(_Data):
    """The prior of the expected share of the balance an act brings back (``hub.recovery.recovery_rates``)."""

    prior_weight: Count
    office_prior_weight: Count
    default_prior_bp: Share
    prior_bp: dict[Code, Share]

    def prior_mean(self, act_code: str) -> Fraction:
        return share(self.prior_bp.get(act_code, self.default_prior_bp))


class ActRole(_Data):
    """How one act relates to money (see the comments in the data file)."""

    asset: Asset | None = None
    implies: tuple[Code, ...] = ()
    requires: tuple[Code, ...] = ()
    opens: tuple[Code, ...] = ()
    via: tuple[Code, ...] = ()
    secures: Code | None = None
    duty: Text | None = None
    outcome_of: Text | None = None

    @model_validator(mode="after")
    def _one_role(self) -> ActRole:
        roles = [
            self.asset is not None,
            bool(self.opens),
            self.secures is not None,
            self.duty is not None,
            self.outcome_of is not None,
        ]
        if sum(roles) > 1:
            raise ValueError("an act has at most one of asset, opens, secures, duty, outcome_of")
        if self.via and not self.opens:
            raise ValueError("via only makes sense with opens")
        return self


class EvidenceFactor(_Data):
    """A piece of evidence of insolvency: its factor on each asset when fresh, fading linearly to no
    effect over ``fade_months`` (never a cliff)."""

    fade_months: Count
    goods_bp: Share
    bank_balance_bp: Share
    pay_bp: Share
    vehicle_bp: Share

    def factor(self, asset: Asset) -> Fraction:
        """The factor when the evidence is fresh."""
        by_asset = {
            Asset.GOODS: self.goods_bp,
            Asset.BANK_BALANCE: self.bank_balance_bp,
            Asset.PAY: self.pay_bp,
            Asset.VEHICLE: self.vehicle_bp,
        }
        return share(by_asset[asset])


class EvidenceTerms(_Data):
    no_goods_report: EvidenceFactor
    address_unknown: EvidenceFactor
    failed_garnishment: EvidenceFactor


class EvidenceAge(_Data):
    """How much a known asset (a balance seen, a pay known, goods valued) is still worth as evidence:
    in full up to ``full_months``, then down linearly to ``stale_bp`` at ``stale_months`` and after."""

    full_months: Annotated[int, Strict(), Field(ge=0)]
    stale_months: Count
    stale_bp: Share
    undated_bp: Share
    """Evidence without a date is counted at this share: its age is unknown."""

    @model_validator(mode="after")
    def _ordered(self) -> EvidenceAge:
        if self.stale_months <= self.full_months:
            raise ValueError("stale_months must come after full_months")
        return self


class Assumptions(_Data):
    version: Text
    horizon_months: Count
    auction_share_bp: Share
    prior_act_valid_months: Count
    sale_costs_bp: Share
    recovery: RecoveryTerms
    acts: dict[Code, ActRole]
    evidence: EvidenceTerms
    evidence_age: EvidenceAge

    @model_validator(mode="after")
    def _targets_collect(self) -> Assumptions:
        problems = []
        for code, role in self.acts.items():
            for target in role.opens:
                target_role = self.acts.get(target)
                if target_role is None or target_role.asset is None:
                    problems.append(f"acts.{code}.opens: {target} must be an act with an asset")
            if role.secures is not None and self.role(role.secures).asset is None:
                problems.append(f"acts.{code}.secures: {role.secures} must be an act with an asset")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def role(self, act_code: str) -> ActRole:
        return self.acts.get(act_code, ActRole())

    @property
    def auction_share(self) -> Fraction:
        return share(self.auction_share_bp)


def parse_assumptions(raw: Mapping[str, Any], origin: str = "<assumptions>") -> Assumptions:
    try:
        return Assumptions.model_validate(raw)
    except ValidationError as exc:
        items = [
            ErrorItem(path=".".join(str(p) for p in e["loc"]) or "(file)", code=e["type"], message=e["msg"])
            for e in exc.errors()
        ]
        listing = "; ".join(f"{i.path}: {i.message}" for i in items)
        raise MalformedAssumptions(f"{origin}: {listing}", errors=items) from exc


@functools.cache
def load_assumptions() -> Assumptions:
    """The assumptions packaged with the hub, read once per process."""
    origin = f"hub/recovery/{ASSUMPTIONS_FILE}"
    text = importlib.resources.files("hub.recovery").joinpath(ASSUMPTIONS_FILE).read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MalformedAssumptions(f"{origin}: not valid TOML: {exc}") from exc
    return parse_assumptions(raw, origin)
