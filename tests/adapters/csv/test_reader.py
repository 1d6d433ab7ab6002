"""The CSV reader: dotted columns nest, empty cells are unknown, lines are the file's own."""

from __future__ import annotations

from pathlib import Path

from adapters.csv import count_rows, read_rows


def test_rows_nest_by_dotted_columns_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        "ref,debtor.name,debtor.address.city,title.kind,title.issued_on,acts[]\n"
        "C1,Jean,Paris,judgment,2025-01-02,SERVE_TITLE; PAYMENT_ORDER\n"
        "\n"
        "C2,Anne,,,,\n",
        encoding="utf-8",
    )
    rows = list(read_rows(path))
    assert count_rows(path) == 3  # the blank line counts for the bar, not as a row
    assert [r.line for r in rows] == [2, 4]
    assert rows[0].data == {
        "ref": "C1",
        "debtor": {"name": "Jean", "address": {"city": "Paris"}},
        "title": {"kind": "judgment", "issued_on": "2025-01-02"},
        "acts": ["SERVE_TITLE", "PAYMENT_ORDER"],
    }
    assert rows[1].data == {
        "ref": "C2",
        "debtor": {"name": "Anne", "address": None},
        "title": None,
        "acts": [],
    }
