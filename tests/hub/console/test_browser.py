"""The console in a real browser (Debian's Chromium) against a real ``hub serve``: what staff and
finance do, end to end, with an accessibility check and a screenshot of every page."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import pytest

from tests.hub.console.conftest import Hub, screenshot, sign_in

# Every page of the console, by name (the screenshot's file name) and path; {held} and {invoice}
# are the seeded held mandate and invoice.
PAGES = {
    "dashboard": "/console/",
    "decide": "/console/decide",
    "worklist": "/console/worklist",
    "mandates": "/console/mandates",
    "mandate": "/console/mandates/{held}",
    "invoices": "/console/invoices",
    "invoice": "/console/invoices/{invoice}",
    "case": "/console/cases/D-CONSOLE-1",
    "offices": "/console/offices",
    "office": "/console/offices/CJ75001",
    "messages": "/console/messages",
    "message": "/console/messages/{message}",
    "dead-letters": "/console/dead-letters",
}


def _path(hub: Hub, template: str) -> str:
    return hub.url + template.format(held=hub.held_ref, invoice=hub.invoice_id, message=hub.message_pk)


def _serious(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in {"critical", "serious"}
    ]


def test_every_page_opens_passes_axe_and_is_photographed(
    signed_in: Any, hub_server: Hub, browser: Any
) -> None:
    failures = {}
    for name, template in PAGES.items():
        answer = signed_in.goto(_path(hub_server, template))
        assert answer is not None and answer.status == 200, (name, answer and answer.status)
        assert signed_in.locator("h1").count() == 1 and signed_in.locator("p.explain").count() >= 1, name
        screenshot(signed_in, name)
        if found := _serious(signed_in):
            failures[name] = found
    # The sign-in page, without a session; and a tablet's width for the busiest page.
    context = browser.new_context(viewport={"width": 820, "height": 1180})
    try:
        page = context.new_page()
        page.goto(f"{hub_server.url}/console/sign-in")
        screenshot(page, "sign-in")
        if found := _serious(page):
            failures["sign-in"] = found
        sign_in(page, hub_server)
        page.goto(f"{hub_server.url}/console/decide")
        screenshot(page, "decide-tablet")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        context.close()
    assert failures == {}


def _inbox_bodies(hub: Hub, kind: str) -> list[str]:
    inbox = httpx.get(
        f"{hub.url}/v1/inbox", headers={"Authorization": f"Bearer {hub.office_key}"}, timeout=30
    )
    assert inbox.status_code == 200, inbox.text
    return [
        base64.b64decode(item["body_base64"]).decode()
        for item in inbox.json()["items"]
        if item["kind"] == kind
    ]


def _inbox_mandate_refs(hub: Hub) -> list[str]:
    return _inbox_bodies(hub, "mandate")


def _wait_for_inbox(hub: Hub, kind: str, *needles: str) -> str:
    """The body of the office's first ``kind`` message holding every needle, once the embedded relay
    has put it in the mailbox from the committed outbox row."""
    for _ in range(200):
        found = [b for b in _inbox_bodies(hub, kind) if all(n in b for n in needles)]
        if found:
            return found[0]
        time.sleep(0.1)
    pytest.fail(f"no {kind} with {needles} reached CJ75001's inbox")


def test_a_reminder_sent_from_the_worklist_reaches_the_office_inbox(signed_in: Any, hub_server: Hub) -> None:
    ref = hub_server.overdue_ref
    signed_in.goto(f"{hub_server.url}/console/worklist?kind=mandate_ack_overdue&office=CJ75001")
    item = signed_in.locator("article", has_text=ref)
    text = item.inner_text()
    assert "not accepted or refused in time" in text and "HUB_MANDATE_ACK_HOURS = 72" in text
    assert "(4 days)" in text and "none yet" in text  # its age; never reminded
    item.locator("textarea").fill("Merci de confirmer la prise en charge du mandat.")
    item.locator("button", has_text="Send a reminder").click()
    signed_in.wait_for_load_state()
    assert f"about {ref} sent to CJ75001" in signed_in.locator(".flash").inner_text()
    body = _wait_for_inbox(hub_server, "reminder", ref, "Merci de confirmer la prise en charge")
    assert "mandate_ack_overdue" in body
    # The item now shows the reminder, not acknowledged, and offers only to send anyway.
    item = signed_in.locator("article", has_text=ref)
    assert "not acknowledged" in item.inner_text() and "demo@agence.example" in item.inner_text()
    assert item.locator("button", has_text="Send a reminder").count() == 0
    screenshot(signed_in, "worklist-reminded")


def test_a_case_ranks_its_next_acts_by_expected_net_and_lists_its_messages(
    signed_in: Any, hub_server: Hub
) -> None:
    signed_in.goto(f"{hub_server.url}/console/cases/D-2026-0001")
    rows = signed_in.locator("table.next-acts tbody tr")
    assert rows.count() >= 2
    verdicts, nets = [], []
    for n in range(rows.count()):
        cells = rows.nth(n).locator("td")
        verdicts.append(cells.nth(2).inner_text().strip())
        nets.append(int("".join(c for c in cells.nth(5).inner_text() if c in "-0123456789")))
    assert set(verdicts) <= {"open", "review", "blocked"}
    ranked = [net for verdict, net in zip(verdicts, nets, strict=True) if verdict != "blocked"]
    assert ranked == sorted(ranked, reverse=True)  # the most efficient first
    assert verdicts == sorted(verdicts, key=lambda v: v == "blocked")  # blocked ones last
    # Every act with its verdict explained; a blocked one with why.
    assert all(rows.nth(n).locator("td").nth(6).inner_text().strip() for n in range(rows.count()))
    # The messages about the case: the mandate sent to CJ75001 (its correlation id is the mandate).
    messages = signed_in.locator("#messages ~ div table tbody").inner_text()
    assert "mandate" in messages and hub_server.overdue_ref in messages and "AGENCY → CJ75001" in messages
    screenshot(signed_in, "case-next-acts-messages")


def test_an_office_shows_its_last_inventory_differences_filtered(signed_in: Any, hub_server: Hub) -> None:
    signed_in.goto(f"{hub_server.url}/console/offices/CJ75001")
    table = signed_in.locator("#inventory ~ div table").first.inner_text()
    assert hub_server.overdue_ref in table and "open here closed there" in table
    assert "M-NOT-OURS-1" in table and "unknown here" in table
    signed_in.select_option("#f-diff-kind", "unknown_here")
    signed_in.click('form[aria-label="Filter the inventory differences"] button')
    signed_in.wait_for_load_state()
    table = signed_in.locator("#inventory ~ div table").first.inner_text()
    assert "M-NOT-OURS-1" in table and hub_server.overdue_ref not in table


def test_the_offices_list_filters_and_pages(signed_in: Any, hub_server: Hub) -> None:
    signed_in.goto(f"{hub_server.url}/console/offices?limit=1")
    first = signed_in.locator("tbody tr").inner_text()
    signed_in.click("a[rel=next]")
    signed_in.wait_for_load_state()
    second = signed_in.locator("tbody tr").inner_text()
    assert first.split()[0] < second.split()[0]  # by code, one a page
    signed_in.goto(f"{hub_server.url}/console/offices?q=69")  # a département
    codes = [row.split()[0] for row in signed_in.locator("tbody tr").all_inner_texts()]
    assert codes and all(code != "CJ75001" for code in codes)


def test_the_decide_page_filters_by_office(signed_in: Any, hub_server: Hub) -> None:
    signed_in.goto(f"{hub_server.url}/console/decide?office=CJ13001")
    assert signed_in.locator("#f-office").input_value() == "CJ13001"
    assert hub_server.held_ref not in signed_in.locator("main").inner_text()  # CJ75001's
    signed_in.goto(f"{hub_server.url}/console/worklist?office=CJ13001")
    assert "CJ75001" not in " ".join(signed_in.locator("article h2").all_inner_texts())


def test_a_second_reminder_the_same_day_is_refused_then_sent_anyway(signed_in: Any, hub_server: Hub) -> None:
    """Two staff at once: the page read before a colleague reminded the office (here, through the
    API) refuses clearly, and "Send anyway" forces it."""
    invoices = httpx.get(
        f"{hub_server.url}/v1/worklist?kind=invoice_disputed&office=CJ75001", headers=hub_server.staff()
    ).json()["items"]
    assert invoices and invoices[0]["last_reminder"] is None, invoices
    number = invoices[0]["invoice_number"]
    signed_in.goto(f"{hub_server.url}/console/worklist?kind=invoice_disputed")
    stale_form = signed_in.locator("article", has_text=number)
    colleague = httpx.post(
        f"{hub_server.url}/v1/reminders",
        headers=hub_server.staff(),
        json={"office": "CJ75001", "topic": "invoice_disputed", "invoice_number": number},
    )
    assert colleague.status_code == 201, colleague.text
    stale_form.locator("button", has_text="Send a reminder").click()
    signed_in.wait_for_load_state()
    flash = signed_in.locator(".flash.bad").inner_text()
    assert "reminded to the office today" in flash and "Send anyway" in flash
    signed_in.locator("article", has_text=number).locator("button", has_text="Send anyway").click()
    signed_in.wait_for_load_state()
    assert "(sent anyway)" in signed_in.locator(".flash").inner_text()
    bodies = [b for b in _inbox_bodies(hub_server, "reminder") if number in b]
    for _ in range(200):
        if len(bodies) >= 2:
            break
        time.sleep(0.1)
        bodies = [b for b in _inbox_bodies(hub_server, "reminder") if number in b]
    assert len(bodies) == 2  # the colleague's and the forced one


def test_approving_a_held_mandate_sends_it_to_the_office_inbox(signed_in: Any, hub_server: Hub) -> None:
    assert not any(hub_server.held_ref in body for body in _inbox_mandate_refs(hub_server))
    signed_in.goto(f"{hub_server.url}/console/decide")
    card = signed_in.locator("article", has_text=hub_server.held_ref)
    assert "cost.creditor_loses" in card.inner_text() or "cost." in card.inner_text()
    card.locator("textarea").fill("Known account: worth the garnishment")
    card.locator("button[value=approve]").click()
    signed_in.wait_for_load_state()
    assert f"Mandate {hub_server.held_ref} approved" in signed_in.locator(".flash").inner_text()
    # The embedded relay puts it in the office's mailbox from the committed outbox row.
    for _ in range(200):
        if any(hub_server.held_ref in body for body in _inbox_mandate_refs(hub_server)):
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"mandate {hub_server.held_ref} never reached CJ75001's inbox")
    detail = httpx.get(
        f"{hub_server.url}/v1/mandates/{hub_server.held_ref}", headers=hub_server.staff()
    ).json()
    assert detail["status"] == "issued" and detail["approval_id"]


def test_disputing_an_invoice_line_records_it_and_tells_the_office(signed_in: Any, hub_server: Hub) -> None:
    signed_in.goto(f"{hub_server.url}/console/invoices/{hub_server.invoice_id}")
    signed_in.fill("#dispute-2", "no act A/2 was reported on this mandate")
    signed_in.click("text=Dispute line 2")
    signed_in.wait_for_load_state()
    assert "disputed" in signed_in.locator(".flash").inner_text()
    assert "line 2: no act A/2 was reported" in signed_in.locator("main").inner_text()
    assert signed_in.locator("text=Dispute line 1").count() == 0  # the dispute is sent once
    detail = httpx.get(
        f"{hub_server.url}/v1/invoices/{hub_server.invoice_id}", headers=hub_server.staff()
    ).json()
    assert detail["state"] == "disputed"
    assert any("line 2: no act A/2" in (e["reason"] or "") for e in detail["events"])


def test_importing_a_csv_reports_the_bad_line_and_keeps_the_good_one(
    signed_in: Any, hub_server: Hub, tmp_path: Any
) -> None:
    csv = tmp_path / "mandates.csv"
    csv.write_text(
        "case_ref,office_code,kind,acts[]\n"
        "D-2026-0001,CJ75001,per_act,SERVE_TITLE\n"
        "D-NO-SUCH-CASE,CJ75001,per_act,SERVE_TITLE\n",
        encoding="utf-8",
    )
    signed_in.goto(f"{hub_server.url}/console/mandates")
    signed_in.set_input_files("#csv-file", str(csv))
    signed_in.click('form[action="/console/mandates/import"] button')
    signed_in.wait_for_load_state()
    report = signed_in.locator("section", has_text="Import report").inner_text()
    assert "1 mandate(s) created" in report and "1 line(s) refused" in report
    row = signed_in.locator("table.errors tbody tr").first.inner_text()
    assert row.startswith("3") and "D-NO-SUCH-CASE" in row
    screenshot(signed_in, "mandates-import-report")


def test_a_large_import_shows_its_progress_chunk_by_chunk_then_exactly_the_bad_lines(
    signed_in: Any, hub_server: Hub, tmp_path: Any
) -> None:
    """250 rows, two of them bad: a line per chunk of 100 (each committed), then the two lines'
    errors with their line numbers; the 248 good rows are mandates, issued or held."""
    good = "D-2026-0001,CJ75001,per_act,SERVE_TITLE"
    bad = {77: "D-NO-SUCH-CASE,CJ75001,per_act,SERVE_TITLE", 203: "D-2026-0001,CJ75001,per_act,NOT_AN_ACT"}
    lines = ["ref,case_ref,office_code,kind,acts[]"]
    lines += [f"M-BULK-{n:04d},{bad.get(n, good)}" for n in range(1, 251)]
    csv = tmp_path / "bulk.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    signed_in.goto(f"{hub_server.url}/console/mandates")
    signed_in.set_input_files("#csv-file", str(csv))
    signed_in.click('form[action="/console/mandates/import"] button')
    signed_in.wait_for_selector("text=Import report")
    parts = signed_in.locator("ol.progress-log li").all_inner_texts()
    assert [p.split(":")[0] for p in parts] == [
        "rows 1-100 of 250",
        "rows 101-200 of 250",
        "rows 201-250 of 250",
    ]
    assert parts[0].startswith("rows 1-100 of 250: 99 issued or held, 1 refused")
    assert parts[2].startswith("rows 201-250 of 250: 49 issued or held, 1 refused")
    bar = signed_in.locator("ol.progress-log li:last-child progress")
    assert bar.get_attribute("value") == "250" and bar.get_attribute("max") == "250"
    report = signed_in.locator("section", has_text="Import report").inner_text()
    assert "248 mandate(s) created" in report and "2 line(s) refused" in report
    rows = signed_in.locator("table.errors tbody tr").all_inner_texts()
    assert len(rows) == 2, rows
    assert rows[0].startswith("78") and "case_ref" in rows[0]  # row 77 is on line 78
    assert rows[1].startswith("204") and "acts" in rows[1]
    screenshot(signed_in, "mandates-import-progress")
    assert _serious(signed_in) == []
    # The good rows are mandates, issued or held; the bad ones are not.
    with httpx.Client(base_url=hub_server.url, headers=hub_server.staff(), timeout=30) as api:
        for n in range(1, 251):
            answer = api.get(f"/v1/mandates/M-BULK-{n:04d}")
            if n in bad:
                assert answer.status_code == 404, n
            else:
                assert answer.status_code == 200 and answer.json()["status"] in {"issued", "held"}, n


def test_the_streamed_import_page_carries_the_security_headers(signed_in: Any, hub_server: Hub) -> None:
    signed_in.goto(f"{hub_server.url}/console/mandates")
    token = signed_in.locator('form[action="/console/mandates/import"] input[name=csrf_token]').input_value()
    cookie = next(c for c in signed_in.context.cookies() if c["name"] == "hub_console")
    body = "ref,case_ref,office_code,kind,acts[]\nM-STREAM-1,D-NO-SUCH-CASE,CJ75001,per_act,SERVE_TITLE\n"
    with httpx.Client(base_url=hub_server.url, cookies={"hub_console": cookie["value"]}, timeout=30) as web:
        answer = web.post(
            "/console/mandates/import",
            data={"csrf_token": token},
            files={"file": ("one.csv", body.encode(), "text/csv")},
        )
    assert answer.status_code == 200 and "content-length" not in answer.headers
    assert answer.headers["transfer-encoding"] == "chunked"  # sent as it goes
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert (
        answer.headers["x-frame-options"] == "DENY" and answer.headers["x-content-type-options"] == "nosniff"
    )
    assert "rows 1-1 of 1: 0 issued or held, 1 refused" in answer.text and "</html>" in answer.text


def test_signing_out_ends_the_session(browser: Any, hub_server: Hub) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in(page, hub_server)
        cookie = next(c for c in context.cookies() if c["name"] == "hub_console")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        page.click("text=Sign out")
        page.wait_for_url("**/console/sign-in")
        page.goto(f"{hub_server.url}/console/decide")
        assert "/console/sign-in?next=/console/decide" in page.url
        # The old cookie, replayed, opens nothing: the session row is gone.
        replayed = httpx.get(
            f"{hub_server.url}/console/", cookies={"hub_console": cookie["value"]}, follow_redirects=False
        )
        assert replayed.status_code == 303 and "/console/sign-in" in replayed.headers["location"]
    finally:
        context.close()


def test_a_page_without_a_session_redirects_to_sign_in(browser: Any, hub_server: Hub) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{hub_server.url}/console/invoices")
        assert page.url == f"{hub_server.url}/console/sign-in?next=/console/invoices"
        assert page.locator("#password").count() == 1
    finally:
        context.close()


def test_a_post_without_the_csrf_token_is_refused(signed_in: Any, hub_server: Hub) -> None:
    answer = signed_in.request.post(
        f"{hub_server.url}/console/mandates", form={"case_ref": "D-2026-0001", "kind": "per_act"}
    )
    assert answer.status == 403 and "security token (CSRF)" in answer.text()
    forged = signed_in.request.post(
        f"{hub_server.url}/console/sign-out", form={"csrf_token": "not-the-session-token"}
    )
    assert forged.status == 403
    signed_in.goto(f"{hub_server.url}/console/")  # still signed in: nothing was done
    assert signed_in.url == f"{hub_server.url}/console/"


def test_an_office_key_opens_no_console_page(hub_server: Hub) -> None:
    office = {"Authorization": f"Bearer {hub_server.office_key}"}
    with httpx.Client(base_url=hub_server.url, headers=office, follow_redirects=False, timeout=30) as client:
        for template in PAGES.values():
            answer = client.get(_path(hub_server, template))
            assert answer.status_code == 303, template
            assert answer.headers["location"].startswith("/console/sign-in"), template
        posted = client.post(f"/console/mandates/{hub_server.held_ref}/decide", data={"decision": "approve"})
        assert posted.status_code == 303 and posted.headers["location"].startswith("/console/sign-in")
