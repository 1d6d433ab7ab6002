"""``hub mandates import FILE.csv`` and ``hub mandates expire`` as users run them: each row issued or
held, bad rows listed by line; lapsed mandates expired once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from hub.database import create_engine
from hub.mandates.models import Mandate
from tests.hub.cases.test_commands import HEADER
from tests.hub.test_cli import hub, hub_env  # noqa: F401 - the CLI fixture


def test_import_issues_holds_and_lists_bad_rows(hub_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    cases = tmp_path / "cases.csv"
    cases.write_text(
        HEADER.replace("\n", ",debtor.address.line1,debtor.address.postcode,debtor.address.city\n")
        + "C-RICH,Banque,person,Jean,75,500000,consumer,judgment,2025-01-02,2000000,1 rue A,75011,Paris\n"
        + "C-POOR,Banque,person,Anne,75,2000,consumer,judgment,2025-01-02,,2 rue B,75011,Paris\n"
        + "C-NOTITLE,Banque,person,Paul,75,500000,consumer,,,2000000,3 rue C,75011,Paris\n",
        encoding="utf-8",
    )
    mandates = tmp_path / "mandates.csv"
    mandates.write_text(
        "case_ref,office_code,kind,acts[],fee_budget_cents\n"
        "C-RICH,CJ75001,per_act,SERVE_TITLE,\n"
        "C-POOR,CJ75001,per_act,PAYMENT_ORDER,\n"
        "C-NOTITLE,CJ75001,per_act,BANK_GARNISHMENT,\n"
        "C-NONE,CJ75001,per_act,SERVE_TITLE,\n"
        "C-RICH,CJ75001,whole_file,SERVE_TITLE,\n",
        encoding="utf-8",
    )
    hub(hub_env, "migrate")
    hub(hub_env, "offices", "add", "CJ75001", "--name", "Étude de Paris", "--departements", "75")
    hub(hub_env, "cases", "import", str(cases))
    result = hub(hub_env, "mandates", "import", str(mandates), ok=False)
    assert result.returncode == 1
    assert "2 mandate(s) imported (1 held for review), 3 row(s) rejected" in result.stdout
    assert "line 4: acts[0]: No enforceable title" in result.stderr
    assert "line 5: case_ref: no case with ref C-NONE [case.not_found]" in result.stderr
    assert "line 6: fee_budget_cents:" in result.stderr and "line 6: acts:" in result.stderr


def test_expire_expires_lapsed_mandates_once(hub_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    cases = tmp_path / "cases.csv"
    cases.write_text(
        HEADER.replace("\n", ",debtor.address.line1,debtor.address.postcode,debtor.address.city\n")
        + "C-A,Banque,person,Jean,75,500000,consumer,judgment,2025-01-02,2000000,1 rue A,75011,Paris\n"
        + "C-B,Banque,person,Anne,75,500000,consumer,judgment,2025-01-02,2000000,2 rue B,75011,Paris\n",
        encoding="utf-8",
    )
    mandates = tmp_path / "mandates.csv"
    mandates.write_text(
        "ref,case_ref,office_code,kind,acts[]\nM-LAPSED,C-A,CJ75001,per_act,SERVE_TITLE\n"
        "M-VALID,C-B,CJ75001,per_act,SERVE_TITLE\n",
        encoding="utf-8",
    )
    hub(hub_env, "migrate")
    hub(hub_env, "offices", "add", "CJ75001", "--name", "Étude de Paris", "--departements", "75")
    hub(hub_env, "cases", "import", str(cases))
    hub(hub_env, "mandates", "import", str(mandates))
    assert hub(hub_env, "mandates", "expire").stdout.splitlines() == ["0 mandate(s) expired"]

    async def lapse() -> None:
        engine = create_engine(hub_env["HUB_DATABASE_URL"])
        async with engine.begin() as conn:
            lapsed = datetime(2026, 1, 1, tzinfo=UTC)
            await conn.execute(update(Mandate).where(Mandate.ref == "M-LAPSED").values(expires_at=lapsed))
        await engine.dispose()

    asyncio.run(lapse())
    assert hub(hub_env, "mandates", "expire").stdout.splitlines() == ["M-LAPSED", "1 mandate(s) expired"]
    assert hub(hub_env, "mandates", "expire").stdout.splitlines() == ["0 mandate(s) expired"]
