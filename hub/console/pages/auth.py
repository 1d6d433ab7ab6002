"""Signing in (email and password, or a one-time link) and out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.console import service
from hub.console.web import COOKIE, PREFIX, SIGN_IN_CSRF_COOKIE, CheckedForm, SignedIn, render
from hub.deps import SessionDep, SettingsDep
from hub.kit.errors import Unauthorized
from hub.kit.ratelimit import RateLimiter, TooManyRequests
from hub.settings import Settings

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a console path: never another site (an open redirect)."""
    if target and target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{PREFIX}/"


def _signed_in(to: str, token: str, settings: Settings) -> Response:
    response = RedirectResponse(to, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.console_https,
        path=PREFIX,
    )
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path=f"{PREFIX}/sign-in")
    return response


def _sign_in_page(
    request: Request,
    settings: Settings,
    *,
    next_: str,
    error: str | None = None,
    email: str = "",
    status: int = 200,
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "sign_in.html",
        status_code=status,
        title="Sign in",
        explain="The console is for the agency's staff and finance: sign in with your email and password.",
        signin_csrf=token,
        next=next_,
        error=error,
        email=email,
    )
    response.set_cookie(
        SIGN_IN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.console_https,
        path=f"{PREFIX}/sign-in",
    )
    return response


@router.get("/sign-in")
async def sign_in_form(
    request: Request, settings: SettingsDep, next_: Annotated[str | None, Query(alias="next")] = None
) -> HTMLResponse:
    return _sign_in_page(request, settings, next_=_safe_next(next_))


@router.post("/sign-in")
async def sign_in(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    form = await request.form()
    presented, expected = form.get("csrf_token"), request.cookies.get(SIGN_IN_CSRF_COOKIE)
    if not isinstance(presented, str) or not expected or not secrets.compare_digest(presented, expected):
        return render(request, "refused.html", status_code=403, title="Form refused", reason="csrf")
    email = str(form.get("email") or "").strip().lower()
    password = str(form.get("password") or "")
    next_ = _safe_next(str(form.get("next") or ""))
    try:
        attempts: RateLimiter = request.app.state.console_attempts
        attempts.check(f"email:{email}")
        attempts.check(f"client:{request.client.host if request.client else '-'}")
        opened = await service.sign_in(session, email, password)
    except TooManyRequests:
        return _sign_in_page(
            request, settings, next_=next_, email=email, status=429,
            error="Too many sign-in attempts: wait a few seconds and try again.",
        )  # fmt: skip
    except Unauthorized:
        return _sign_in_page(
            request, settings, next_=next_, email=email, status=401,
            error="The email or the password is not right.",
        )  # fmt: skip
    return _signed_in(next_, opened.token, settings)


@router.get("/sign-in/link/{token}")
async def sign_in_by_link(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    try:
        opened = await service.use_sign_in_link(session, token)
    except Unauthorized as exc:
        return _sign_in_page(request, settings, next_=f"{PREFIX}/", error=exc.detail, status=401)
    return _signed_in(f"{PREFIX}/", opened.token, settings)


@router.post("/sign-out")
async def sign_out(session: SessionDep, signed: SignedIn, _form: CheckedForm) -> Response:
    await service.sign_out(session, signed.row)
    response = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response
