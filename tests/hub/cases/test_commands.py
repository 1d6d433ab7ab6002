"""``hub cases ...`` as users run it: imports with every bad row listed by line, updates, holds."""

from __future__ import annotations

from pathlib import Path

from tests.hub.test_cli import hub, hub_env  # noqa: F401 - the CLI fixture

HEADER = (
    "ref,creditor.name,debtor.kind,debtor.name,debtor.address.departement,claim.principal_cents,"
    "claim_kind,title.kind,title.issued_on,evidence.bank_balance_cents\n"
)


def test_import_lists_bad_rows_and_imports_good_ones(hub_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "cases.csv"
    path.write_text(
        HEADER
        + "C-1,Banque,person,Jean,75,500000,consumer,judgment,2025-01-02,\n"
        + "C-2,Banque,robot,Anne,75,-5,consumer,,,\n"
        + "C-3,Banque,company,SARL X,99,1000,commercial,,,0\n"
        + "C-1,Banque,person,Jean,75,500000,consumer,,,\n",
        encoding="utf-8",
    )
    hub(hub_env, "migrate")
    result = hub(hub_env, "cases", "import", str(path), ok=False)
    assert result.returncode == 1
    assert "1 case(s) imported, 3 row(s) rejected" in result.stdout
    assert "line 3: debtor.kind:" in result.stderr and "line 3: claim.principal_cents:" in result.stderr
    assert "line 4: debtor.address.departement:" in result.stderr
    assert "line 5: ref:" in result.stderr and "case.duplicate_in_file" in result.stderr
    again = hub(hub_env, "cases", "import", str(path), ok=False)
    assert "0 case(s) imported, 4 row(s) rejected" in again.stdout
    assert "line 2: ref:" in again.stderr and "case.exists" in again.stderr


def test_update_records_a_payment_and_lists_every_refusal(hub_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "cases.csv"
    path.write_text(
        HEADER + "C-9,Banque,person,Jean,75,50000,consumer,judgment,2025-01-02,\n", encoding="utf-8"
    )
    hub(hub_env, "migrate")
    hub(hub_env, "cases", "import", str(path))
    hub(hub_env, "staff", "add", "paul@agence.example", "--role", "staff")
    base = ["cases", "update", "C-9", "--kind", "payment_received", "--on", "2026-01-05"]
    by = ["--by", "paul@agence.example"]

    paid = hub(hub_env, *base, "--reference", "R-1", "--amount-cents", "20000", *by)
    assert "payment_received on case C-9 by paul@agence.example: balance 30000 EUR" in paid.stdout
    again = hub(hub_env, *base, "--reference", "R-1", "--amount-cents", "20000", *by, ok=False)
    assert again.returncode == 1 and "case_update.duplicate" in again.stderr
    above = hub(hub_env, *base, "--reference", "R-2", "--amount-cents", "30001", *by, ok=False)
    assert above.returncode == 1 and "payment.amount_cents" in above.stderr
    assert "case_update.payment_exceeds_balance" in above.stderr
    bad = hub(
        hub_env, *base, "--reference", "R-3", "--amount-cents", "0", "--currency", "euro", *by, ok=False
    )
    assert bad.returncode == 1 and "payment.amount_cents" in bad.stderr and "payment.currency" in bad.stderr


def test_hold_and_lift_as_operators_run_them(hub_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "cases.csv"
    path.write_text(
        HEADER + "C-8,Banque,person,Jean,75,50000,consumer,judgment,2025-01-02,\n", encoding="utf-8"
    )
    hub(hub_env, "migrate")
    hub(hub_env, "cases", "import", str(path))
    hub(hub_env, "staff", "add", "paul@agence.example", "--role", "staff")
    by = ["--by", "paul@agence.example"]

    raised = hub(hub_env, "cases", "hold", "C-8", "--situation", "disputed", "--comment", "letter", *by)
    [line] = [row for row in raised.stdout.splitlines() if row.startswith("HLD-")]
    assert line.endswith("disputed on case C-8 raised")
    hold_id = line.split()[0]
    unknown = hub(hub_env, "cases", "hold", "C-8", "--situation", "bored", "--comment", "x", *by, ok=False)
    assert unknown.returncode == 1 and "hold.situation_unknown" in unknown.stderr

    lifted = hub(hub_env, "cases", "hold-lift", hold_id, "--comment", "settled", *by)
    assert f"{hold_id} disputed on case C-8 lifted" in lifted.stdout
    twice = hub(hub_env, "cases", "hold-lift", hold_id, "--comment", "settled", *by, ok=False)
    assert twice.returncode == 1 and "hold.already_lifted" in twice.stderr
    missing = hub(hub_env, "cases", "hold-lift", "HLD-NOPE", "--comment", "x", *by, ok=False)
    assert missing.returncode == 1 and "hold.not_found" in missing.stderr

    named = ["C-8", "--situation", "vulnerable", "--comment", "illness", "--hold-id", "HLD-C8-1", *by]
    assert "HLD-C8-1 vulnerable on case C-8 raised" in hub(hub_env, "cases", "hold", *named).stdout
    again = hub(hub_env, "cases", "hold", *named, ok=False)  # the operator ran it twice
    assert again.returncode == 1 and "hold.exists" in again.stderr
    spaced = hub(hub_env, "cases", "hold", *named[:5], "--hold-id", "HLD C8", *by, ok=False)
    assert spaced.returncode == 1 and "hold.id_invalid" in spaced.stderr
