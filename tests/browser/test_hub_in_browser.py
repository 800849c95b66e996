"""The hub in a real browser: Debian's Chromium, driven by Playwright, against the app served
over HTTP with real synced data from the vendor sandbox.

Selectors go through the few helpers at the top (headings, link and button text, form
actions), so a redesign of the customer page means changing them, not the tests.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import ConsoleMessage, Dialog, Locator, Page, expect

from tests.browser.conftest import PHONE, Screenshot, running_jobs
from tests.conftest import owner_connection
from tests.factories import (
    CUSTOMER,
    PASSWORD,
    add_operator,
    company_ref,
    make_tenant,
    seed_synced_customer,
)
from vectis.application.errors import AuthenticationFailed, LoginThrottled
from vectis.application.services import Services
from vectis.container import Container
from vectis.domain.tenancy import Role
from vectis_sandbox.server import Sandbox

SCRIPT = "<script>window.__pwned=1</script>"
IMAGE = '<img src=x onerror="window.__pwned=2">'
ACKNOWLEDGE_URL = re.compile(r"/alerts/([0-9a-f-]+)/([^/]+)/acknowledge$")
ACKNOWLEDGE_FORM = "form[action^='/alerts/'][action$='/acknowledge']"


# --- how the hub's pages are found (update these when the markup changes) -------------------


async def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    await page.goto("/login")
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).not_to_have_url(re.compile(r"/login"))


async def open_customer_tab(page: Page, label: str) -> None:
    """Follow one of the customer page's tabs ("Overview", "Tickets", "Alerts", …)."""
    tab = page.locator("nav").get_by_role("link", name=label, exact=True)
    await tab.click()
    await expect(tab).to_have_attribute("aria-current", "page")


def overview_figure(page: Page, card: str) -> Locator:
    """The number on an overview card ("Open tickets", "Active alerts", …)."""
    heading = page.get_by_role("heading", name=card, exact=True)
    return page.locator("article").filter(has=heading).locator(".figure")


def listed_rows(page: Page) -> Locator:
    """The rows of the table the open tab lists."""
    return page.get_by_role("main").locator("table tbody tr")


def acknowledge_forms(page: Page) -> Locator:
    return page.get_by_role("main").locator(ACKNOWLEDGE_FORM)


async def acknowledge(row: Locator) -> str:
    """Acknowledge an alert row's alert, through the confirmation step if there is one;
    return the alert's vendor id."""
    form = row.locator(ACKNOWLEDGE_FORM)
    action = await form.get_attribute("action")
    match = ACKNOWLEDGE_URL.search(action or "")
    assert match, f"the Acknowledge form posts to /alerts/…/acknowledge, not {action!r}"
    submit = form.get_by_role("button", name=re.compile("acknowledge", re.I))
    if not await submit.is_visible():
        await row.get_by_text("Acknowledge", exact=True).click()  # opens the confirmation
    await submit.click()
    await expect(row.page).to_have_url(re.compile(r"/writebacks/[0-9a-f-]+"))
    return match.group(2)


def writeback_status(page: Page) -> Locator:
    return page.get_by_role("status")


def audit_rows(page: Page, action: str) -> Locator:
    return page.locator("tbody tr").filter(has=page.locator("code", has_text=action))


# --- the tests -----------------------------------------------------------------------------


async def test_an_operator_signs_in_finds_the_customer_and_sees_what_was_synced(
    services: Services, sandbox: Sandbox, page: Page, screenshot: Screenshot
) -> None:
    seeded = await seed_synced_customer(
        services, sandbox, others=("Coast Logistics Ltd", "Aldridge & Co.")
    )
    company = next(c.key for c in sandbox.world.companies if c.name == CUSTOMER)
    open_tickets = [t for t in sandbox.world.tickets if t.company == company and not t.closed]
    alerts = _active_alerts(sandbox)
    assert open_tickets and alerts, "the sandbox gives the customer tickets and alerts"
    await page.goto("/login")
    await screenshot(page, "login")

    await sign_in(page, seeded.world.owner.email)

    await expect(page).to_have_url(re.compile(r"/customers$"))
    session = next(c for c in await page.context.cookies() if c["name"] == "vectis_session")
    assert session["secure"] and session["httpOnly"], "Chromium keeps the Secure cookie"
    await expect(page.get_by_role("link", name="Coast Logistics Ltd")).to_be_visible()

    await page.get_by_role("searchbox").fill("drexel")
    await page.get_by_role("searchbox").press("Enter")

    await expect(page).to_have_url(re.compile(r"[?&]q=drexel"))
    await expect(page.get_by_role("link", name="Coast Logistics Ltd")).to_have_count(0)
    await screenshot(page, "search")
    await page.get_by_role("link", name=CUSTOMER).click()

    await expect(page).to_have_url(re.compile(rf"/customers/{seeded.customer_id}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(CUSTOMER)
    await expect(overview_figure(page, "Open tickets")).to_have_text(str(len(open_tickets)))
    await expect(overview_figure(page, "Active alerts")).to_have_text(str(len(alerts)))
    await screenshot(page, "overview")

    await open_customer_tab(page, "Tickets")

    await expect(page).to_have_url(re.compile(rf"/customers/{seeded.customer_id}/tickets"))
    await expect(listed_rows(page)).to_have_count(len(open_tickets))
    for ticket in open_tickets:
        await expect(listed_rows(page).filter(has_text=ticket.summary)).to_have_count(1)
    await screenshot(page, "tickets")

    await open_customer_tab(page, "Alerts")

    await expect(listed_rows(page)).to_have_count(len(alerts))
    for message in alerts.values():
        await expect(listed_rows(page).filter(has_text=message).first).to_be_visible()
    await screenshot(page, "alerts")

    await open_customer_tab(page, "Overview")
    await page.set_viewport_size(PHONE)
    await expect(overview_figure(page, "Open tickets")).to_be_visible()
    await screenshot(page, "overview-phone")


async def test_a_tech_acknowledges_an_alert_the_worker_writes_it_back_and_the_audit_log_shows_it(
    services: Services,
    container: Container,
    sandbox: Sandbox,
    page: Page,
    screenshot: Screenshot,
) -> None:
    seeded = await seed_synced_customer(services, sandbox)
    tech = await add_operator(services, seeded.world, "tess", Role.TECH)
    await sign_in(page, tech.email)
    await page.goto(f"/customers/{seeded.customer_id}")
    await open_customer_tab(page, "Alerts")
    row = listed_rows(page).filter(has=page.locator(ACKNOWLEDGE_FORM)).first
    await screenshot(page, "alerts")

    alert = await acknowledge(row)

    await expect(writeback_status(page)).to_have_text(re.compile("Waiting to run"))
    await expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(1)
    assert alert in sandbox.state("ninjaone").alerts, "nothing runs until a worker does"
    await screenshot(page, "pending")
    async with running_jobs(container, services):
        # The page refreshes itself until the job is done; the test never reloads it.
        await expect(writeback_status(page)).to_have_text("Done.", timeout=20_000)
    await expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
    assert alert not in sandbox.state("ninjaone").alerts, "the sandboxed RMM reset the alert"
    await screenshot(page, "done")

    await page.get_by_role("main").get_by_role("link", name="Audit log").click()

    await expect(page).to_have_url(re.compile(r"/audit$"))
    entries = audit_rows(page, "writeback.alert.reset")
    await expect(entries).to_have_count(2)
    assert sorted(await entries.locator(".outcome").all_inner_texts()) == ["requested", "succeeded"]
    await expect(entries.filter(has_text=alert)).to_have_count(2)
    await expect(entries.filter(has_text="requested")).to_contain_text(tech.email)
    await screenshot(page, "audit")


async def test_a_read_only_operator_sees_no_acknowledge_button_and_a_forged_post_is_refused(
    services: Services,
    sandbox: Sandbox,
    hub: str,
    page: Page,
    screenshot: Screenshot,
    database_url: str,
) -> None:
    seeded = await seed_synced_customer(services, sandbox)
    viewer = await add_operator(services, seeded.world, "riley", Role.READ_ONLY)
    await sign_in(page, viewer.email)
    await page.goto(f"/customers/{seeded.customer_id}")
    await open_customer_tab(page, "Alerts")

    await expect(listed_rows(page)).to_have_count(len(_active_alerts(sandbox)))
    await expect(acknowledge_forms(page)).to_have_count(0)
    await expect(
        page.get_by_role("main").get_by_text(re.compile("acknowledge", re.I))
    ).to_have_count(0)
    await screenshot(page, "alerts")

    alert = next(iter(_active_alerts(sandbox)))
    token = await page.locator('input[name="csrf_token"]').first.input_value()
    forged = await page.request.post(
        f"{hub}/alerts/{seeded.integrations['ninjaone'].id}/{alert}/acknowledge",
        form={"csrf_token": token, "back": f"/customers/{seeded.customer_id}"},
        max_redirects=0,
    )

    assert forged.status == 403
    assert "your role (read-only) does not allow this" in await forged.text(), (
        "refused for the role, not for a bad CSRF token"
    )
    assert alert in sandbox.state("ninjaone").alerts
    with owner_connection(database_url) as owner:
        counts = owner.execute(
            "SELECT (SELECT count(*) FROM writebacks),"
            " (SELECT count(*) FROM procrastinate_jobs WHERE task_name LIKE '%writeback%'),"
            " (SELECT count(*) FROM audit_log WHERE action LIKE 'writeback.%')"
        ).fetchone()
    assert counts == (0, 0, 0), "nothing queued, nothing audited"


async def test_markup_in_vendor_data_renders_as_text(
    services: Services, sandbox: Sandbox, page: Page, screenshot: Screenshot
) -> None:
    halo = sandbox.state("halopsa")
    halo.add_ticket(int(company_ref(sandbox, "halopsa")), f"Printer {SCRIPT}", details=IMAGE)
    ninja = sandbox.state("ninjaone")
    device = next(
        key
        for key, found in ninja.devices.items()
        if str(found["organizationId"]) == company_ref(sandbox, "ninjaone")
    )
    ninja.raise_alert(device, "critical", f"Disk {IMAGE}")
    seeded = await seed_synced_customer(services, sandbox, others=(f"Evil {SCRIPT} {IMAGE}",))
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: _errors_only(problems, message))
    requested: list[str] = []
    page.on("request", lambda sent: requested.append(sent.url))
    await sign_in(page, seeded.world.owner.email)

    await expect(page.get_by_role("link", name=f"Evil {SCRIPT} {IMAGE}")).to_be_visible()
    await _assert_inert(page)
    await screenshot(page, "customers")
    await page.goto(f"/customers/{seeded.customer_id}")
    await open_customer_tab(page, "Alerts")

    await expect(listed_rows(page).filter(has_text=f"Disk {IMAGE}")).to_have_count(1)
    await _assert_inert(page)
    await screenshot(page, "alerts")
    await open_customer_tab(page, "Tickets")

    ticket = listed_rows(page).filter(has_text=f"Printer {SCRIPT}")
    await expect(ticket).to_have_count(1)
    await _assert_inert(page)
    await screenshot(page, "tickets")
    await ticket.get_by_role("link", name=re.compile(r"^#")).click()

    await expect(page).to_have_url(re.compile(r"/tickets/"))
    await expect(page.get_by_text(f"Printer {SCRIPT}").first).to_be_visible()
    await expect(page.get_by_text(IMAGE).first).to_be_visible()
    await _assert_inert(page)
    await screenshot(page, "ticket")
    assert problems == [], "no script ran and nothing was blocked"
    assert not [url for url in requested if url.endswith("/x")], "the injected image never loaded"


# --- helpers ---------------------------------------------------------------------------------


def _active_alerts(sandbox: Sandbox) -> dict[str, str]:
    """The sandboxed RMM's active alerts on the customer's devices: uid → message."""
    ninja = sandbox.state("ninjaone")
    organization = company_ref(sandbox, "ninjaone")
    devices = {
        key
        for key, device in ninja.devices.items()
        if str(device["organizationId"]) == organization
    }
    return {
        uid: alert["message"] for uid, alert in ninja.alerts.items() if alert["deviceId"] in devices
    }


async def _assert_inert(page: Page) -> None:
    """Nothing the vendor sent became an element or ran."""
    assert await page.evaluate("window.__pwned") is None
    injected = await page.evaluate(
        "[...document.scripts].filter(s => s.textContent.includes('__pwned')).length"
        " + document.querySelectorAll('img[src=\"x\"], [onerror]').length"
    )
    assert injected == 0


def _errors_only(problems: list[str], message: ConsoleMessage) -> None:
    """Console errors (a CSP violation is one), but not the favicon the hub does not have."""
    if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
        problems.append(f"{message.text} ({message.location['url']})")


async def test_a_tech_filters_the_timeline_and_sees_a_new_note_in_it(
    services: Services, sandbox: Sandbox, page: Page, screenshot: Screenshot
) -> None:
    seeded = await seed_synced_customer(services, sandbox)
    tech = await add_operator(services, seeded.world, "tess", Role.TECH)
    await sign_in(page, tech.email)
    await page.goto(f"/customers/{seeded.customer_id}")
    await page.get_by_role("link", name="Notes", exact=True).focus()
    await page.keyboard.press("ArrowRight")  # the tab strip answers the arrow keys
    await expect(page.get_by_role("link", name="Timeline", exact=True)).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/timeline$"))
    entries = page.get_by_role("main").locator("ol.timeline li")
    await expect(entries.first).to_be_visible()
    sources = set(await entries.locator(".source").all_inner_texts())
    assert len(sources) >= 2, f"the timeline merges every source, saw {sources}"
    await screenshot(page, "timeline")

    filters = page.get_by_role("form", name="Filter the timeline")
    await filters.get_by_label("NinjaOne", exact=False).check()
    await filters.get_by_role("button", name="Apply").click()

    await expect(page).to_have_url(re.compile(r"source=ninjaone"))
    shown = await entries.locator(".source").all_inner_texts()
    assert shown, "NinjaOne's events are listed"
    assert all(text.startswith("NinjaOne") for text in shown), shown
    await screenshot(page, "ninjaone-only")

    # A range that ends before anything happened shows nothing, and says so.
    await filters.get_by_label("From", exact=True).fill("2020-01-01")
    await filters.get_by_label("To", exact=True).fill("2020-01-31")
    await expect(filters.get_by_label("Range")).to_be_checked()  # hub.js picks the period
    await filters.get_by_role("button", name="Apply").click()
    await expect(page).to_have_url(re.compile(r"period=range.*from=2020-01-01"))
    await expect(entries).to_have_count(0)
    await expect(page.get_by_text("Nothing happened that matches these filters")).to_be_visible()

    await open_customer_tab(page, "Notes")
    note = page.get_by_label("Note", exact=True)
    if not await note.is_visible():
        await page.get_by_text("Write a note").click()  # the form folds away once notes exist
    await note.fill("Alarm panel code changed to **9902**")
    await page.get_by_label("Markdown").check()
    await page.get_by_role("button", name="Save note").click()
    await expect(page.locator(".note-body strong")).to_have_text("9902")
    await screenshot(page, "notes")

    await open_customer_tab(page, "Timeline")
    newest = entries.first
    await expect(newest.locator(".title")).to_have_text("Note added by Tess")
    await expect(newest.locator(".detail")).to_have_text("Alarm panel code changed to **9902**")
    await newest.get_by_role("link").click()
    await expect(page).to_have_url(re.compile(r"/notes/[0-9a-f-]+$"))
    await expect(page.get_by_text("Revision 1 by Tess")).to_be_visible()
    await screenshot(page, "note")


async def test_a_reply_asks_for_confirmation_and_a_cancelled_one_sends_nothing(
    services: Services, sandbox: Sandbox, page: Page, screenshot: Screenshot, database_url: str
) -> None:
    seeded = await seed_synced_customer(services, sandbox)
    tech = await add_operator(services, seeded.world, "tess", Role.TECH)
    await sign_in(page, tech.email)
    await page.goto(f"/customers/{seeded.customer_id}/tickets")
    await listed_rows(page).first.get_by_role("link").first.click()
    await expect(page).to_have_url(re.compile(r"/tickets/[0-9a-f-]+/[^/]+$"))
    ticket_url = page.url
    await page.get_by_label("Reply or note").fill("On our way.")
    questions: list[str] = []

    async def decline(dialog: Dialog) -> None:
        questions.append(dialog.message)
        await dialog.dismiss()

    page.once("dialog", decline)
    await page.get_by_role("button", name="Add note").click()
    await expect(page).to_have_url(ticket_url)
    assert questions and questions[0].startswith("Add this note to ticket #")
    with owner_connection(database_url) as connection:
        assert connection.execute("SELECT count(*) FROM writebacks").fetchone() == (0,)

    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Add note").click()
    await expect(page).to_have_url(re.compile(r"/writebacks/[0-9a-f-]+"))
    await expect(page.get_by_role("status")).to_contain_text("Waiting to run")
    await screenshot(page, "pending")


async def test_an_owner_sees_a_tech_locked_out_of_sign_in_and_clears_the_lock(
    services: Services, hub: str, page: Page, screenshot: Screenshot
) -> None:
    world = await make_tenant(services, "Lockout IT")
    tech = await add_operator(services, world, "sam", Role.TECH)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            await services.identity.sign_in(tech.email, "not the password", address="127.0.0.1")
    with pytest.raises(LoginThrottled):
        await services.identity.sign_in(tech.email, PASSWORD, address="127.0.0.1")

    await sign_in(page, world.owner.email)
    await page.goto("/settings")
    locks = page.get_by_role("main").locator("table").filter(has_text=tech.email)
    await expect(locks).to_be_visible()
    await expect(locks.locator("tbody tr")).to_have_count(1)
    await screenshot(page, "locks")
    await page.set_viewport_size(PHONE)
    await screenshot(page, "locks-phone")

    await locks.get_by_role("button", name=re.compile("^Clear")).click()
    await expect(page.get_by_role("status")).to_have_text("Sign-in lock cleared.")
    await expect(page.get_by_role("main").get_by_text(tech.email)).to_have_count(0)
    await screenshot(page, "cleared-phone")

    signed_in = await services.identity.sign_in(tech.email, PASSWORD, address="127.0.0.1")
    assert signed_in.principal.operator_id == tech.id


async def test_a_new_ticket_form_clicked_twice_or_sent_twice_makes_one_write_back(
    services: Services, sandbox: Sandbox, page: Page, screenshot: Screenshot, database_url: str
) -> None:
    seeded = await seed_synced_customer(services, sandbox)
    await sign_in(page, seeded.world.owner.email)
    await page.goto(f"/customers/{seeded.customer_id}/tickets")
    await page.get_by_text("New ticket in", exact=False).first.click()
    form = page.locator("form[action$='/tickets/new']").first
    await form.get_by_label("Summary").fill("Badge reader at the side door")
    page.on("dialog", lambda dialog: dialog.accept())
    # Count the sends the page lets through, holding each one back so the page stays.
    await page.evaluate(
        "() => window.addEventListener('submit', (e) => {"
        " if (!e.defaultPrevented) window.sent = (window.sent || 0) + 1; e.preventDefault(); })"
    )
    button = form.get_by_role("button", name=re.compile("Create ticket"))

    await button.click()
    await button.click(force=True)  # a browser delivers an impatient click all the same

    assert await page.evaluate("() => window.sent") == 1, "the second click sends nothing"
    await expect(button).to_have_attribute("aria-disabled", "true")
    await screenshot(page, "double-click")
    # Sent twice past the page's guard (a browser resending the form): still one write-back.
    await page.reload()
    await page.get_by_text("New ticket in", exact=False).first.click()
    form = page.locator("form[action$='/tickets/new']").first
    await form.get_by_label("Summary").fill("Badge reader at the side door")
    await form.evaluate(
        "f => { f.querySelector('[name=submission_key]').value = 'fixed-key-for-this-test';"
        " f.submit(); }"
    )
    await expect(page).to_have_url(re.compile(r"/writebacks/[0-9a-f-]+"))
    await page.go_back()
    await form.evaluate(
        "f => { f.querySelector('[name=submission_key]').value = 'fixed-key-for-this-test';"
        " f.submit(); }"
    )
    await expect(page).to_have_url(re.compile(r"/writebacks/[0-9a-f-]+"))

    with owner_connection(database_url) as connection:
        summaries = connection.execute(
            "SELECT params->>'summary', count(*) FROM writebacks GROUP BY 1"
        ).fetchall()
    assert summaries == [("Badge reader at the side door", 1)], "one key, one write-back"
