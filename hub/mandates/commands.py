"""``hub mandates ...`` commands, mounted by ``hub.cli``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cases.commands import import_file

mandates_app = typer.Typer(help="Mandates to bailiff offices.", no_args_is_help=True)


@mandates_app.command("import")
def mandates_import(
    file: Annotated[
        Path, typer.Argument(help="CSV: case_ref, office_code, kind, acts[] (A;B), fee_budget_cents")
    ],
    actor: Annotated[str, typer.Option(help="Who issues them, for the mandates' log")] = "csv-import",
) -> None:
    """Create mandates from a CSV file: each is issued or held by the rules; every bad row is listed."""
    from adapters.csv import read_rows
    from hub.mandates import service

    import_file(
        file,
        "mandate(s)",
        lambda session, tick: service.import_rows(session, read_rows(file), actor=actor, on_row=tick),
    )
