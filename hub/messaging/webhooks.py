"""Webhook push of mailbox items to offices that chose it. Retried with growing delays for about
16 hours; the message stays in the office's pull inbox whatever happens, so nothing is lost."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog
from cryptography.fernet import InvalidToken
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters import webhooks
from hub.database import unit_of_work
from hub.kit.clock import utcnow
from hub.kit.crypto import SecretBox
from hub.messaging import sealing
from hub.messaging.models import MailboxItem, Status, StoredMessage
from hub.messaging.repository import MessageRepository
from hub.messaging.service import record_each
from hub.observability import metrics
from hub.offices.models import Office
from hub.offices.repository import OfficeRepository

log = structlog.get_logger()
LEASE = timedelta(seconds=2 * webhooks.PUSH_TIMEOUT_S)
RETRY_DELAYS = [timedelta(seconds=s) for s in (10, 30, 120, 300, 900, 1800, 3600, 7200, 14400, 28800)]


@dataclass(frozen=True)
class _Push:
    item_id: int
    office: str
    url: str
    secrets: list[str]
    webhook_id: str
    body: bytes
    content_type: str
    kind: str


UNREADABLE = (
    "not pushed: the message's case key or the office's webhook secret does not open with "
    "HUB_SECRET_KEY nor HUB_PREVIOUS_SECRET_KEYS (give the secret that sealed it)"
)


def _retry_later(item: MailboxItem, now: datetime, error: str | None) -> str:
    """A failed attempt: pushed again after the next delay, or given up once they are all spent (the
    item stays in the office's pull inbox either way). The outcome, as counted."""
    item.push_attempts += 1
    item.last_push_error = error
    if item.push_attempts > len(RETRY_DELAYS):
        item.push_state = "given_up"
        return "given_up"
    item.next_push_at = now + RETRY_DELAYS[item.push_attempts - 1]
    return "failed"


class WebhookPusher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        client: httpx.AsyncClient,
        *,
        batch_size: int = 50,
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.client = client
        self.batch_size = batch_size

    async def run_once(self) -> int:
        """Pushes the due items once; returns how many were attempted.

        Items are leased in a short transaction, pushed with no transaction open (an office's slow
        endpoint must not hold database locks), and the outcomes written in a second one."""
        pushes = await self._lease()
        results = await asyncio.gather(*(self._push(p) for p in pushes))
        if pushes:
            await self._settle(list(zip(pushes, results, strict=True)))
        return len(pushes)

    async def _lease(self) -> list[_Push]:
        """The due items claimed, their offices and messages read, each kind in one statement (a
        thousand keys a statement) whatever the number of items."""
        async with unit_of_work(self.sessions) as session:
            repo = MessageRepository(session)
            now = utcnow()
            items = await repo.claim_due_pushes(now, self.batch_size)
            if not items:
                return []
            offices = await OfficeRepository(session).by_codes({i.recipient for i in items})
            messages = await repo.messages_by_pk({i.message_pk for i in items})
            disabled: list[int] = []
            wanted: list[tuple[MailboxItem, Office, str, StoredMessage]] = []  # with its webhook's URL
            for item in items:
                office, message = offices.get(item.recipient), messages.get(item.message_pk)
                if (
                    office is None
                    or message is None
                    or office.webhook_url is None
                    or office.webhook_disabled_at
                ):
                    disabled.append(item.id)
                else:
                    wanted.append((item, office, office.webhook_url, message))
            bodies, unreadable = await sealing.open_bodies_apart(session, [m for *_, m in wanted])
            secrets = {o.code: self._open_secrets(o) for _, o, *_ in wanted}
            pushes: list[_Push] = []
            for item, office, url, message in wanted:
                office_secrets = secrets[office.code]
                if message.id in unreadable or office_secrets is None:
                    # Sealed with a secret this hub is not given (HUB_SECRET_KEY rotated without
                    # HUB_PREVIOUS_SECRET_KEYS): this item waits as a failed push, the others go on.
                    outcome = _retry_later(item, now, UNREADABLE)
                    log.error("webhook_unreadable", office=office.code, message_id=message.message_id)
                    metrics.WEBHOOK_DELIVERIES.labels(outcome).inc()
                    metrics.count_outbound(message.kind, "webhook", outcome)
                    continue
                body = bodies[message.id]
                if body is None:  # a message of an erased case is never pushed
                    disabled.append(item.id)
                    continue
                pushes.append(
                    _Push(
                        item_id=item.id,
                        office=office.code,
                        url=url,
                        secrets=office_secrets,
                        webhook_id=message.message_id,
                        body=body,
                        content_type=message.content_type,
                        kind=message.kind,
                    )
                )
            await repo.disable_pushes(disabled)
            # Another pusher leaves them alone meanwhile.
            await repo.lease_pushes([p.item_id for p in pushes], now + LEASE)
            return pushes

    def _open_secrets(self, office: Office) -> list[str] | None:
        """The office's webhook secrets; None when one of them does not open with this hub's key."""
        try:
            return [self.box.open(s) for s in office.webhook_secrets]
        except InvalidToken:
            return None

    async def _push(self, push: _Push) -> webhooks.PushResult:
        return await webhooks.push(
            self.client,
            push.url,
            push.secrets,
            push.webhook_id,
            int(utcnow().timestamp()),
            push.body,
            push.content_type,
        )

    async def _settle(self, outcomes: list[tuple[_Push, webhooks.PushResult]]) -> None:
        """The outcomes written: the deliveries in a fixed number of statements (the items, their
        messages' status and steps), then each failed push."""
        async with unit_of_work(self.sessions) as session:
            repo = MessageRepository(session)
            offices = OfficeRepository(session)
            now = utcnow()
            taken = [push for push, result in outcomes if result.delivered]
            delivered = await repo.mark_pushed([push.item_id for push in taken])
            await record_each(
                session, delivered.values(), Status.DELIVERED, detail="webhook 2xx", actor="webhook"
            )
            for push in taken:
                if push.item_id in delivered:
                    metrics.WEBHOOK_DELIVERIES.labels("delivered").inc()
                    metrics.count_outbound(push.kind, "webhook", "delivered")
            failed = [(push, result) for push, result in outcomes if not result.delivered]
            items = await repo.mailbox_items([push.item_id for push, _ in failed])
            for push, result in failed:
                item = items.get(push.item_id)
                if item is None or item.push_state != "due":
                    continue
                if result.gone:
                    item.push_attempts += 1
                    item.last_push_error = result.error
                    outcome = "gone"
                    office = await offices.get_by_code(push.office)
                    if office is not None:
                        office.webhook_disabled_at = now
                    await repo.stop_pushes(push.office)  # its items above see it: not due any more
                    log.warning("webhook_gone", office=push.office, url=push.url)
                else:
                    outcome = _retry_later(item, now, result.error)
                metrics.WEBHOOK_DELIVERIES.labels(outcome).inc()
                metrics.count_outbound(push.kind, "webhook", outcome)

    async def run_forever(self, stop: asyncio.Event, idle_sleep_s: float = 1.0) -> None:
        while not stop.is_set():
            try:
                pushed = await self.run_once()
            except Exception:
                log.exception("webhook_iteration_failed")
                pushed = 0
            if pushed == 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=idle_sleep_s)
                except TimeoutError:
                    pass
