"""``hub backtest`` as an operator runs it: a subprocess, twice, for the same table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HUB = [sys.executable, "-m", "hub", "backtest"]


def _start(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, HUB_AMQP_URL="", HUB_ENV="development")
    return subprocess.Popen([*HUB, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _euros(table: str, row: str) -> list[int]:
    """The cents of each way's cell in a printed row of amounts (``1234.56 EUR`` -> 123456)."""
    line = next(line for line in table.splitlines() if line.startswith(row))
    cells = line[len(row) :].split("EUR")[:-1]
    return [int(cell.strip().replace(".", "")) for cell in cells]


def _finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out


def test_the_same_seed_prints_the_same_table_twice_with_the_three_ways(tmp_path: Path) -> None:
    report = tmp_path / "backtest.json"
    runs = [
        _start("--seed", "1", "--cases", "200"),
        _start("--seed", "1", "--cases", "200", "--out", str(report)),
    ]
    first, second = (_finish(p) for p in runs)
    assert second.splitlines()[:-1] == first.splitlines()  # the last line says where the JSON went
    header = first.splitlines()[1]
    assert header.split() == ["every", "act", "naive", "rule", "hub's", "rule"]
    for row in (
        "money recovered",
        "costs borne by the creditor",
        "net to the creditor",
        "acts ordered",
        "acts avoided",
    ):
        assert any(line.startswith(row) for line in first.splitlines()), row
    figures = json.loads(report.read_text())
    assert figures["seed"] == 1 and figures["cases"] == 200
    assert list(figures["ways"]) == ["every_act", "naive", "hub"]
    hub = figures["ways"]["hub"]
    assert hub["acts_avoided"] > 0 and hub["barred_acts_ordered"] == 0
    assert hub["false_flags"] + hub["missed_flags"] <= hub["flags_checked"]
    net = next(line for line in first.splitlines() if line.startswith("net to the creditor"))
    assert f"{hub['net_to_creditor_cents'] // 100}." in net.split()[-2]
    # The printed totals are the ledger's balances per account, way by way.
    ledgers = [figures["ways"][key]["ledger_balances_cents"] for key in ("every_act", "naive", "hub")]
    assert _euros(first, "money recovered") == [ledger["collected_by_office"] for ledger in ledgers]
    assert _euros(first, "costs borne by the creditor") == [ledger["written_off"] for ledger in ledgers]
    assert _euros(first, "net to the creditor") == [
        ledger["collected_by_office"] + ledger["payable_to_office"] for ledger in ledgers
    ]
