"""Keyset pagination, the one way every list of the API is read: ``after`` = the key of the last
item read (an id, a reference), ``limit`` items at a time (1..500, 100 by default), the answer
``{"items": [...], "next_after": key | null}``. No list stops silently: a client walks it to its end
by passing ``next_after`` back as ``after`` until it is null.

A repository asks for one row more than the page (``fetch``) and ``page_of`` keeps ``limit`` of
them: ``next_after`` is null exactly on the last page, never one empty page later."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, tuple_
from sqlalchemy.orm import QueryableAttribute

ItemT = TypeVar("ItemT")
KeyT = TypeVar("KeyT")
RowT = TypeVar("RowT")

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
Limit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_LIMIT,
        description=f"Items per page, 1 to {MAX_LIMIT}; the answer's `next_after` reads on",
    ),
]


class Page(BaseModel, Generic[ItemT, KeyT]):
    """One page of a list. Subclass it per list (``class HeldPage(Page[HeldMandateOut, str])``) so
    the OpenAPI document names it and shows its example."""

    items: list[ItemT]
    next_after: KeyT | None = Field(description="Pass as `after` to read the next page; null on the last")


def fetch(limit: int) -> int:
    """How many rows a repository reads for a page of ``limit``: one more, to know whether it is the last."""
    return limit + 1


def page_of(rows: Sequence[RowT], limit: int, key: Callable[[RowT], Any]) -> tuple[list[RowT], Any]:
    """The page in ``rows`` (read with ``fetch(limit)``) and the key of its last row when more follow."""
    kept = list(rows[:limit])
    return kept, key(kept[-1]) if len(rows) > limit else None


def after_row(
    order: Sequence[ColumnElement[Any] | QueryableAttribute[Any]],
    anchor: Sequence[Any],
    *,
    descending: bool = False,
) -> ColumnElement[bool]:
    """The rows after ``anchor`` in the order ``order`` (every column ascending, or every one
    ``descending``; its last column unique): a row comparison, so an index on ``order`` is walked
    from the anchor on. ``anchor`` may be scalar subqueries reading the last row's values by its
    key: the client then passes only the key."""
    return tuple_(*order) < tuple_(*anchor) if descending else tuple_(*order) > tuple_(*anchor)
