"""``python -m hub.bench.rawserver DATABASE_URL PORT``: the raw HTTP limit, a bare FastAPI route
doing one INSERT of the request body, served by uvicorn as ``hub serve`` serves the hub (no hub
code: the same libraries and settings only)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request, Response

from hub.bench.rawdb import RawDb

POOL = 15  # SQLAlchemy's default pool (5) and overflow (10), as the hub's engine has


def app(database_url: str) -> FastAPI:
    db = RawDb(database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await db.open(POOL)
        key = "INTEGER PRIMARY KEY" if db.sqlite else "BIGSERIAL PRIMARY KEY"
        await db.execute(f"CREATE TABLE IF NOT EXISTS raw_http (id {key}, body TEXT NOT NULL)")
        yield
        await db.close()

    bare = FastAPI(lifespan=lifespan)

    @bare.post("/act-reports", status_code=202)
    async def insert(request: Request) -> Response:
        await db.execute("INSERT INTO raw_http (body) VALUES (?)", (await request.body()).decode())
        return Response(b'{"status":"accepted"}', status_code=202, media_type="application/json")

    @bare.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return bare


if __name__ == "__main__":
    uvicorn.run(app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_config=None, access_log=False)
