"""``hub tariff show`` and ``hub tariff check``, run as an operator runs them: subprocesses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HUB = [sys.executable, "-m", "hub", "tariff"]
DATA = Path(__file__).parents[3] / "hub" / "tariff"


def hub(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*HUB, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == code, result.stdout + result.stderr
    return result


def test_show_prints_every_figure_in_force_with_period_source_and_marker() -> None:
    out = hub("show", "--on", "2025-04-01").stdout
    assert out.startswith("Legal figures in force on 2025-04-01\n")
    assert "Tariff 2024-03 (2024-03-01 to 2025-06-30), VAT 20 %" in out
    assert "collection fee on the creditor (A444-32): 21.50 EUR up to 188.00 EUR" in out
    assert "3.91 % above 1525.00 EUR; cap 5540.00 EUR; source: A444-32" in out
    assert "disbursement TRAVEL: 7.67 EUR, in the VAT base" in out
    travel = next(line for line in out.splitlines() if "disbursement TRAVEL" in line)
    assert travel.endswith("[UNCONFIRMED]")
    serve = next(line for line in out.splitlines() if "service of a title 25.79" in line)
    assert "UNCONFIRMED" not in serve
    assert "Single-person RSA 2025-04 (2025-04-01 to open end): 646.52 EUR a month" in out
    assert "Wage-garnishment scale 2025 (2025-01-01 to 2025-12-31)" in out
    assert "30.09 EUR x coefficient" in out  # the court request, before the reform


def test_show_follows_the_date() -> None:
    out = hub("show", "--on", "2026-01-01").stdout
    assert "Tariff 2025-07 (2025-07-01 to open end)" in out
    assert "Surcharge on the payment order: 5.84 EUR, no coefficient, until 2028-02-29" in out
    scale = next(line for line in out.splitlines() if line.startswith("Wage-garnishment scale"))
    assert scale.startswith("Wage-garnishment scale 2026 (2026-01-01 to open end)") and scale.endswith(
        "[UNCONFIRMED]"
    )
    assert "Surcharge" not in hub("show", "--on", "2028-03-01").stdout
    assert "Legal figures in force on" in hub("show").stdout  # today


def test_show_fails_on_a_date_with_no_figure_in_force() -> None:
    result = hub("show", "--on", "2024-02-29", code=1)
    assert "no tariff in force on 2024-02-29" in result.stderr
    assert "no single-person RSA in force on 2024-02-29" in result.stderr
    assert "no wage-garnishment scale in force on 2024-02-29" in result.stderr
    assert "not a date" in hub("show", "--on", "29/02/2024", code=2).stderr


RSA_2026 = """kind = "rsa"

[[periods]]
name = "2026-04"
valid_from = 2026-04-01
single_person_monthly_cents = 65700
confirmed = false
source = "UNCONFIRMED: expected revaluation of 1 Apr 2026"
"""


def write(tmp_path: Path, text: str, name: str = "new.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_check_accepts_a_period_that_follows_and_summarises_it(tmp_path: Path) -> None:
    out = hub("check", write(tmp_path, RSA_2026)).stdout
    assert "valid rsa data, 1 period(s):" in out
    assert "  2026-04: 2026-04-01 to open end" in out
    assert "unconfirmed figures (1): 2026-04" in out


def test_check_accepts_a_new_tariff_period(tmp_path: Path) -> None:
    catalogue = (DATA / "catalogue.toml").read_text(encoding="utf-8")
    last = catalogue.split("\n[[periods]]\n")[-1]
    period = last.replace('name = "2025-07"', 'name = "2026-09"').replace(
        "valid_from = 2025-07-01", "valid_from = 2026-09-01"
    )
    out = hub("check", write(tmp_path, f'kind = "tariff"\n\n[[periods]]\n{period}')).stdout
    assert "valid tariff data, 1 period(s):\n  2026-09: 2026-09-01 to open end" in out
    assert "2026-09.disbursements.TRAVEL" in out


def test_check_reports_every_fault_with_its_path(tmp_path: Path) -> None:
    text = """kind = "pay_scale"

[[periods]]
name = "2027"
valid_from = 2027-01-01
per_dependent_cents = 1720.00
bands = [{ up_to_cents = 444000, numerator = 1, denominator = 20 }, { numerator = 1 }]
confirmed = "yes"
"""
    result = hub("check", write(tmp_path, text), code=1)
    assert "error: 4 problem(s) in the file" in result.stderr
    for line in [
        "  periods.0.per_dependent_cents: write amounts as integer cents",
        "  periods.0.bands.1.denominator: Field required",
        "  periods.0.confirmed: Input should be a valid boolean",
        "  periods.0.source: Field required",
    ]:
        assert line in result.stderr


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("valid_from = 2026-04-01", "valid_from = 2025-04-01", "inside the packaged period(s) 2025-04"),
        ('kind = "rsa"', 'kind = "rates"', 'kind: must be one of "tariff", "rsa", "pay_scale"'),
        ("valid_from = 2026-04-01", "valid_from = 2026-04-01\nvalid_to = 2026-03-01", "valid_to is before"),
    ],
)
def test_check_refuses_an_overlap_an_unknown_kind_or_a_backward_period(
    tmp_path: Path, before: str, after: str, expected: str
) -> None:
    result = hub("check", write(tmp_path, RSA_2026.replace(before, after)), code=1)
    assert expected in result.stderr


def test_check_refuses_an_unreadable_file(tmp_path: Path) -> None:
    assert "not valid TOML" in hub("check", write(tmp_path, "kind = \n"), code=1).stderr
    assert "cannot be read" in hub("check", str(tmp_path / "absent.toml"), code=1).stderr
