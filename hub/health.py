"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from hub.database import READ_ONLY
from hub.kit.http import problem_response
from hub.observability import metrics as hub_metrics

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_S = 3.0


@router.get(
    "/healthz",
    summary="The process is up",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
async def healthz() -> dict[str, str]:
    """Liveness for a load balancer or orchestrator: answers 200 `{"status": "ok"}` as long as the process
    serves requests. No credentials; it checks neither the database nor the broker (see `/readyz`).
    """
    return {"status": "ok"}


async def _database_ready(request: Request) -> str | None:
    try:
        # Read-only: on SQLite a check must not wait for the write lock a long write holds.
        engine = request.app.state.engine.execution_options(**READ_ONLY)
        async with asyncio.timeout(CHECK_TIMEOUT_S), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"database unreachable: {type(exc).__name__}: {exc}"[:300]
    return None


async def _broker_ready(request: Request) -> str | None:
    broker = getattr(request.app.state, "broker", None)
    if broker is None:
        return None
    return await broker.health()


@router.get(
    "/readyz",
    summary="The database (and the broker, when configured) is reachable",
    responses={
        200: {
            "content": {
                "application/json": {"example": {"status": "ready", "database": "up", "broker": "up"}}
            }
        },
        503: {"description": "Not ready, with the reason"},
    },
)
async def readyz(request: Request) -> Response:
    """Readiness: 200 with the state of the database and the broker (`embedded` when the hub runs without
    RabbitMQ) when each answers within 3 s, else 503 problem+json (`not_ready`) naming what is
    unreachable. No credentials.
    """
    reasons = [r for r in (await _database_ready(request), await _broker_ready(request)) if r]
    if reasons:
        return problem_response(503, "Not ready", "; ".join(reasons), "not_ready")
    broker = "embedded" if getattr(request.app.state, "broker", None) is None else "up"
    return JSONResponse({"status": "ready", "database": "up", "broker": broker})


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """The series of hub/observability/metrics.py, the backlog read now. No credentials."""
    await hub_metrics.read_backlog(request.app.state.engine, getattr(request.app.state, "broker", None))
    return Response(hub_metrics.render(), media_type=CONTENT_TYPE_LATEST)
