"""The console tested as staff use it: a real ``hub serve`` subprocess on a free port over a
temporary SQLite database (migrated, demo data loaded, like ``make run``), driven by Debian's
Chromium through Playwright. The browser is never downloaded: without /usr/bin/chromium the
browser tests skip, and fail under ``CI=true``."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import IN_CI
from tests.hub.invoices.einvoices import Line, ubl

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[3]
# Named in the README ("Console"); git-ignored.
SCREENSHOTS = ROOT / "build" / "screenshots"
DEMO_EMAIL, DEMO_PASSWORD = "demo@agence.example", "demo-console-2026"
CJ75001_SIRET = "75200190900015"  # hub/demo.py


@dataclass
class Hub:
    url: str
    env: dict[str, str]
    office_key: str
    staff_token: str
    held_ref: str
    invoice_id: str
    message_pk: str  # the invoice's message
    overdue_ref: str  # a mandate issued four days ago, never acknowledged: on the worklist

    def staff(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.staff_token}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hub_command(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hub", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _seed(client: httpx.Client, staff: dict[str, str], key: str) -> tuple[str, str, str]:
    """A held mandate (a bank garnishment on a 20 EUR claim: the creditor would lose) and an
    invoice from CJ75001 whose lines match no act (disputed by the hub, a line to dispute)."""
    case = {
        "ref": "D-CONSOLE-1",
        "creditor": {"name": "Banque Exemple SA"},
        "debtor": {
            "kind": "person",
            "name": "Paul Petit",
            "address": {
                "line1": "1 rue Oberkampf",
                "postcode": "75011",
                "city": "Paris",
                "departement": "75",
            },
        },
        "claim": {"principal_cents": 2000},
        "claim_kind": "consumer",
        "title": {"kind": "judgment", "issued_on": "2025-01-10", "served_on": "2025-02-01"},
    }
    assert client.post("/v1/cases", headers=staff, json=case).status_code == 201
    mandate = client.post(
        "/v1/mandates",
        headers=staff,
        json={
            "case_ref": "D-CONSOLE-1",
            "office_code": "CJ75001",
            "kind": "per_act",
            "acts": ["BANK_GARNISHMENT"],
        },
    )
    assert mandate.status_code == 201 and mandate.json()["status"] == "held", mandate.text
    invoice = client.post(
        "/v1/invoices",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/xml"},
        content=ubl("F-CONSOLE-1", [Line(5158, ref="A/1"), Line(1200, ref="A/2")], siret=CJ75001_SIRET),
    )
    assert invoice.status_code == 202, invoice.text
    listed = client.get("/v1/invoices?office=CJ75001", headers=staff).json()["items"]
    return mandate.json()["ref"], listed[0]["id"], listed[0]["message_pk"]


def _seed_overdue(client: httpx.Client, staff: dict[str, str], database: Path) -> str:
    """A mandate issued to CJ75001 and dated four days back (past HUB_MANDATE_ACK_HOURS = 72): a
    ``mandate_ack_overdue`` item of the worklist, the office's to do, so one a reminder can follow."""
    issued = client.post(
        "/v1/mandates",
        headers=staff,
        json={
            "case_ref": "D-2026-0001",
            "office_code": "CJ75001",
            "kind": "per_act",
            "acts": ["BANK_GARNISHMENT"],
        },
    )
    assert issued.status_code == 201 and issued.json()["status"] == "issued", issued.text
    ref = str(issued.json()["ref"])
    with sqlite3.connect(database) as db:  # the hub stores naive UTC text in SQLite
        changed = db.execute(
            "UPDATE mandates SET issued_at = datetime(issued_at, '-4 days') WHERE ref = ?", (ref,)
        ).rowcount
    assert changed == 1
    return ref


def _seed_inventory(client: httpx.Client, key: str, overdue_ref: str) -> None:
    """CJ75001's inventory: the overdue mandate listed closed, and a ref the hub never gave it."""
    listed = [{"ref": overdue_ref, "status": "closed"}, {"ref": "M-NOT-OURS-1", "status": "open"}]
    answer = client.post(
        "/v1/inventory", headers={"Authorization": f"Bearer {key}"}, json={"mandates": listed}
    )
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="session")
def hub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    folder = tmp_path_factory.mktemp("console")
    port = _free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'hub.db'}",
        "HUB_AMQP_URL": "",
        "HUB_ENV": "test",
        "HUB_SECRET_KEY": "c" * 40,
        "HUB_HOST": "127.0.0.1",
        "HUB_PORT": str(port),
        "HUB_WORKERS": "1",
        "HUB_ROLE": "all",
        "HUB_MANDATE_ACK_HOURS": "72",  # the worklist's rule for the seeded overdue mandate
    }
    hub_command(env, "migrate")
    assert "sign in as demo@agence.example" in hub_command(env, "demo")
    key = hub_command(env, "keys", "create", "CJ75001").strip().splitlines()[-1]
    token = (
        hub_command(env, "staff", "add", "seeder@agence.example", "--role", "admin").strip().splitlines()[-1]
    )
    log = (folder / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            for _ in range(300):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, (folder / "serve.log").read_text()
                time.sleep(0.1)
            staff = {"Authorization": f"Bearer {token}"}
            held, invoice, message = _seed(client, staff, key)
            overdue = _seed_overdue(client, staff, folder / "hub.db")
            _seed_inventory(client, key, overdue)
        yield Hub(url, env, key, token, held, invoice, message, overdue)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _chromium_or_skip() -> None:
    if os.path.exists(CHROMIUM) and shutil.which("chromium"):
        return
    message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if IN_CI:
        pytest.fail(f"{message}: CI must run the console's browser tests", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped, never longer: Playwright's sync API keeps an event loop running in this thread
    while it is open, and every async fixture set up after it would fail ("Runner.run() cannot be
    called from a running event loop")."""
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


# The console lets 10 sign-ins through at once, then one every 5 s (``console_attempts``): a module
# signing in once a test can meet it, and waits as the page it answers says.
SIGN_IN_THROTTLED = "Too many sign-in attempts"
SIGN_IN_RATE_S = 5.0


def sign_in(page: Any, hub: Hub, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{hub.url}/console/")
    assert "/console/sign-in" in page.url
    for _ in range(3):
        page.fill("#email", email)
        page.fill("#password", password)
        with page.expect_navigation():
            page.click("button[type=submit]")
        if SIGN_IN_THROTTLED not in page.content():
            break
        page.wait_for_timeout(SIGN_IN_RATE_S * 1000 + 500)
    page.wait_for_url(f"{hub.url}/console/")


@pytest.fixture
def signed_in(browser: Any, hub_server: Hub) -> Iterator[Any]:
    """A page of a fresh browser context (its own cookies), signed in as the demo admin."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    sign_in(page, hub_server)
    try:
        yield page
    finally:
        context.close()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
