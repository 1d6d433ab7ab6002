"""The comparison, pure: each difference kind, and nothing when the lists agree."""

from __future__ import annotations

from hub.inventory.compare import Known, Listed, differences, summary


def known(*items: tuple[str, str, int, int]) -> dict[str, Known]:
    return {ref: Known(ref, status, collected, fees) for ref, status, collected, fees in items}


def test_every_kind_of_difference() -> None:
    ours = known(
        ("M-AGREE", "issued", 0, 0),
        ("M-MISSING", "acknowledged", 100, 200),
        ("M-CLOSED-THERE", "in_progress", 0, 0),
        ("M-OPEN-THERE", "cancelled", 0, 0),
        ("M-MONEY", "in_progress", 1000, 6190),
        ("M-HELD", "held", 0, 0),
    )
    listed = [
        Listed("M-AGREE", "open", None, None),
        Listed("M-CLOSED-THERE", "closed", None, None),
        Listed("M-OPEN-THERE", "open", None, None),
        Listed("M-MONEY", "open", 900, 6190),
        Listed("M-HELD", "open", None, None),
        Listed("M-NOBODY", "open", 1, 1),
    ]
    found = differences(listed, ours)
    assert [(d.ref, d.kind) for d in found] == [
        ("M-CLOSED-THERE", "open_here_closed_there"),
        ("M-HELD", "unknown_here"),
        ("M-MISSING", "open_here_unknown_there"),
        ("M-MONEY", "amounts_differ"),
        ("M-NOBODY", "unknown_here"),
        ("M-OPEN-THERE", "closed_here_open_there"),
    ]
    money = next(d for d in found if d.kind == "amounts_differ")
    assert (money.here, money.there) == ({"collected_cents": 1000}, {"collected_cents": 900})
    held, nobody = (d for d in found if d.kind == "unknown_here")
    assert held.message.replace("M-HELD", "X") == nobody.message.replace("M-NOBODY", "X")
    counts = summary(listed, ours, found)
    assert (counts["listed"], counts["open_here"], counts["agreed"], counts["differences"]) == (6, 4, 1, 6)
    assert counts["by_kind"]["unknown_here"] == 2


def test_agreeing_lists_have_no_difference() -> None:
    ours = known(("M-1", "issued", 5, 6), ("M-2", "completed", 0, 0))
    assert differences([Listed("M-1", "open", 5, 6), Listed("M-2", "closed", 0, None)], ours) == []
    assert differences([], {}) == []
