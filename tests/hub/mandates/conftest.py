"""The app of the mandates HTTP tests leaves no pending outbox row behind: the embedded relay delivers
what a test queued (mandates, receipts, agency copies) before the next test, so a later test that
drains the shared committed database sees only its own messages."""

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
