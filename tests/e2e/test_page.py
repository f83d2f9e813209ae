"""The page at / in real headless Chromium, against the app under gunicorn and a real worker.

Playwright drives Debian's chromium (CHROMIUM, default /usr/bin/chromium; installed by
scripts/ensure_services.sh), never a browser of its own. Screenshots go to
test-artifacts/e2e/ under the repository.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from tests.chaos.servers import ApiServer
from tests.support import PASSWORD, REPO_ROOT, Worker

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
PATIENCE_MS = 90_000  # a loaded two-core machine runs the worker, gunicorn and chromium at once
TEXT_PDF = "sf__pdflatex-4-pages.pdf"  # 4 pages: two chunks at the suite's CHUNK_PAGES=3
TEXT_PDF_FIRST_WORDS = "Hello, here is some text without a meaning"
ENCRYPTED_PDF = "sf__libreoffice-writer-password.pdf"

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def server(app: Flask, worker: Worker) -> Iterator[ApiServer]:
    """The migrated test database served by gunicorn, with the suite's worker on its queue."""
    log_path = Path(os.environ["INSTANCE_DIR"]) / f"e2e-gunicorn-{secrets.token_hex(3)}.log"
    # The page asks for the default analyses.
    with ApiServer.started(os.environ | {"DEFAULT_ANALYSES": ""}, log_path) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"No chromium at {CHROMIUM}: run scripts/ensure_services.sh or set CHROMIUM.")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: ApiServer) -> Iterator[Page]:
    """A fresh browser context; fails the test on any uncaught script error or CSP violation."""
    context = browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(PATIENCE_MS)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    opened.on(
        "console",
        lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield opened
    context.close()
    assert not problems, problems


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def sign_up(page: Page) -> str:
    email = f"page-{secrets.token_hex(4)}@example.com"
    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#account-email")).to_have_text(email)
    expect(page.get_by_role("heading", name="Upload a PDF")).to_be_visible()
    return email


def search_is_served(app: Flask) -> bool:
    return any(rule.rule.endswith("/jobs/<job_id>/search") for rule in app.url_map.iter_rules())


def test_upload_progress_sentences_and_search(page: Page, app: Flask, shared_pdfs: Path) -> None:
    streams: list[str] = []
    page.on(
        "request", lambda request: streams.append(request.url) if "/events?ticket=" in request.url else None
    )
    sign_up(page)

    page.locator("#file-input").set_input_files(shared_pdfs / TEXT_PDF)
    expect(page.locator("#upload-message")).to_contain_text("processing has started")
    expect(page.locator("#detail-title")).to_have_text(TEXT_PDF)
    item = page.locator("#job-list li", has_text=TEXT_PDF)
    expect(item.get_by_role("progressbar")).to_be_visible()

    expect(page.locator("#detail-progress-label")).to_have_text("100 % done", timeout=PATIENCE_MS)
    expect(item.locator(".job-percent")).to_have_text("100 %")
    expect(page.locator("#detail-status")).to_have_text("Completed")
    expect(page.locator("#detail-progress")).to_have_attribute("value", "100")
    assert streams, "the page never opened the job's event stream"

    sentences = page.locator("#sentences li")
    expect(page.locator("#sentences-message")).to_contain_text("Page 1:")
    expect(sentences.first).to_contain_text(TEXT_PDF_FIRST_WORDS)
    expect(page.locator("#page-count")).to_have_text("of 4")
    expect(sentences.first.locator(".tag", has_text="Sentiment:")).to_be_visible()
    expect(page.locator("#keywords li").first).to_be_visible()
    expect(page.locator("#summary li").first).to_contain_text("(page ")
    screenshot(page, "completed-page-1")

    page.get_by_role("button", name="Next page").click()
    expect(page.locator("#page-number")).to_have_value("2")
    expect(page.locator("#sentences-message")).to_contain_text("Page 2:")
    expect(sentences.first).not_to_contain_text(TEXT_PDF_FIRST_WORDS)
    expect(page.get_by_role("button", name="Previous page")).to_be_enabled()

    page.get_by_label("Find sentences that mean").fill("text without meaning")
    page.get_by_role("button", name="Search", exact=True).click()
    if search_is_served(app):
        best = page.locator("#search-results li").first
        expect(best).to_contain_text(TEXT_PDF_FIRST_WORDS)
        expect(best).to_contain_text("similarity")
    else:
        expect(page.locator("#search-message")).to_have_text("This server does not offer search yet.")
    screenshot(page, "search")

    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#detail-title")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "wider than a phone"
    screenshot(page, "phone-width")


def test_bad_uploads_are_explained_in_words(page: Page, shared_pdfs: Path, tmp_path: Path) -> None:
    sign_up(page)
    notes = tmp_path / "notes.txt"
    notes.write_text("Plain text, not a PDF.\n")

    # Dropped, as a person would drag it onto the zone.
    page.evaluate(
        """([name, text]) => {
          const data = new DataTransfer();
          data.items.add(new File([text], name, {type: "text/plain"}));
          const zone = document.getElementById("drop-zone");
          zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
        }""",
        [notes.name, notes.read_text()],
    )
    expect(page.locator("#upload-message")).to_have_text(
        "notes.txt: This file is not a PDF. Only PDF documents can be analysed (the file's content counts, not its name)."
    )
    screenshot(page, "not-a-pdf")

    # Without event streams (a server or proxy that has none) the page polls instead.
    tickets: list[str] = []

    def no_streams(route: Route) -> None:
        tickets.append(route.request.url)
        route.fulfill(status=404, json={"error": {"code": "not_found", "message": "Not here."}})

    page.route("**/events/ticket", no_streams)
    # Chosen with the keyboard: the drop zone's file input takes focus, shows it, and opens on Space.
    page.locator("#file-input").focus()
    outline = page.locator("#drop-zone").evaluate("zone => getComputedStyle(zone).outlineStyle")
    assert outline == "solid", "the focused drop zone shows no focus outline"
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(shared_pdfs / ENCRYPTED_PDF)
    error = page.get_by_role("alert")
    expect(error).to_contain_text("protected by a password", timeout=PATIENCE_MS)
    expect(page.locator("#detail-status")).to_have_text("Failed")
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    assert tickets, "the page never asked for a stream ticket"
    screenshot(page, "encrypted-pdf")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page.locator("#job-list li", has_text=ENCRYPTED_PDF)).to_have_count(0)
    expect(page.locator("#upload-message")).to_have_text(f"{ENCRYPTED_PDF} was deleted.")
