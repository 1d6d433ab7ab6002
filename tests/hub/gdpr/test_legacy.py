"""Messages stored before bodies were sealed per case (migration 0027: in the clear, with no case),
sealed after the fact by ``hub gdpr seal-legacy`` run as an operator runs it, on SQLite and
PostgreSQL: each under its case, opening to the same bytes with the same hash; one of a case erased
already becomes unreadable, as the erasure meant; one of no case stays as it was; a second run
seals nothing more."""

from __future__ import annotations

import hashlib
import secrets
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from hub.database import create_engine, session_factory, unit_of_work
from hub.kit.clock import utcnow
from hub.kit.errors import Gone
from hub.mandates import service as mandates
from hub.mandates.service import MandateIn
from hub.messaging import sealing
from hub.messaging.models import StoredMessage
from hub.messaging.repository import MessageRepository
from hub.offices import service as offices
from tests.conftest import database_like
from tests.hub.gdpr.test_key_rotation import hub_as_operator, secret_in_use
from tests.hub.mandates.factories import a_case, new_code

SECRET = "l" * 40
ADDRESS = {"line1": "3 rue Ancienne", "postcode": "75011", "city": "Paris", "departement": "75"}


def seal_legacy(url: str) -> subprocess.CompletedProcess[str]:
    return hub_as_operator(url, SECRET, "gdpr", "seal-legacy")


def legacy_copy(message: StoredMessage, body: bytes) -> StoredMessage:
    """The message as the hub stored it before 0027: its body in the clear, no case."""
    return StoredMessage(
        id=uuid.uuid4(),
        created_at=utcnow() - timedelta(days=30),
        direction=message.direction,
        message_id=f"LEGACY-{secrets.token_hex(6)}",
        kind=message.kind,
        sender=message.sender,
        recipient=message.recipient,
        content_type=message.content_type,
        body=body,
        sha256=hashlib.sha256(body).hexdigest(),
        status=message.status,
        case_id=None,
        sealed=False,
    )


async def test_seal_legacy_seals_each_old_body_under_its_case(database_url: str, tmp_path: Path) -> None:
    name = f"Zoé Legacy-{secrets.token_hex(4)}"
    async with database_like(database_url, tmp_path) as url:
        engine = create_engine(url)
        sessions = session_factory(engine)
        try:
            async with secret_in_use(SECRET):
                cases: dict[str, uuid.UUID] = {}
                legacy: dict[str, tuple[uuid.UUID, bytes]] = {}
                async with unit_of_work(sessions) as session:
                    office = new_code()
                    await offices.add_office(session, code=office, name="Étude Legacy")
                    for label in ("kept", "erased"):
                        case = await a_case(
                            session, debtor={"kind": "person", "name": name, "address": ADDRESS}
                        )
                        terms = MandateIn(
                            case_ref=case.ref, office_code=office, kind="per_act", acts=["SERVE_TITLE"]
                        )
                        await mandates.create_mandate(session, terms, actor="ops@agence.example")
                        [sent] = await MessageRepository(session).case_messages(case.id)
                        body = await sealing.open_body(session, sent)
                        assert name.encode() in body
                        old = legacy_copy(sent, body)
                        session.add(old)
                        cases[label], legacy[label] = case.id, (old.id, body)
                    foreign = legacy_copy(old, b'{"neither": "a v1 message"}')
                    foreign.content_type = "application/json"
                    # A receipt (a kind that names no case, as invoices and remittances): never read.
                    receipt = legacy_copy(old, b'{"stored": "in the clear"}')
                    receipt.kind, receipt.content_type = "receipt", "application/json"
                    session.add_all([foreign, receipt])
                    await session.flush()
                    await sealing.destroy_key(session, cases["erased"])  # erased before the sealing

                done = seal_legacy(url)
                assert done.returncode == 0, done.stderr
                assert "2 message(s) sealed under their case, 1 of no single case" in done.stdout

                async with unit_of_work(sessions) as session:
                    kept_pk, kept_body = legacy["kept"]
                    kept = await session.get(StoredMessage, kept_pk)
                    assert kept is not None and kept.sealed and kept.case_id == cases["kept"]
                    assert name.encode() not in kept.body
                    assert await sealing.open_body(session, kept) == kept_body
                    assert kept.sha256 == hashlib.sha256(kept_body).hexdigest()  # its receipt still holds
                    erased = await session.get(StoredMessage, legacy["erased"][0])
                    assert erased is not None and erased.sealed and erased.case_id == cases["erased"]
                    assert name.encode() not in erased.body
                    with pytest.raises(Gone):
                        await sealing.open_body(session, erased)
                    left = await session.get(StoredMessage, foreign.id)
                    assert (
                        left is not None and not left.sealed and left.body == b'{"neither": "a v1 message"}'
                    )
                    unread = await session.get(StoredMessage, receipt.id)
                    assert unread is not None and not unread.sealed and unread.case_id is None  # never read

                again = seal_legacy(url)
                assert again.returncode == 0, again.stderr
                assert "0 message(s) sealed under their case, 1 of no single case" in again.stdout
        finally:
            await engine.dispose()
