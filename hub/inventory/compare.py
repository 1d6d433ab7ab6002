"""Inventory reconciliation, pure (no I/O): an office's list of its open mandates, as it sees them,
against the hub's view of the mandates it gave that office.

Difference kinds, one per mandate at most for status, plus one for amounts:

==========================  =========================================================================
kind                        meaning
==========================  =========================================================================
``open_here_closed_there``  the hub holds the mandate open (issued, acknowledged, in progress); the
                            office lists it closed
``open_here_unknown_there`` the hub holds it open; the office does not list it
``closed_here_open_there``  the hub closed it (refused, completed, cancelled, expired); the office
                            lists it open
``unknown_here``            no mandate with this ref was given to this office: unknown, another
                            office's, or never sent (draft, held). The answer is the same for all
                            three, so nothing about other offices leaks
``amounts_differ``          money collected or fees claimed under the mandate, as the office states
                            them, differ from the hub's (its ledger: net of reversals)
==========================  =========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

OPEN_HERE = frozenset({"issued", "acknowledged", "in_progress"})
CLOSED_HERE = frozenset({"refused", "completed", "cancelled", "expired"})
KINDS = (
    "open_here_closed_there",
    "open_here_unknown_there",
    "closed_here_open_there",
    "unknown_here",
    "amounts_differ",
)


@dataclass(frozen=True)
class Listed:
    """One line of the office's inventory."""

    ref: str
    status: Literal["open", "closed"]
    collected_cents: int | None  # None: the office does not state it
    fees_cents: int | None


@dataclass(frozen=True)
class Known:
    """The hub's view of one mandate of the office, amounts from the ledger."""

    ref: str
    status: str
    collected_cents: int
    fees_cents: int


@dataclass(frozen=True)
class Difference:
    ref: str
    kind: str
    message: str
    here: dict[str, Any] | None = None
    there: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "kind": self.kind,
            "message": self.message,
            "here": self.here,
            "there": self.there,
        }


def _amounts(item: Listed, known: Known) -> Difference | None:
    here: dict[str, Any] = {}
    there: dict[str, Any] = {}
    for name, stated, ours in (
        ("collected_cents", item.collected_cents, known.collected_cents),
        ("fees_cents", item.fees_cents, known.fees_cents),
    ):
        if stated is not None and stated != ours:
            here[name], there[name] = ours, stated
    if not here:
        return None
    words = ", ".join(f"{name} {there[name]} there, {here[name]} here" for name in here)
    return Difference(known.ref, "amounts_differ", f"mandate {known.ref}: {words}", here, there)


def differences(listed: Sequence[Listed], known: Mapping[str, Known]) -> list[Difference]:
    """Every difference between the office's ``listed`` mandates and ``known``, the hub's view of
    the office's mandates: every one it holds open, and the listed ones it gave the office (refs of
    other offices must not be in ``known``). Ordered by ref, then kind."""
    found: list[Difference] = []
    refs = {item.ref for item in listed}
    for item in listed:
        ours = known.get(item.ref)
        if ours is None or (ours.status not in OPEN_HERE and ours.status not in CLOSED_HERE):
            found.append(
                Difference(item.ref, "unknown_here", f"no mandate {item.ref} was given to this office")
            )
            continue
        if ours.status in OPEN_HERE and item.status == "closed":
            found.append(
                Difference(
                    item.ref,
                    "open_here_closed_there",
                    f"mandate {item.ref} is {ours.status} here, closed there",
                    {"status": ours.status},
                    {"status": item.status},
                )
            )
        elif ours.status in CLOSED_HERE and item.status == "open":
            found.append(
                Difference(
                    item.ref,
                    "closed_here_open_there",
                    f"mandate {item.ref} is {ours.status} here, open there",
                    {"status": ours.status},
                    {"status": item.status},
                )
            )
        amounts = _amounts(item, ours)
        if amounts is not None:
            found.append(amounts)
    for ref, ours in known.items():
        if ours.status in OPEN_HERE and ref not in refs:
            found.append(
                Difference(
                    ref,
                    "open_here_unknown_there",
                    f"mandate {ref} is {ours.status} here and missing from the office's list",
                    {
                        "status": ours.status,
                        "collected_cents": ours.collected_cents,
                        "fees_cents": ours.fees_cents,
                    },
                    None,
                )
            )
    return sorted(found, key=lambda d: (d.ref, KINDS.index(d.kind)))


def summary(
    listed: Sequence[Listed], known: Mapping[str, Known], found: Sequence[Difference]
) -> dict[str, Any]:
    """Counts for the answer: lines listed, mandates open here, agreed lines, differences per kind."""
    differing = {d.ref for d in found}
    return {
        "listed": len(listed),
        "open_here": sum(1 for k in known.values() if k.status in OPEN_HERE),
        "agreed": sum(1 for item in listed if item.ref not in differing),
        "differences": len(found),
        "by_kind": {kind: sum(1 for d in found if d.kind == kind) for kind in KINDS},
    }
