"""The one loader of the legal figures' files: every fault with its path, in one report, whatever
the file; periods in sequence; a new file must follow the packaged periods without overlap or gap."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hub.tariff.catalogue import CATALOGUE_FILE, Catalogue
from hub.tariff.data import MalformedTariffData, Period, follow_problems, read, sequence_problems
from hub.tariff.pay_scale import PAY_SCALE_FILE, PayScaleFile
from hub.tariff.rsa import RSA_FILE, RsaFile

DATA = Path(__file__).parents[3] / "hub" / "tariff"


def test_a_malformed_catalogue_reports_every_fault_with_its_path(tmp_path: Path) -> None:
    text = (DATA / CATALOGUE_FILE).read_text(encoding="utf-8")
    for before, after in [
        ("emolument_cents = 2579", "emolument_cents = 25.79"),
        ('label_en = "Summons to appear in court"\n', ""),
        ("vat_base = true\n", ""),
        ("cap_cents = 26813", 'cap_cents = "26813"'),
    ]:
        assert before in text
        text = text.replace(before, after, 1)
    path = tmp_path / "catalogue.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MalformedTariffData) as caught:
        read(Catalogue, path)
    paths = [item.path for item in caught.value.errors]
    assert paths == [
        "acts.SUMMONS.label_en",
        "periods.0.engagement_fee.cap_cents",
        "periods.0.disbursements.TRAVEL.vat_base",
        "periods.0.fees.SERVE_TITLE.emolument_cents",
    ]
    assert caught.value.detail.startswith(f"{path}: 4 problem(s)")
    assert caught.value.code == "malformed_tariff_data"


@pytest.mark.parametrize(
    ("model", "filename"), [(Catalogue, CATALOGUE_FILE), (RsaFile, RSA_FILE), (PayScaleFile, PAY_SCALE_FILE)]
)
def test_every_packaged_file_goes_through_the_one_loader(model: type, filename: str) -> None:
    loaded = read(model, DATA / filename)
    assert loaded.periods and sequence_problems(loaded.periods, filename) == []


def test_a_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rsa.toml"
    path.write_text((DATA / PAY_SCALE_FILE).read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(MalformedTariffData, match=r"kind: Input should be 'rsa'"):
        read(RsaFile, path)


def P(name: str, start: str, end: str | None = None) -> Period:
    return Period(name=name, valid_from=date.fromisoformat(start), valid_to=end and date.fromisoformat(end))


def test_periods_must_follow_each_other_day_after_day() -> None:
    assert sequence_problems([P("a", "2025-01-01", "2025-12-31"), P("b", "2026-01-01")], "x") == []
    [overlap] = sequence_problems([P("a", "2025-01-01", "2026-01-01"), P("b", "2026-01-01")], "x")
    assert "a (2025-01-01 to 2026-01-01) must end before b" in overlap
    [gap] = sequence_problems([P("a", "2025-01-01", "2025-12-30"), P("b", "2026-01-01")], "x")
    assert "gap: a ends on 2025-12-30, b starts on 2026-01-01" in gap
    [open_early] = sequence_problems([P("a", "2025-01-01"), P("b", "2026-01-01")], "x")
    assert "a has no valid_to but a later period follows" in open_early
    [backwards] = sequence_problems([P("a", "2025-01-01", "2024-01-01")], "x")
    assert "valid_to is before valid_from" in backwards


@pytest.mark.parametrize(
    ("packaged", "new", "expected"),
    [
        ([P("old", "2025-04-01")], [P("new", "2026-04-01")], None),  # closes the open one on its eve
        ([P("old", "2025-04-01", "2026-03-31")], [P("new", "2026-04-01")], None),
        (
            [P("old", "2025-04-01", "2026-03-31")],
            [P("new", "2026-04-02")],
            "no figure would be in force between",
        ),
        ([P("old", "2025-04-01", "2026-03-31")], [P("new", "2026-03-31")], "the periods overlap"),
        ([P("old", "2025-04-01")], [P("new", "2025-04-01")], "inside the packaged period(s) old"),
        ([P("old", "2025-04-01")], [P("new", "2024-04-01")], "inside the packaged period(s) old"),
    ],
)
def test_a_new_file_must_follow_the_packaged_periods(
    packaged: list[Period], new: list[Period], expected: str | None
) -> None:
    problems = follow_problems(packaged, new, "RSA")
    if expected is None:
        assert problems == []
    else:
        [problem] = problems
        assert expected in problem
