"""The console's sessions, CSRF checks and headers, in process with httpx (no browser)."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from hub.console import service as console
from hub.console.models import ConsoleSession
from hub.database import unit_of_work
from hub.staff import service as staff
from hub.staff.models import Role

PASSWORD = "correct horse battery"


async def _account(app: FastAPI, role: Role = Role.STAFF, password: str | None = PASSWORD) -> str:
    email = f"{secrets.token_hex(4)}@agence.example"
    async with unit_of_work(app.state.sessions) as session:
        user, _ = await staff.add_staff(session, email, role)
        if password is not None:
            user.password_hash = console.hash_password(password)
    return email


async def _sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/console/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    return await client.post(
        "/console/sign-in",
        data={"csrf_token": token.group(1), "email": email, "password": password, "next": "/console/decide"},
    )


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def test_sign_in_sets_a_strict_cookie_and_opens_the_console(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    email = await _account(app)
    signed = await _sign_in(client, email)
    assert signed.status_code == 303 and signed.headers["location"] == "/console/decide"
    cookie = next(h for h in signed.headers.get_list("set-cookie") if h.startswith("hub_console="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # HUB_CONSOLE_HTTPS is off in the tests
    page = await client.get("/console/decide")
    assert page.status_code == 200 and email in page.text


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    email = await _account(app)
    wrong = await _sign_in(client, email, "not the password at all")
    unknown = await _sign_in(client, "nobody@agence.example", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "The email or the password is not right." in wrong.text
    assert "The email or the password is not right." in unknown.text
    assert "hub_console=" not in wrong.headers.get("set-cookie", "")


async def test_the_sign_in_form_needs_its_own_csrf_token(client: httpx.AsyncClient, app: FastAPI) -> None:
    email = await _account(app)
    refused = await client.post("/console/sign-in", data={"email": email, "password": PASSWORD})
    assert refused.status_code == 403 and "CSRF" in refused.text


async def test_every_page_answer_carries_the_security_headers(client: httpx.AsyncClient) -> None:
    for path in ("/console/sign-in", "/console/", "/console/static/console.css"):
        answer = await client.get(path)
        assert "default-src 'self'" in answer.headers["content-security-policy"], path
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"], path
        assert answer.headers["x-frame-options"] == "DENY", path
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["referrer-policy"] == "same-origin", path
    assert "x-frame-options" not in (await client.get("/healthz")).headers  # the API keeps its own


async def test_a_post_with_a_wrong_csrf_token_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    email = await _account(app)
    await _sign_in(client, email)
    forged = await client.post("/console/sign-out", data={"csrf_token": "forged"})
    assert forged.status_code == 403 and "Nothing was changed" in forged.text
    assert (await client.get("/console/decide")).status_code == 200  # still signed in
    page = await client.get("/console/decide")
    out = await client.post("/console/sign-out", data={"csrf_token": _csrf(page.text)})
    assert out.status_code == 303
    assert (await client.get("/console/decide")).status_code == 303


async def test_an_idle_session_is_signed_out(client: httpx.AsyncClient, app: FastAPI) -> None:
    email = await _account(app)
    await _sign_in(client, email)
    idle = timedelta(minutes=app.state.settings.console_idle_minutes + 1)
    async with unit_of_work(app.state.sessions) as session:
        user_sessions = (await session.scalars(select(ConsoleSession))).all()
        for row in user_sessions:
            await session.execute(
                update(ConsoleSession)
                .where(ConsoleSession.id == row.id)
                .values(last_seen_at=row.last_seen_at - idle)
            )
    answer = await client.get("/console/decide")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in?next=/console/decide"


async def test_a_sign_in_link_works_once_and_not_after_it_expires(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    email = await _account(app, password=None)
    async with unit_of_work(app.state.sessions) as session:
        user = await staff_user(session, email)
        fresh = await console.create_sign_in_link(session, user, valid=timedelta(hours=1))
        stale = await console.create_sign_in_link(session, user, valid=timedelta(seconds=-1))
    first = await client.get(f"/console/sign-in/link/{fresh}")
    assert first.status_code == 303 and "hub_console=" in first.headers["set-cookie"]
    client.cookies.clear()
    again = await client.get(f"/console/sign-in/link/{fresh}")
    assert again.status_code == 401 and "already used or expired" in again.text
    expired = await client.get(f"/console/sign-in/link/{stale}")
    assert expired.status_code == 401
    # No password on the account: the password form cannot open it.
    assert (await _sign_in(client, email, "")).status_code == 401


async def staff_user(session, email):  # type: ignore[no-untyped-def]
    from hub.staff.repository import StaffRepository

    user = await StaffRepository(session).by_email(email)
    assert user is not None
    return user


async def test_a_role_sees_its_menu_and_is_refused_other_pages(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    email = await _account(app, Role.FINANCE)
    await _sign_in(client, email)
    page = await client.get("/console/")
    assert 'href="/console/invoices"' in page.text and 'href="/console/mandates"' not in page.text
    refused = await client.get("/console/mandates")
    assert refused.status_code == 403 and "finance" in refused.text


async def test_a_staff_token_opens_no_console_page(client: httpx.AsyncClient, app: FastAPI) -> None:
    async with unit_of_work(app.state.sessions) as session:
        _, token = await staff.add_staff(session, f"{secrets.token_hex(4)}@agence.example", Role.ADMIN)
    answer = await client.get("/console/", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/v1/inbox"])
async def test_sign_in_never_redirects_off_the_console(
    client: httpx.AsyncClient, app: FastAPI, target: str
) -> None:
    email = await _account(app)
    form = await client.get("/console/sign-in")
    signed = await client.post(
        "/console/sign-in",
        data={"csrf_token": _csrf(form.text), "email": email, "password": PASSWORD, "next": target},
    )
    assert signed.headers["location"] == "/console/"


async def test_guessing_passwords_is_slowed_down(client: httpx.AsyncClient, app: FastAPI) -> None:
    email = await _account(app)
    # Ten at once, then one every five seconds: of five more quick tries, most are refused unread.
    answers = [(await _sign_in(client, email, f"guess number {n}")).status_code for n in range(15)]
    assert answers[:10] == [401] * 10 and answers[10:].count(429) >= 3


async def test_the_worklist_is_for_staff_and_its_reminder_needs_the_csrf_token(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await _sign_in(client, await _account(app, Role.FINANCE))
    assert (await client.get("/console/worklist")).status_code == 403
    client.cookies.clear()
    await _sign_in(client, await _account(app, Role.STAFF))
    page = await client.get("/console/worklist")
    assert page.status_code == 200 and 'href="/console/worklist"' in page.text
    forged = await client.post(
        "/console/worklist/remind", data={"office": "CJ75001", "topic": "stale_mandate", "mandate_ref": "M-1"}
    )
    assert forged.status_code == 403 and "Nothing was changed" in forged.text


async def test_a_reminder_the_office_cannot_act_on_is_refused_on_the_page(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await _sign_in(client, await _account(app, Role.STAFF))
    token = _csrf((await client.get("/console/worklist")).text)
    posted = await client.post(
        "/console/worklist/remind",
        data={"csrf_token": token, "office": "CJ75001", "topic": "held_mandate", "mandate_ref": "M-1"},
    )
    assert posted.status_code == 303 and posted.headers["location"] == "/console/worklist"
    shown = await client.get("/console/worklist")
    assert "Refused: held_mandate waits for the agency&#39;s own decision" in shown.text
    unknown = await client.get("/console/worklist?office=NOPE")
    assert unknown.status_code == 200 and "no office NOPE" in unknown.text


async def test_the_message_log_pages_by_keyset_without_losing_messages_of_the_same_instant(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    from datetime import UTC, datetime

    from hub.messaging.models import StoredMessage

    kind = f"k{secrets.token_hex(4)}"
    same = datetime(2026, 3, 20, 8, 0, tzinfo=UTC)
    async with unit_of_work(app.state.sessions) as session:
        for n in range(5):
            session.add(
                StoredMessage(
                    direction="out",
                    message_id=f"T-{kind}-{n}",
                    kind=kind,
                    sender="AGENCY",
                    recipient="CJ75001",
                    content_type="application/xml",
                    body=b"<x/>",
                    sha256="0" * 64,
                    status="queued",
                    created_at=same,
                )
            )
    await _sign_in(client, await _account(app, Role.ADMIN))
    seen: list[str] = []
    url: str | None = f"/console/messages?kind={kind}&limit=2"
    while url is not None:
        page = await client.get(url)
        assert page.status_code == 200
        seen += re.findall(rf"T-{kind}-\d", page.text)
        found = re.search(r'href="(/console/messages\?[^"]+)" rel="next"', page.text)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert sorted(seen) == [f"T-{kind}-{n}" for n in range(5)]


async def _import_case(app: FastAPI) -> tuple[str, str]:
    """A case and an office to import mandates for."""
    from tests.hub.mandates.factories import a_case, an_office

    async with unit_of_work(app.state.sessions) as session:
        office = await an_office(session, departements=["75"])
        case = await a_case(session)
        return case.ref, office.code


def _mandates_csv(case_ref: str, office: str, rows: int, bad: dict[int, str]) -> bytes:
    """``rows`` data rows with their own refs (``M-<office>-0001``...); a row numbered in ``bad`` has
    that case ref instead (the row numbered n is on line n + 1)."""
    lines = ["ref,case_ref,office_code,kind,acts[]"]
    for n in range(1, rows + 1):
        lines.append(f"M-{office}-{n:04d},{bad.get(n, case_ref)},{office},per_act,SERVE_TITLE")
    return ("\n".join(lines) + "\n").encode()


async def _refs_stored(app: FastAPI, refs: list[str]) -> set[str]:
    from hub.mandates.models import Mandate

    async with unit_of_work(app.state.sessions) as session:
        found = await session.scalars(select(Mandate.ref).where(Mandate.ref.in_(refs)))
        return set(found)


async def test_a_mandates_import_streams_a_line_per_committed_chunk_then_the_refused_lines(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    case_ref, office = await _import_case(app)
    await _sign_in(client, await _account(app, Role.STAFF))
    token = _csrf((await client.get("/console/mandates")).text)
    body = _mandates_csv(case_ref, office, 205, {42: "D-NO-SUCH-CASE", 150: "D-NOR-THIS-ONE"})
    answer = await client.post(
        "/console/mandates/import",
        data={"csrf_token": token},
        files={"file": ("bulk.csv", body, "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    assert "content-length" not in answer.headers  # streamed as the import goes
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"
    text = answer.text
    assert "Importing bulk.csv: 205 row(s)" in text
    lines = re.findall(r'<span id="part-\d+">([^<]+)</span>', text)
    assert lines == [
        "rows 1-100 of 205: 99 issued or held, 1 refused",
        "rows 101-200 of 205: 99 issued or held, 1 refused",
        "rows 201-205 of 205: 5 issued or held, 0 refused",
    ]
    assert text.count("<progress") == 3 and 'aria-labelledby="part-3" max="205" value="205"' in text
    assert "203 mandate(s) created" in text and "2 line(s) refused" in text
    refused = re.findall(r"<tr><td>(\d+)</td><td><code>([^<]+)</code>", text)
    assert refused == [("43", "case_ref"), ("151", "case_ref")]  # their lines: the header is line 1
    assert text.index("rows 201-205") < text.index("Import report") < text.rindex("</html>")
    refs = [f"M-{office}-{n:04d}" for n in range(1, 206)]
    assert await _refs_stored(app, refs) == set(refs) - {f"M-{office}-0042", f"M-{office}-0150"}


async def test_a_failed_chunk_leaves_the_chunks_committed_before_it_and_the_page_says_so(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.mandates import service as mandates

    real, calls = mandates.import_rows, []

    async def failing_second(*args: object, **kwargs: object) -> object:
        calls.append(1)
        summary = await real(*args, **kwargs)  # type: ignore[arg-type]
        if len(calls) == 2:  # its rows were written, then the database went away: rolled back
            raise ConnectionRefusedError("connection refused")
        return summary

    monkeypatch.setattr(mandates, "import_rows", failing_second)
    case_ref, office = await _import_case(app)
    await _sign_in(client, await _account(app, Role.STAFF))
    token = _csrf((await client.get("/console/mandates")).text)
    answer = await client.post(
        "/console/mandates/import",
        data={"csrf_token": token},
        files={"file": ("bulk.csv", _mandates_csv(case_ref, office, 250, {120: "D-NO-SUCH"}), "text/csv")},
    )
    assert answer.status_code == 200
    text = answer.text.replace("&#39;", "'")
    assert re.findall(r'<span id="part-\d+">([^<]+)</span>', text) == [
        "rows 1-100 of 250: 100 issued or held, 0 refused"
    ]
    assert "Stopped at rows 101-200: ConnectionRefusedError: connection refused." in text
    assert "The 100 row(s) before were committed (a transaction per 100 rows) and stay imported" in text
    assert "100 mandate(s) created" in text and "0 line(s) refused" in text  # line 121's chunk undone
    refs = [f"M-{office}-{n:04d}" for n in range(1, 251)]
    assert await _refs_stored(app, refs) == set(refs[:100])


async def test_a_file_that_is_not_a_mandates_csv_is_refused_at_once_and_nothing_is_imported(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    case_ref, office = await _import_case(app)
    await _sign_in(client, await _account(app, Role.STAFF))
    token = _csrf((await client.get("/console/mandates")).text)
    good_rows = _mandates_csv(case_ref, office, 3, {}).split(b"\n", 1)[1]
    refusals = {
        b"\x89PNG\r\n\x1a\n\x00\xff\xfe": "the file is not UTF-8 text",
        b"name,amount\n" + good_rows: "unknown column(s) 'name', 'amount'; missing column(s) case_ref, kind",
        b"": "the file is empty",
        b"ref,case_ref,office_code,kind,acts[]\n": "the file has a header but no rows",
    }
    for content, reason in refusals.items():
        answer = await client.post(
            "/console/mandates/import",
            data={"csrf_token": token},
            files={"file": ("upload.csv", content, "text/csv")},
        )
        assert answer.status_code == 400, content
        assert reason in answer.text.replace("&#39;", "'"), answer.text
        assert "Nothing was imported" in answer.text and "<progress" not in answer.text
    # Over the size limit: refused on the page before anything is read.
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"max_import_bytes": 2048})
    try:
        big = _mandates_csv(case_ref, office, 60, {})
        assert len(big) > 2048
        answer = await client.post(
            "/console/mandates/import",
            data={"csrf_token": token},
            files={"file": ("big.csv", big, "text/csv")},
        )
    finally:
        app.state.settings = settings
    assert answer.status_code == 400
    assert "The file is over 2,048 bytes (HUB_MAX_IMPORT_BYTES): split it" in answer.text
    assert await _refs_stored(app, [f"M-{office}-{n:04d}" for n in range(1, 61)]) == set()
    # Without the CSRF token, or for finance: refused whole.
    files = {"file": ("bulk.csv", _mandates_csv(case_ref, office, 3, {}), "text/csv")}
    forged = await client.post("/console/mandates/import", data={"csrf_token": "forged"}, files=files)
    assert forged.status_code == 403 and "Nothing was changed" in forged.text
    client.cookies.clear()
    await _sign_in(client, await _account(app, Role.FINANCE))
    token = _csrf((await client.get("/console/decide")).text)
    finance = await client.post("/console/mandates/import", data={"csrf_token": token}, files=files)
    assert finance.status_code == 403
    assert await _refs_stored(app, [f"M-{office}-{n:04d}" for n in range(1, 4)]) == set()


async def test_a_message_page_lists_its_mailbox_delivery_in_its_lifecycle(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """The relay writes no event row for a mailbox delivery (ADR 0018): the page shows the step all
    the same, from the outbox row, after the step that routed the message."""
    from hub.messaging.models import OutboxEntry
    from hub.messaging.relay import Relay
    from tests.hub.mandates.factories import an_office
    from tests.hub.messaging.test_relay import drain, enqueue, office_code

    async with unit_of_work(app.state.sessions) as session:
        office = await an_office(session, code=office_code())
        [outbox_id] = await enqueue(session, office.code)
    await drain(Relay(app.state.sessions))
    async with app.state.sessions() as session:
        message_pk = await session.scalar(select(OutboxEntry.message_pk).where(OutboxEntry.id == outbox_id))
    await _sign_in(client, await _account(app, Role.ADMIN))
    page = await client.get(f"/console/messages/{message_pk}")
    assert page.status_code == 200
    steps = re.findall(r"<td>(routed|delivered)</td><td>([^<]*)</td><td>([^<]*)</td>", page.text)
    assert steps == [("routed", "hub", ""), ("delivered", "relay", f"outbox {outbox_id}")]
