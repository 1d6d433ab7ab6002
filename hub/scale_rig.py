"""The scale rig (issue #11, docs/scale.md): a scratch PostgreSQL database with the real migrations,
loaded by COPY to a national agency's order of size, and the p50/p99 of the three reads that must
stay fast whatever the size: a case's balance, a message found by (office, message id), and an
office's monthly scorecard. The reads are the hub's own functions, timed one session each.

Call it from Python::

    rows = await bench_scale(
        "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres", ledger_entries=10_000_000, messages=5_000_000
    )

or from the shell: ``python -m hub.scale_rig --ledger-entries 10000000 --messages 5000000``.
``database_url`` names any database of the server: the rig creates ``hub_scale_<random>`` beside it
and drops it at the end. Every row has ``name``, ``p50_ms``, ``p99_ms``, ``count`` and ``note``
(None where a figure does not apply); ``load`` adds ``seconds``, each ``size.<table>`` adds
``bytes`` and ``bytes_per_row``; with ``explain=True`` each query row adds ``plans``, the EXPLAIN of
every statement the query sent, for one key drawn after the timings.

The data is made of pure functions of a row's number (no random state to keep between the passes
of one table and the next): 60 offices of unequal size, a case for every 8 acts, a mandate for every
3, act dates over the 12 months of 2026, 4 ledger entries per act's fees (3 when it claims no
disbursements) and a collection (2 entries) for one act in 4. Foreign keys are not checked during
the load (``session_replication_role = replica``, rows are consistent by construction), nor does
the ledger's triggers keep the money held and the offices' months (they are summed once the entries
are in), and the tables' plain indexes are built after it, as any bulk load would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.database import create_engine, migrate, session_factory
from hub.finance import service as finance
from hub.ledger.postings import (
    ACT_FEES,
    CASE_COLLECTIONS,
    COLLECTED_BY_OFFICE,
    COLLECTION,
    FEES_DISBURSEMENTS,
    FEES_EMOLUMENTS,
    FEES_VAT,
    PAYABLE_TO_OFFICE,
)
from hub.ledger.repository import ACT_REPORT_SOURCE, LedgerRepository
from hub.messaging.repository import MessageRepository
from hub.messaging.service import AGENCY_PARTY

OFFICES = 60
CREDITORS = 20
ACTS_PER_CASE = 8
ACTS_PER_MANDATE = 3
YEAR = 2026
DAYS = 365
ACT_CODES = ("SERVE_TITLE", "SUMMONS", "PAYMENT_ORDER", "BANK_GARNISHMENT", "INFO_SEARCH", "NO_GOODS_REPORT")
TABLES = (
    "offices",
    "creditors",
    "debtors",
    "cases",
    "mandates",
    "messages",
    "act_reports",
    "ledger_transactions",
    "ledger_entries",
)
# An act report as an office sends it (canonical XML), about the size of the real ones.
BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?><actReport xmlns="urn:hub:act-report:1"><envelope>'
    b"<messageId>%s</messageId><sender>%s</sender><recipient>AGENCY</recipient></envelope>"
    b"<mandateRef>MD-2026-000000</mandateRef><actCode>BANK_GARNISHMENT</actCode>"
    b"<actDate>2026-01-01</actDate><outcome>done</outcome><officeReference>A-0000000000</officeReference>"
    b'<fees currency="EUR"><emoluments>12345</emoluments><disbursements>1234</disbursements>'
    b"<vat>2715</vat></fees><collected>0</collected><seized>0</seized></actReport>"
)
ASSESSMENT = json.dumps(
    {
        "expected_recovery_cents": 125000,
        "expected_net_cents": 108706,
        "cost_cents": 16294,
        "flagged": False,
        "rule": "creditor_net",
    }
)
_MIX = 0x9E3779B97F4A7C15F39CC0605CEDC835  # odd: i -> i * _MIX mod 2**128 is a bijection
_MASK = (1 << 128) - 1


def _uid(i: int, salt: int) -> uuid.UUID:
    """Row ``i``'s id: unique per salt, scattered like uuid4 (B-tree inserts land anywhere)."""
    return uuid.UUID(int=((i + (salt << 40)) * _MIX) & _MASK)


def _pick(i: int, salt: int, n: int) -> int:
    """A value in ``[0, n)`` drawn from row ``i``: the product's high bits, which are well mixed."""
    return ((((i + (salt << 40)) * _MIX) & _MASK) >> 64) % n


def _at(day: int, i: int) -> datetime:
    return datetime(YEAR, 1, 1, tzinfo=UTC) + timedelta(days=day, seconds=_pick(i, 99, 86_400))


# Offices of unequal size: office n takes a share of the work proportional to 1 / (1 + n / 10).
_WEIGHTS = [1 / (1 + n / 10) for n in range(OFFICES)]
_SLOTS = [n for n, w in enumerate(_WEIGHTS) for _ in range(round(1000 * w / sum(_WEIGHTS)))]


def _act_code(i: int) -> str:
    return ACT_CODES[_pick(i, 6, len(ACT_CODES))]


def office_code(n: int) -> str:
    return f"SCALE{n:03d}"


@dataclass(frozen=True)
class Shape:
    """How many rows of each table a load of ``ledger_entries`` and ``messages`` makes."""

    ledger_entries: int
    messages: int
    acts: int
    collections: int
    cases: int
    mandates: int

    @classmethod
    def of(cls, ledger_entries: int, messages: int) -> Shape:
        if ledger_entries < 2 or messages < 1:
            raise ValueError("the rig needs at least 2 ledger entries (one transaction) and 1 message")
        acts = collections = 0
        for _, collected in _act_postings(ledger_entries):
            acts += 1
            collections += collected
        return cls(
            ledger_entries,
            messages,
            acts,
            collections,
            max(1, acts // ACTS_PER_CASE),
            max(1, acts // ACTS_PER_MANDATE),
        )

    @property
    def transactions(self) -> int:
        return self.acts + self.collections


def _act_postings(ledger_entries: int) -> Iterator[tuple[int, bool]]:
    """Per act, in order: how many fee entries it posts (0, 3 or 4) and whether it collected money
    (2 entries more), adding up to exactly ``ledger_entries``."""
    left, i = ledger_entries, 0
    while left >= 2:
        fees, collected = 4, _pick(i, 7, 4) == 0
        rest = left - fees - 2 * collected
        if rest == 1:
            fees, rest = 3, rest + 1
        elif rest < 0:  # the tail: 2 = a collection alone, 3 = fees without disbursements, 5 = both
            fees, collected = {2: (0, True), 3: (3, False), 4: (4, False), 5: (3, True)}[left]
            rest = 0
        yield fees, collected
        left, i = rest, i + 1


@dataclass(frozen=True)
class _Act:
    i: int
    id: uuid.UUID
    mandate: int
    case: int
    office: int
    on: date
    emoluments: int
    disbursements: int
    vat: int
    collected: int


class _Rows:
    """The rows of every table, each a pure function of its number within ``shape``."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape

    def mandate_office(self, k: int) -> int:
        return _SLOTS[_pick(k, 3, len(_SLOTS))]

    def mandate_day(self, k: int) -> int:
        return _pick(k, 4, DAYS - 30)

    def act(self, i: int, fees: int, collected: bool) -> _Act:
        k = _pick(i, 1, self.shape.mandates)
        emoluments = 2_000 + _pick(i, 10, 28_000) if fees else 0
        disbursements = 500 + _pick(i, 11, 4_500) if fees == 4 else 0
        return _Act(
            i=i,
            id=_uid(i, 20),
            mandate=k,
            case=_pick(k, 2, self.shape.cases),
            office=self.mandate_office(k),
            on=date(YEAR, 1, 1) + timedelta(days=min(DAYS - 1, self.mandate_day(k) + _pick(i, 5, 60))),
            emoluments=emoluments,
            disbursements=disbursements,
            vat=(emoluments + disbursements) // 5,
            collected=1_000 + _pick(i, 12, 200_000) if collected else 0,
        )

    def acts(self) -> Iterator[_Act]:
        for i, (fees, collected) in enumerate(_act_postings(self.shape.ledger_entries)):
            yield self.act(i, fees, collected)

    def offices(self) -> Iterator[tuple[Any, ...]]:
        for n in range(OFFICES):
            departements = json.dumps([f"{1 + n % 95:02d}"])
            created = datetime(YEAR - 1, 1, 1, tzinfo=UTC)
            yield (
                _uid(n, 30),
                created,
                office_code(n),
                f"Etude {n}",
                departements,
                "pull",
                "canonical-xml-v1",
                "[]",
                True,
            )

    def creditors(self) -> Iterator[tuple[Any, ...]]:
        for n in range(CREDITORS):
            yield _uid(n, 31), datetime(YEAR - 1, 1, 1, tzinfo=UTC), f"Creditor {n}", f"{n:09d}"

    def debtors(self) -> Iterator[tuple[Any, ...]]:
        for c in range(self.shape.cases):
            dep = f"{1 + _pick(c, 32, 95):02d}"
            yield (
                _uid(c, 33),
                _at(0, c),
                "person",
                f"Debtor {c}",
                f"{c % 200} rue de la Paix",
                f"{dep}000",
                "Ville",
                dep,
            )

    def cases(self) -> Iterator[tuple[Any, ...]]:
        for c in range(self.shape.cases):
            principal = 10_000 + _pick(c, 34, 2_000_000)
            yield (
                _uid(c, 2),
                _at(0, c),
                f"D-{YEAR}-{c:09d}",
                _uid(_pick(c, 35, CREDITORS), 31),
                _uid(c, 33),
                "consumer",
                principal,
                principal // 20,
                4_000,
                0,
                "EUR",
            )

    def mandates(self) -> Iterator[tuple[Any, ...]]:
        for k in range(self.shape.mandates):
            issued = _at(self.mandate_day(k), k)
            status = "refused" if _pick(k, 36, 25) == 0 else "in_progress"
            yield (
                _uid(k, 1),
                issued,
                f"MD-{YEAR}-{k:09d}",
                _uid(_pick(k, 2, self.shape.cases), 2),
                _uid(self.mandate_office(k), 30),
                "per_act",
                '["BANK_GARNISHMENT"]',
                "EUR",
                status,
                "normal",
                "staff@agency.example",
                issued,
                issued + timedelta(days=90),
            )

    def message_party(self, n: int) -> tuple[str, str, str]:
        """(direction, sender, recipient) of message ``n``: the first ``acts`` are act reports."""
        if n < self.shape.acts:
            k = _pick(n, 1, self.shape.mandates)
            return "inbound", office_code(self.mandate_office(k)), AGENCY_PARTY
        office = office_code(_SLOTS[_pick(n, 40, len(_SLOTS))])
        return ("outbound", AGENCY_PARTY, office) if n % 2 else ("inbound", office, AGENCY_PARTY)

    def messages(self) -> Iterator[tuple[Any, ...]]:
        acts = self.acts()
        for n in range(self.shape.messages):
            direction, sender, recipient = self.message_party(n)
            act = next(acts) if n < self.shape.acts else None
            day = (act.on - date(YEAR, 1, 1)).days if act else _pick(n, 41, DAYS)
            kind = "act_report" if act else ("mandate" if direction == "outbound" else "mandate_ack")
            message_id = message_id_of(n)
            body = BODY % (message_id.encode(), sender.encode())
            yield (
                _uid(n, 42),
                _at(day, n),
                direction,
                message_id,
                kind,
                "1",
                sender,
                recipient,
                None,
                None,
                "application/xml",
                body,
                f"{n:064x}",
                "delivered" if direction == "outbound" else "validated",
            )

    def act_reports(self) -> Iterator[tuple[Any, ...]]:
        for a in self.acts():
            yield (
                a.id,
                _at((a.on - date(YEAR, 1, 1)).days, a.i),
                _uid(a.mandate, 1),
                _uid(a.case, 2),
                _uid(a.office, 30),
                _uid(a.i % self.shape.messages, 42),
                _act_code(a.i),
                a.on,
                "done",
                f"A-{a.i:010d}",
                "EUR",
                0,
                a.collected,
                a.emoluments,
                a.disbursements,
                a.vat,
                _pick(a.i, 8, 20) == 0,
                ASSESSMENT,
            )

    def postings(self) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
        """Per transaction: its row and its entries' rows (without their serial id)."""
        for a in self.acts():
            case, office, at = _uid(a.case, 2), _uid(a.office, 30), _at((a.on - date(YEAR, 1, 1)).days, a.i)
            source = f"{ACT_REPORT_SOURCE}{a.id}"
            if a.emoluments:
                tx = _uid(a.i, 50)
                lines = [
                    (FEES_EMOLUMENTS, a.emoluments),
                    (FEES_DISBURSEMENTS, a.disbursements),
                    (FEES_VAT, a.vat),
                ]
                lines = [line for line in lines if line[1]]
                lines.append((PAYABLE_TO_OFFICE, -sum(cents for _, cents in lines)))
                entries = [(tx, account, case, office, cents, "EUR") for account, cents in lines]
                yield (tx, ACT_FEES, case, office, a.on, source, at), entries
            if a.collected:
                tx = _uid(a.i, 51)
                lines = [(COLLECTED_BY_OFFICE, a.collected), (CASE_COLLECTIONS, -a.collected)]
                entries = [(tx, account, case, office, cents, "EUR") for account, cents in lines]
                yield (tx, COLLECTION, case, office, a.on, source, at), entries

    def ledger_transactions(self) -> Iterator[tuple[Any, ...]]:
        for tx, _ in self.postings():
            yield tx

    def ledger_entries(self) -> Iterator[tuple[Any, ...]]:
        for _, entries in self.postings():
            yield from entries


def message_id_of(n: int) -> str:
    return f"MSG-{YEAR}-{n:010d}"


COLUMNS = {
    "offices": tuple(
        "id created_at code name departements delivery_channel codec webhook_secrets active".split()
    ),
    "creditors": tuple("id created_at name siren".split()),
    "debtors": tuple("id created_at kind name address_line1 postcode city departement".split()),
    "cases": tuple(
        "id created_at ref creditor_id debtor_id claim_kind principal_cents "
        "interest_cents costs_cents paid_cents currency".split()
    ),
    "mandates": tuple(
        "id created_at ref case_id office_id kind acts currency status priority "
        "created_by issued_at expires_at".split()
    ),
    "messages": tuple(
        "id created_at direction message_id kind version sender recipient correlation_id "
        "parent_id content_type body sha256 status".split()
    ),
    "act_reports": tuple(
        "id created_at mandate_id case_id office_id message_pk act_code act_date "
        "outcome_code office_reference currency seized_cents collected_cents "
        "emoluments_cents disbursements_cents vat_cents flagged assessment".split()
    ),
    "ledger_transactions": tuple("id kind case_id office_id effective_on source recorded_at".split()),
    "ledger_entries": tuple("transaction_id account case_id office_id amount_cents currency".split()),
}


# The money held per case and its money collected per day (``hub.ledger.models.MoneyHeld``,
# ``MoneyCollectedDay``), summed from the loaded entries as migration 20261205_0035 fills them: the
# scorecard's money not remitted reads them; and the offices' months (``LedgerOfficeMonth``, as
# 20261206_0038 fills them), which the scorecard's opening balances read.
KEPT_MONEY = (
    "INSERT INTO money_collected_days (office_id, case_id, currency, collected_on, cents) "
    "SELECT e.office_id, e.case_id, e.currency, COALESCE(r.effective_on, t.effective_on), "
    "sum(e.amount_cents) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id "
    "LEFT JOIN ledger_transactions r ON r.id = t.reverses_id WHERE e.account = 'collected_by_office' "
    "AND t.kind = 'collection' GROUP BY 1, 2, 3, 4",
    "INSERT INTO money_held (office_id, case_id, currency, cents) "
    "SELECT office_id, case_id, currency, sum(amount_cents) FROM ledger_entries "
    "WHERE account = 'collected_by_office' GROUP BY 1, 2, 3",
    "INSERT INTO ledger_office_months (office_id, month, account, currency, slot, cents) "
    "SELECT e.office_id, date_trunc('month', t.effective_on)::date, e.account, e.currency, 0, "
    "sum(e.amount_cents) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id "
    "WHERE e.office_id IS NOT NULL GROUP BY 1, 2, 3, 4",
)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _load(url: str, shape: Shape) -> dict[str, float]:
    """COPY every table, its plain indexes dropped first and built after; then VACUUM ANALYZE (what
    autovacuum does to an append-only table: statistics, and the visibility map that lets a read
    answer from an index alone). Returns seconds per phase."""
    rows = _Rows(shape)
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute("SET session_replication_role = replica")  # no FK trigger per row
        await conn.execute("SET maintenance_work_mem = '256MB'")
        indexes = await conn.fetch(
            "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS ddl "
            "FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid "
            "WHERE i.indrelid = ANY($1::regclass[]) AND c.oid IS NULL",
            list(TABLES),
        )
        for index in indexes:
            await conn.execute(f"DROP INDEX {index['name']}")
        started = time.perf_counter()
        for table in TABLES:
            records: Iterator[tuple[Any, ...]] = getattr(rows, table)()
            await conn.copy_records_to_table(table, records=records, columns=list(COLUMNS[table]))
        for statement in KEPT_MONEY:  # what the ledger's trigger keeps, which ``replica`` silenced
            await conn.execute(statement)
        copied = time.perf_counter()
        for index in indexes:
            await conn.execute(index["ddl"])
        indexed = time.perf_counter()
        await conn.execute(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
        vacuumed = time.perf_counter()
    finally:
        await conn.close()
    return {"copy": copied - started, "indexes": indexed - copied, "vacuum": vacuumed - indexed}


async def _sizes(engine: AsyncEngine) -> list[dict[str, Any]]:
    out = []
    async with engine.connect() as conn:
        for table in TABLES:
            count_sql = text(f"SELECT count(*) FROM {table}")  # noqa: S608 (a name of TABLES)
            count = (await conn.execute(count_sql)).scalar_one()
            heap, total = (
                await conn.execute(text("SELECT pg_table_size(:t), pg_total_relation_size(:t)"), {"t": table})
            ).one()
            out.append(
                {
                    "name": f"size.{table}",
                    "p50_ms": None,
                    "p99_ms": None,
                    "count": count,
                    "bytes": total,
                    "bytes_per_row": round(total / count) if count else None,
                    "note": f"table {heap / 2**20:.1f} MiB + indexes {(total - heap) / 2**20:.1f} MiB",
                }
            )
    return out


Query = Callable[[AsyncSession, int], Awaitable[object]]


def _queries(shape: Shape) -> dict[str, tuple[Query, str]]:
    rows = _Rows(shape)

    async def case_balance(session: AsyncSession, n: int) -> object:
        return await LedgerRepository(session).balances(case_id=_uid(n % shape.cases, 2))

    async def message_lookup(session: AsyncSession, n: int) -> object:
        # As GET /v1/messages/{ref} by an office: its own message by the id it chose or received.
        n %= shape.messages
        _, sender, recipient = rows.message_party(n)
        party = recipient if sender == AGENCY_PARTY else sender
        found = await MessageRepository(session).find(message_id=message_id_of(n), party=party, limit=1)
        if len(found) != 1:
            raise AssertionError(f"message {message_id_of(n)} of {party} not found")
        return found

    async def monthly_report(session: AsyncSession, n: int) -> object:
        month = 1 + n % 12
        start = date(YEAR, month, 1)
        end = date(YEAR + month // 12, month % 12 + 1, 1)
        code = office_code(_SLOTS[(n * 7919) % len(_SLOTS)])
        return await finance.scorecards(session, start, end, office_code=code)

    return {
        "scale.case_balance": (case_balance, "LedgerRepository.balances(case_id=...), a random case"),
        "scale.message_lookup": (
            message_lookup,
            "MessageRepository.find(message_id=..., party=office), as GET /v1/messages/{ref}",
        ),
        "scale.monthly_report": (
            monthly_report,
            "hub.finance.service.scorecards(one office, one month): acts, cases, mandates, ledger",
        ),
    }


async def _timed(sessions: async_sessionmaker[AsyncSession], query: Query, samples: int) -> list[float]:
    timings = []
    for n in range(samples):
        key = _pick(n, 60, 1 << 30)
        started = time.perf_counter()
        async with sessions() as session:
            await query(session, key)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least ``q`` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def plans(engine: AsyncEngine, query: Query, key: int, *, analyze: bool = False) -> list[str]:
    """The EXPLAIN of every statement ``query`` sends for ``key`` (with ``analyze``, as run)."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with session_factory(engine)() as session:
            await query(session, key)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    options = "ANALYZE, BUFFERS" if analyze else "COSTS"
    out = []
    async with engine.connect() as conn:
        for statement, parameters in sent:
            rows = await conn.exec_driver_sql(f"EXPLAIN ({options}) {statement}", parameters)
            out.append("\n".join(line for (line,) in rows))
    return out


async def bench_scale(
    database_url: str,
    *,
    ledger_entries: int,
    messages: int,
    samples: int = 1000,
    report_samples: int = 24,
    explain: bool = False,
) -> list[dict[str, Any]]:
    """Loads ``ledger_entries`` and ``messages`` (and the acts, cases and mandates they imply) into
    a scratch database beside ``database_url``, then times each query ``samples`` times (the monthly
    report ``report_samples`` times) with keys spread over the data. See the module docstring."""
    shape = Shape.of(ledger_entries, messages)
    name = f"hub_scale_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await migrate(engine)
        started = time.perf_counter()
        phases = await _load(url, shape)
        loaded = sum(phases.values())
        rows: list[dict[str, Any]] = [
            {
                "name": "load",
                "p50_ms": None,
                "p99_ms": None,
                "count": sum(_count(shape, t) for t in TABLES),
                "seconds": round(time.perf_counter() - started, 1),
                "note": ", ".join(f"{phase} {s:.1f} s" for phase, s in phases.items())
                + f" (COPY, then indexes, then VACUUM ANALYZE; {loaded:.1f} s)",
            }
        ]
        rows += await _sizes(engine)
        sessions = session_factory(engine)
        for label, (query, note) in _queries(shape).items():
            n = report_samples if label == "scale.monthly_report" else samples
            await _timed(sessions, query, min(n, 20))  # warm the pool and the caches
            timings = await _timed(sessions, query, n)
            row: dict[str, Any] = {
                "name": label,
                "p50_ms": round(percentile(timings, 0.5), 2),
                "p99_ms": round(percentile(timings, 0.99), 2),
                "count": n,
                "note": note,
            }
            if explain:
                row["plans"] = await plans(engine, query, 12345, analyze=True)
            rows.append(row)
        return rows
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def _count(shape: Shape, table: str) -> int:
    return {
        "offices": OFFICES,
        "creditors": CREDITORS,
        "debtors": shape.cases,
        "cases": shape.cases,
        "mandates": shape.mandates,
        "messages": shape.messages,
        "act_reports": shape.acts,
        "ledger_transactions": shape.transactions,
        "ledger_entries": shape.ledger_entries,
    }[table]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m hub.scale_rig", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--ledger-entries", type=int, default=10_000_000)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--report-samples", type=int, default=24)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each query")
    args = parser.parse_args()
    rows = asyncio.run(
        bench_scale(
            args.database_url,
            ledger_entries=args.ledger_entries,
            messages=args.messages,
            samples=args.samples,
            report_samples=args.report_samples,
            explain=args.explain,
        )
    )
    for row in rows:
        plans_text = row.pop("plans", [])
        print(json.dumps(row))
        for plan in plans_text:
            print(plan, end="\n\n")


if __name__ == "__main__":
    main()
