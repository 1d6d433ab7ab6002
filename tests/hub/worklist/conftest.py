"""The app of the worklist HTTP tests leaves no pending outbox row behind: the embedded relay delivers
what a test queued (reminders, receipts, agency copies) before the next test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from hub.app import create_app
from hub.messaging.relay import Relay
from hub.settings import Settings


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app
        relay = Relay(app.state.sessions)
        while await relay.run_once():
            pass
