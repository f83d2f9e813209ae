"""The PDF sandbox: pdfium in a helper process that a memory cap and an exception can stop."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import closing

import pytest

from app.pdf import ResourceLimit, TooMuchText
from app.pdf.sandbox import PdfSandbox, resident_mb
from config import Config
from tests.chaos.processes import is_alive
from tests.hostile import pdfs

DEFAULT_LIMIT_MB = Config().WORKER_MEMORY_LIMIT_MB


class Interrupted(Exception):
    """Stands for Celery's SoftTimeLimitExceeded, raised the same way: from a signal handler."""


@pytest.fixture
def sandbox() -> Iterator[PdfSandbox]:
    running = PdfSandbox(DEFAULT_LIMIT_MB)
    yield running
    running.stop()


def texts(sandbox: PdfSandbox, first: int, last: int, max_chars: int = 100_000) -> list[str]:
    return [text for _, text in sandbox.page_texts(first, last, max_chars)]


def test_the_helper_holds_neither_the_app_nor_its_models(sandbox):
    sandbox.open_document("normal", pdfs.normal_page())
    assert sandbox.page_count(10) == 1
    assert resident_mb(sandbox.pid) < 60  # importing the app alone takes 160 MB


def test_a_pdf_over_the_memory_limit_raises_resource_limit_and_the_next_document_reads(sandbox):
    small = PdfSandbox(256)
    try:
        small.open_document("bomb", pdfs.nested_forms())
        with pytest.raises(ResourceLimit, match="more than the 256 MB"):
            texts(small, 1, 1)
        assert small.document_key is None

        small.open_document("normal", pdfs.normal_page())
        assert "number 39." in texts(small, 1, 1)[0]
    finally:
        small.stop()


def test_a_300_dpi_render_of_a_normal_page_passes_under_the_default_limit(sandbox, shared_pdfs):
    sandbox.open_document("paper", (shared_pdfs / "pdfjs__tracemonkey.pdf").read_bytes())

    page = sandbox.render_page(1, dpi=300)

    assert page.width == 2550 and abs(page.height - 3300) <= 1  # US Letter at 300 dpi
    assert len(page.pixels) == page.stride * page.height
    assert min(page.pixels) < 128 < max(page.pixels)  # ink on paper


def test_a_render_too_large_for_the_limit_raises_resource_limit(sandbox):
    huge = pdfs.single_page(b"", b"<< >>").replace(pdfs.A4, b"[0 0 14400 14400]")
    sandbox.open_document("huge", huge)

    with pytest.raises(ResourceLimit, match="60000 x 60000 pixels"):
        sandbox.render_page(1, dpi=300)


def test_a_page_over_the_character_limit_raises_too_much_text_and_the_helper_serves_on(sandbox):
    sandbox.open_document("dense", pdfs.dense_page(150_000))
    helper = sandbox.pid

    with pytest.raises(TooMuchText, match="limit is 100,000 per page"):
        texts(sandbox, 1, 1)
    assert len(texts(sandbox, 1, 1, max_chars=200_000)[0]) > 150_000
    assert sandbox.pid == helper


def test_an_exception_raised_while_pdfium_is_busy_kills_the_helper_at_once(sandbox):
    def interrupt(*_: object) -> None:
        raise Interrupted

    sandbox.open_document("slow", pdfs.slow_page())
    helper = sandbox.pid
    previous = signal.signal(signal.SIGALRM, interrupt)
    started = time.monotonic()
    try:
        signal.alarm(1)
        with pytest.raises(Interrupted):
            texts(sandbox, 1, 1)  # over a minute inside one pdfium call
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

    assert time.monotonic() - started < 3
    assert not is_alive(helper)
    assert sandbox.document_key is None


def test_a_helper_that_died_while_idle_is_replaced_with_its_document(sandbox):
    sandbox.open_document("references", pdfs.page_references(50, 3))
    os.kill(sandbox.pid, signal.SIGKILL)
    time.sleep(0.1)

    assert sandbox.page_count(100) == 50
    assert sandbox.document_key == "references"


def test_leaving_a_page_range_early_stops_the_helper_and_the_next_call_starts_afresh(sandbox):
    many_pages = pdfs.page_references(50, 200)  # 14,000 characters a page: several messages
    sandbox.open_document("references", many_pages)
    helper = sandbox.pid

    with closing(sandbox.page_texts(1, 50, 100_000)) as pages:
        next(pages)
    assert not is_alive(helper)

    sandbox.open_document("references", many_pages)
    assert len(texts(sandbox, 1, 50)) == 50
