"""The recovery assumptions data file: integer basis points, consistent roles, refused when malformed."""

from __future__ import annotations

import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from hub.recovery.assumptions import (
    ASSUMPTIONS_FILE,
    Asset,
    MalformedAssumptions,
    load_assumptions,
    parse_assumptions,
)
from hub.tariff.catalogue import load_catalogue

PACKAGED = Path(__file__).parents[3] / "hub" / "recovery" / ASSUMPTIONS_FILE


def raw() -> dict[str, Any]:
    return tomllib.loads(PACKAGED.read_text(encoding="utf-8"))


def test_packaged_assumptions_load() -> None:
    terms = load_assumptions()
    assert terms.horizon_months == 12
    assert terms.auction_share == Fraction(3, 10)
    assert terms.role("BANK_GARNISHMENT").asset is Asset.BANK_BALANCE
    assert terms.role("BANK_GARNISHMENT").implies == ("GARNISHMENT_NOTICE",)
    assert terms.role("SEIZURE_SALE").requires == ("PAYMENT_ORDER",)


def test_every_act_named_in_the_assumptions_is_in_the_catalogue() -> None:
    terms = load_assumptions()
    catalogue = load_catalogue()
    named = set(terms.acts) | set(terms.recovery.prior_bp)
    for role in terms.acts.values():
        named |= {*role.implies, *role.requires, *role.opens, *role.via}
    assert named <= set(catalogue.acts)


def test_an_opened_path_must_lead_to_a_collecting_act() -> None:
    data = raw()
    data["acts"]["SERVE_TITLE"]["opens"] = ["INFO_SEARCH"]
    with pytest.raises(MalformedAssumptions, match="must be an act with an asset"):
        parse_assumptions(data)


def test_a_decimal_share_is_refused() -> None:
    data = raw()
    data["auction_share_bp"] = 0.3
    with pytest.raises(MalformedAssumptions, match="auction_share_bp"):
        parse_assumptions(data)
