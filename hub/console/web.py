"""The console's plumbing: templates, the signed-in caller, CSRF on every form, the security headers
and the pages' answers to a missing session (sign in first) or a forged form (403)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.console import service
from hub.console.models import ConsoleSession
from hub.console.repository import ConsoleRepository
from hub.deps import SessionDep, SettingsDep
from hub.kit.errors import HubError
from hub.kit.ratelimit import RateLimiter
from hub.staff.models import Role, StaffUser
from hub.tariff.catalogue import load_catalogue

HERE = Path(__file__).parent
COOKIE = "hub_console"
SIGN_IN_CSRF_COOKIE = "hub_console_signin"  # double-submit token of the sign-in form (no session yet)
PREFIX = "/console"
PAGE_SIZE = 50

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def act_name(code: str) -> str:
    """An act code with its English label and the French name staff know it by."""
    act = load_catalogue().acts.get(code)
    return f"{code} – {act.label_en} ({act.name_fr})" if act is not None else code


templates.filters["act"] = act_name

# What each role sees in the menu (admin sees all); the pages check the same roles.
MENU: list[tuple[str, str, tuple[Role, ...]]] = [
    ("/console/", "Dashboard", (Role.STAFF, Role.FINANCE)),
    ("/console/decide", "To decide", (Role.STAFF, Role.FINANCE)),
    ("/console/worklist", "Worklist", (Role.STAFF,)),
    ("/console/mandates", "Mandates", (Role.STAFF,)),
    ("/console/offices", "Offices", (Role.STAFF, Role.FINANCE)),
    ("/console/invoices", "Invoices", (Role.FINANCE,)),
    ("/console/messages", "Messages", (Role.ADMIN,)),
    ("/console/dead-letters", "Dead letters", (Role.ADMIN,)),
]


def allowed(user: StaffUser, roles: tuple[Role, ...]) -> bool:
    return user.role == Role.ADMIN.value or user.role in {r.value for r in roles}


# --- answers that are pages, not problem+json --------------------------------------------------


class SignInNeeded(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


class FormRefused(Exception):
    """A POST without the session's CSRF token: refused whole, nothing done."""


class RoleRefused(Exception):
    def __init__(self, role: str, roles: tuple[Role, ...]) -> None:
        # Plain values: the session (and its objects) is closed when the handler renders the page.
        self.role, self.needed = role, " or ".join(r.value for r in roles)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("menu", [])
    html = templates.get_template(name).render(request=request, **context)
    return HTMLResponse(html, status_code=status_code)


def install(app: FastAPI) -> None:
    """The console's handlers and headers on the hub's app (called by ``create_app``)."""

    async def sign_in_needed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInNeeded)
        target = f"{PREFIX}/sign-in?next={quote(exc.path, safe='/')}"
        return RedirectResponse(target, status_code=303)

    async def form_refused(request: Request, exc: Exception) -> Response:
        return render(request, "refused.html", status_code=403, title="Form refused", reason="csrf")

    async def role_refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RoleRefused)
        return render(
            request,
            "refused.html",
            status_code=403,
            title="Not for your role",
            reason="role",
            role=exc.role,
            needed=exc.needed,
        )

    # Sign-in attempts: ten at once per email and per address, then one every five seconds.
    app.state.console_attempts = RateLimiter(rate=0.2, burst=10)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.add_exception_handler(SignInNeeded, sign_in_needed)
    app.add_exception_handler(FormRefused, form_refused)
    app.add_exception_handler(RoleRefused, role_refused)
    app.add_middleware(SecurityHeaders)


SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    """Adds the console's security headers to every answer under ``/console`` (the API's own pages,
    /docs, keep theirs: their documentation loads its script from elsewhere)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}  # a route's own policy (a chart) stands
                message["headers"] = headers + [(k, v) for k, v in SECURITY_HEADERS if k not in present]
            await send(message)

        await self.app(scope, receive, with_headers)


# --- the caller ---------------------------------------------------------------------------------


@dataclass
class Signed:
    """The signed-in staff member and their session."""

    user: StaffUser
    row: ConsoleSession
    flash: str | None

    def can(self, *roles: Role) -> bool:
        return allowed(self.user, roles)


async def signed_in(request: Request, session: SessionDep, settings: SettingsDep) -> Signed:
    """The session named by the cookie, or a redirect to the sign-in page. An ``Authorization``
    header (an office key, a staff token) counts for nothing here: only the session cookie does."""
    found = await service.current(
        session, request.cookies.get(COOKIE), idle=timedelta(minutes=settings.console_idle_minutes)
    )
    if found is None:
        raise SignInNeeded(request.url.path)
    row, user = found
    return Signed(user, row, await service.take_flash(row))


SignedIn = Annotated[Signed, Depends(signed_in)]


def needs(*roles: Role) -> Any:
    async def check(signed: SignedIn) -> Signed:
        if not signed.can(*roles):
            raise RoleRefused(signed.user.role, roles)
        return signed

    return Depends(check)


async def checked_form(request: Request, signed: SignedIn) -> FormData:
    """The POSTed form, once its CSRF token is the session's."""
    form = await request.form()
    token = form.get("csrf_token")
    if not service.csrf_ok(signed.row, token if isinstance(token, str) else None):
        raise FormRefused()
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def page(request: Request, signed: Signed, name: str, **context: Any) -> HTMLResponse:
    menu = [(href, label) for href, label, roles in MENU if signed.can(*roles)]
    return render(
        request,
        name,
        menu=menu,
        user=signed.user,
        csrf_token=signed.row.csrf_token,
        flash=signed.flash,
        path=request.url.path,
        **context,
    )


SLOT = "hub-console-slot-b1d9"  # nothing to escape in it: found as is in the rendered page


def page_pieces(request: Request, signed: Signed, name: str, **context: Any) -> list[str]:
    """A page rendered whole and cut at each ``{{ slot }}`` of its template: a streamed answer sends
    the first piece at once (the head, the menu, the title), then what it computes between the
    pieces as it goes, then the last (the footer). Each piece is plain HTML: no script needed."""
    html = bytes(page(request, signed, name, slot=SLOT, **context).body).decode()
    return html.split(SLOT)


def fragment(name: str, **context: Any) -> str:
    """A part of a page (a template without the layout), for a streamed answer."""
    return templates.get_template(name).render(**context)


async def done(session: SessionDep, signed: Signed, to: str, message: str) -> RedirectResponse:
    """After a POST: what happened, shown once on the page it redirects to (303: a reload does not
    post again)."""
    await ConsoleRepository(session).set_flash(signed.row.id, message)
    return RedirectResponse(to, status_code=303)


def refusal_text(exc: HubError) -> str:
    items = "; ".join(f"{e.path}: {e.message}" for e in exc.errors[:10])
    return f"Refused: {exc.detail}" + (f" ({items})" if items else "")


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
