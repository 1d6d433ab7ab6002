"""``hub reports import FILE.xml --office CODE`` as users run it: the batch path, every refusal listed."""

from __future__ import annotations

from pathlib import Path

from tests.hub.acts.factories import write_batch_file
from tests.hub.test_cli import hub, hub_env  # noqa: F401 - the CLI fixture


def test_import_lists_every_refused_record_and_sums_up(hub_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    batch = tmp_path / "reports.xml"
    # No mandate exists in this database: every record is refused, each with its reason.
    write_batch_file(batch, "CJ75001", "M-2026-000042", 3)
    hub(hub_env, "migrate")
    hub(hub_env, "offices", "add", "CJ75001", "--name", "Étude de Paris", "--departements", "75")
    result = hub(hub_env, "reports", "import", str(batch), "--office", "CJ75001", ok=False)
    assert result.returncode == 1
    assert ": 0 accepted, 3 refused in " in result.stdout
    for n in (1, 2, 3):
        assert f"record {n} (CR-CJ75001-{n}): /mandate_ref: " in result.stderr
    assert "[mandate.not_found]" in result.stderr

    unknown = hub(hub_env, "reports", "import", str(batch), "--office", "CJ99999", ok=False)
    assert unknown.returncode == 1 and "no office CJ99999" in unknown.stderr
