"""``hub cases import FILE.csv`` as users run it: good rows imported, every bad row listed by line."""

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
