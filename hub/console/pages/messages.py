"""The message log (every message, its lifecycle, its raw content; replay an inbound one, resend an
outbound one) and the dead letters of RabbitMQ's hub.dead (requeue). Admin only."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.console.repository import ConsoleRepository
from hub.console.web import PAGE_SIZE, CheckedForm, Signed, done, needs, page, refusal_text
from hub.deps import SessionDep, SettingsDep
from hub.kit.errors import HubError
from hub.kit.pagination import fetch, page_of
from hub.messaging import dead_letters, sealing
from hub.messaging import service as messaging
from hub.messaging.inbound import replay
from hub.messaging.models import Status
from hub.staff.models import Role

router = APIRouter()
Admin = Annotated[Signed, needs(Role.ADMIN)]
RAW_LIMIT = 64 * 1024  # the raw content shown; longer ones are cut, with their size


@router.get("/messages")
async def log_page(
    request: Request,
    session: SessionDep,
    signed: Admin,
    kind: Annotated[str, Query(max_length=32)] = "",
    party: Annotated[str, Query(max_length=16)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
    correlation: Annotated[str, Query(max_length=64)] = "",
    after: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> HTMLResponse:
    found = await ConsoleRepository(session).message_page(
        kind=kind or None,
        party=party or None,
        status=status or None,
        correlation_id=correlation or None,
        after=after,
        limit=fetch(limit),
    )
    rows, cursor = page_of(found, limit, lambda m: m.id)
    next_url = None
    if cursor is not None:
        query = {"kind": kind, "party": party, "status": status, "correlation": correlation, "after": cursor}
        next_url = "/console/messages?" + urlencode({k: v for k, v in query.items() if v} | {"limit": limit})
    return page(
        request,
        signed,
        "messages.html",
        title="Message log",
        explain=(
            "Every message the hub received or sent, newest first, with where it stands in its life "
            "(received, validated, delivered, acknowledged…). Open one to read, replay or resend it."
        ),
        rows=rows,
        next_url=next_url,
        kind=kind,
        party=party,
        status=status,
        correlation=correlation,
        statuses=[s.value for s in Status],
    )


@router.get("/messages/{message_pk}")
async def one(message_pk: uuid.UUID, request: Request, session: SessionDep, signed: Admin) -> HTMLResponse:
    repo = ConsoleRepository(session)
    message = await repo.message(message_pk)
    if message is None:
        return page(
            request, signed, "missing.html", title="No such message", detail=f"no message {message_pk}"
        )
    body = (await sealing.open_bodies(session, [message]))[message.id]  # None: its case was erased
    raw = None if body is None else body[:RAW_LIMIT].decode("utf-8", errors="replace")
    return page(
        request,
        signed,
        "message.html",
        title=f"Message {message.message_id}",
        explain="The message as it came or went, byte for byte (SHA-256 below), and each step of its life.",
        m=message,
        events=await repo.message_events(message.id),
        raw=raw,
        cut=body is not None and len(body) > RAW_LIMIT,
        size=None if body is None else len(body),
    )


@router.post("/messages/{message_pk}/replay")
async def replay_message(
    message_pk: uuid.UUID, request: Request, session: SessionDep, signed: Admin, _form: CheckedForm
) -> RedirectResponse:
    try:
        async with session.begin_nested():
            outcome = await replay(session, request.app.state.processor, message_pk, actor=signed.user.email)
        verdict = "accepted" if outcome.accepted else f"refused again (HTTP {outcome.status})"
        message = f"Replayed: {verdict}; the office is sent the new receipt."
        to = f"/console/messages/{outcome.message.id}"
    except HubError as exc:
        message, to = refusal_text(exc), f"/console/messages/{message_pk}"
    return await done(session, signed, to, message)


@router.post("/messages/{message_pk}/resend")
async def resend_message(
    message_pk: uuid.UUID, session: SessionDep, signed: Admin, _form: CheckedForm
) -> RedirectResponse:
    try:
        async with session.begin_nested():
            await messaging.resend(session, message_pk, actor=signed.user.email)
        message = "Queued again with the same message id: the office can tell it is a copy."
    except HubError as exc:
        message = refusal_text(exc)
    return await done(session, signed, f"/console/messages/{message_pk}", message)


@router.get("/dead-letters")
async def dead_page(request: Request, settings: SettingsDep, signed: Admin) -> HTMLResponse:
    listed = dead_letters.DeadLetterPage([], 0)
    error = None
    if not settings.embedded_broker:
        try:
            listed = await dead_letters.read_dead_letters(settings.amqp_url, limit=PAGE_SIZE)
        except HubError as exc:
            error = refusal_text(exc)
        except Exception as exc:  # the broker is down: say so on the page
            error = f"The broker cannot be reached: {type(exc).__name__}"
    return page(
        request,
        signed,
        "dead.html",
        title="Dead letters",
        explain=(
            "Messages RabbitMQ could not deliver or the hub could not read (queue hub.dead), with the "
            "reason. Requeue runs each again through the inbound path, as the office that sent it."
        ),
        embedded=settings.embedded_broker,
        letters=listed.letters,
        total=listed.total,
        error=error,
        limit=PAGE_SIZE,
    )


@router.post("/dead-letters/requeue")
async def requeue(
    request: Request, session: SessionDep, settings: SettingsDep, signed: Admin, _form: CheckedForm
) -> RedirectResponse:
    if settings.embedded_broker:
        return await done(
            session, signed, "/console/dead-letters", "Refused: embedded hub, no broker, no dead letter."
        )
    try:
        results = await dead_letters.requeue_dead_letters(
            settings.amqp_url, request.app.state.sessions, request.app.state.processor, limit=PAGE_SIZE
        )
        kept = sum(1 for _, what in results if what.startswith(dead_letters.KEPT))
        message = f"{len(results) - kept} dead letter(s) run again, {kept} kept in hub.dead: " + "; ".join(
            f"{letter.message_id or '?'}: {what}" for letter, what in results[:20]
        )
    except HubError as exc:
        message = refusal_text(exc)
    return await done(session, signed, "/console/dead-letters", message)
