"""Run pdfium in a helper process of its own: under a memory cap, and stoppable at any moment.

pdfium is C. A hostile PDF can keep one call busy for minutes, where Celery's soft time
limit (a Python exception) cannot reach it, or make it allocate gigabytes (nested Form
XObjects, a content stream that inflates a thousandfold). So workers read PDFs only
through a PdfSandbox: one long-lived helper per worker process, a fresh interpreter
that imports pypdfium2 and nothing of the app's (no Flask, no models: about 25 MB),
with its address space capped (RLIMIT_AS) at the memory limit.

* When the helper dies (pdfium aborts when an allocation fails) or answers MemoryError,
  the call raises ResourceLimit; the worker process lives on and the next call starts
  a new helper.
* The worker waits for each answer in Python, so the soft time limit's exception
  interrupts the wait; the helper, perhaps still inside pdfium, is killed on the way out.
* Messages are JSON and raw bytes, never pickles: the helper reads hostile input, and
  the worker must not run what it sends back.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from app.pdf.errors import PdfError, ResourceLimit
from app.pdf.reader import RenderedPage, count_pages, extract_page_texts, open_pdf, render_page

# The helper answers an error by its code; the worker raises the same class again.
ERRORS: dict[str, type[PdfError]] = {error.code: error for error in (PdfError, *PdfError.__subclasses__())}
APP_DIR = Path(__file__).resolve().parents[1]
# The helper's program: `app` becomes a bare package, so that app.pdf loads without the
# app's factory (app/__init__.py imports Flask, SQLAlchemy and the analyzers: 140 MB more
# and a second). -I: no PYTHONPATH, sitecustomize or user site.
BOOTSTRAP = (
    "import sys, types; app = types.ModuleType('app'); app.__path__ = [sys.argv[1]]; "
    "sys.modules['app'] = app; from app.pdf.sandbox import serve; serve(*map(int, sys.argv[2:]))"
)
# Memory left over from earlier documents (heap fragmentation) must not count against the
# next one: past this share of the limit, the helper is replaced before a new document.
RECYCLE_SHARE = 0.25
# Page texts go to the worker in messages of about this many characters: a message a page
# cost 30 % more CPU than extracting in process, in wake-ups of the other process.
TEXT_BATCH_CHARS = 32 * 1024
PR_SET_PDEATHSIG = 1
# glibc's malloc: a fresh process hands freed memory back at once and maps large blocks
# anew, so pdfium's first document cost 350,000 page faults (40 % more CPU than the same
# work in a worker that had run before). Keep it, as a long-running process ends up doing.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
KEEP_FREED_BYTES = 64 * 1024 * 1024
MAP_ABOVE_BYTES = 32 * 1024 * 1024  # glibc's largest mmap threshold on 64-bit


class PdfSandbox:
    """A worker process's helper for PDF work: started on first use, replaced after it dies.

    It holds one document at a time. Calls from several threads take turns.
    """

    def __init__(self, memory_limit_mb: int) -> None:
        self.memory_limit_mb = memory_limit_mb
        self.document_key: str | None = None
        self._document: bytes | bytearray | None = None
        self._process: subprocess.Popen | None = None
        self._requests: Connection | None = None
        self._replies: Connection | None = None
        self._lock = threading.RLock()

    @property
    def pid(self) -> int | None:
        """The helper's process id, while it runs."""
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the helper now, if it is not running, so the first document does not wait for it."""
        with self._lock:
            self._ensure_running()

    def open_document(self, key: str, data: bytes | bytearray) -> None:
        """Hand the helper a PDF, closing the one before; later calls read it."""
        with self._lock:
            if (
                self._process is not None
                and resident_mb(self._process.pid) > self.memory_limit_mb * RECYCLE_SHARE
            ):
                self.stop()
            self.document_key, self._document = None, None
            self._ensure_running()
            self._call({"op": "open"}, data)
            self.document_key, self._document = key, data

    def page_count(self, max_pages: int) -> int:
        """The open document's page count; NoPages or TooManyPages as app.pdf.count_pages."""
        return self._call({"op": "count", "max_pages": max_pages})["pages"]

    def page_texts(self, first: int, last: int, max_chars: int) -> Iterator[tuple[int, str]]:
        """Yield (page number, text) for the 1-based inclusive range; TooMuchText for a page over ``max_chars``.

        The helper streams the pages in batches, extracting the next while the caller
        works on one. Close the iterator (``contextlib.closing``) when leaving it early:
        the helper, still writing pages, is then killed.
        """
        with self._lock:
            self._send({"op": "texts", "first": first, "last": last, "max_chars": max_chars})
            unread = last - first + 1
            try:
                while unread:
                    batch = self._receive()["pages"]
                    unread -= len(batch)
                    yield from ((number, text) for number, text in batch)
            except PdfError:
                unread = 0  # the helper ended the stream with this error and waits again
                raise
            finally:
                if unread:
                    self._discard()

    def render_page(self, number: int, dpi: float) -> RenderedPage:
        """One 1-based page in grayscale at ``dpi``; ResourceLimit when it does not fit the memory limit."""
        found = self._call({"op": "render", "page": number, "dpi": dpi}, read_pixels=True)
        return RenderedPage(found["width"], found["height"], found["stride"], found["pixels"])

    def stop(self) -> None:
        """Kill the helper (at once, even inside pdfium) and forget its document."""
        with self._lock:
            self._discard()

    def _call(
        self, request: dict[str, Any], payload: bytes | bytearray | None = None, read_pixels: bool = False
    ) -> dict[str, Any]:
        with self._lock:
            self._send(request, payload)
            return self._receive(read_pixels)

    def _send(self, request: dict[str, Any], payload: bytes | bytearray | None = None) -> None:
        self._ensure_running()
        assert self._requests is not None
        with self._helper_trouble():
            self._requests.send_bytes(json.dumps(request).encode())
            if payload is not None:
                self._requests.send_bytes(payload)

    def _receive(self, read_pixels: bool = False) -> dict[str, Any]:
        """Read one answer; an error answer raises its PdfError."""
        assert self._replies is not None
        with self._helper_trouble():
            reply = json.loads(self._replies.recv_bytes().decode("utf-8", "surrogatepass"))
            if read_pixels and "ok" in reply:
                reply["ok"]["pixels"] = self._replies.recv_bytes()
        if "ok" in reply:
            return reply["ok"]
        code, message = reply["error"]["code"], reply["error"]["message"]
        if code == ResourceLimit.code:
            self._discard()  # it exits after a MemoryError; do not race it
        raise ERRORS.get(code, PdfError)(message)

    @contextlib.contextmanager
    def _helper_trouble(self) -> Iterator[None]:
        """Turn the helper's death into ResourceLimit; kill it when the caller is interrupted."""
        try:
            yield
        except (EOFError, OSError) as error:
            raise ResourceLimit(self._death_message(self._discard())) from error
        except BaseException:
            self._discard()  # interrupted mid-call (the soft time limit): pdfium may still be busy
            raise

    def _ensure_running(self) -> None:
        """Start a helper if there is none or it died while idle; give a new one the open document."""
        if self._process is not None and self._process.poll() is None:
            return
        document = (self.document_key, self._document)
        self._discard()
        requests_read, requests_write = os.pipe()
        replies_read, replies_write = os.pipe()
        try:
            # The helper dies with the thread that starts it (PR_SET_PDEATHSIG): a pool
            # process's main thread, which runs its tasks; a helper that a shorter-lived
            # thread started is simply started again by the next call.
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-c", BOOTSTRAP, str(APP_DIR), str(os.getpid())]
                + [str(requests_read), str(replies_write), str(self.memory_limit_mb)],
                stdin=subprocess.DEVNULL,
                pass_fds=(requests_read, replies_write),
            )
        finally:
            os.close(requests_read)
            os.close(replies_write)
        self._requests = Connection(requests_write, readable=False)
        self._replies = Connection(replies_read, writable=False)
        if document[0] is not None and document[1] is not None:
            self.open_document(*document)

    def _discard(self) -> int | None:
        """Kill the helper if it runs, close the pipes; return how it ended."""
        process, self._process = self._process, None
        self.document_key, self._document = None, None
        for connection in (self._requests, self._replies):
            if connection is not None:
                connection.close()
        self._requests = self._replies = None
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        return process.wait()

    def _death_message(self, returncode: int | None) -> str:
        how = f" (signal {-returncode})" if returncode is not None and returncode < 0 else ""
        return (
            f"Reading the PDF needed more than the {self.memory_limit_mb} MB of memory allowed for"
            f" reading one, or crashed the PDF reader{how}. Simplify or split the PDF and upload it again."
        )


def resident_mb(pid: int) -> float:
    """A process's resident memory in MB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# The helper's side: everything below runs in the helper process.


def serve(worker_pid: int, requests_fd: int, replies_fd: int, memory_limit_mb: int) -> None:
    """Answer the worker's requests about one open document until it hangs up."""
    confine(worker_pid, memory_limit_mb)
    requests = Connection(requests_fd, writable=False)
    replies = Connection(replies_fd, readable=False)
    document = OpenDocument()
    while True:
        try:
            request = json.loads(requests.recv_bytes())
            payload = requests.recv_bytes() if request["op"] == "open" else None
        except EOFError:
            return  # the worker process ended or closed the sandbox
        error: PdfError | None = None
        try:
            for reply, pixels in document.answers(request, payload):
                send(replies, {"ok": reply}, pixels)
        except PdfError as raised:
            error = raised
        except MemoryError:
            error = ResourceLimit(
                f"Reading the PDF needed more than the {memory_limit_mb} MB of memory allowed for reading one."
            )
        except Exception:  # noqa: BLE001 - reported to the worker, which fails the job
            traceback.print_exc()
            error = PdfError("The PDF could not be read.")
        if error is not None:
            send(replies, {"error": {"code": error.code, "message": str(error)}})
        if isinstance(error, ResourceLimit):
            return  # start afresh rather than trust a heap that ran out


def send(replies: Connection, reply: dict[str, Any], pixels: bytes | None = None) -> None:
    replies.send_bytes(json.dumps(reply, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if pixels is not None:
        replies.send_bytes(pixels)


class OpenDocument:
    """The helper's one open PDF, and its answers about it."""

    def __init__(self) -> None:
        self.document: Any = None

    def answers(
        self, request: dict[str, Any], payload: bytes | None
    ) -> Iterator[tuple[dict[str, Any], bytes | None]]:
        """Answer one request: JSON-able replies (several for a page range) and, for a render, the pixels."""
        op = request["op"]
        if op == "open":
            if self.document is not None:
                self.document.close()
                self.document = None
            self.document = open_pdf(payload or b"")
            yield {}, None
            return
        if self.document is None:
            raise PdfError("No PDF is open in the sandbox.")
        if op == "count":
            yield {"pages": count_pages(self.document, request["max_pages"])}, None
        elif op == "texts":
            yield from self.text_batches(request["first"], request["last"], request["max_chars"])
        elif op == "render":
            limit = resource.getrlimit(resource.RLIMIT_AS)[0]
            budget = None if limit == resource.RLIM_INFINITY else limit // 2  # pixels, one byte each
            page = render_page(self.document, request["page"], request["dpi"], max_bytes=budget)
            yield {"width": page.width, "height": page.height, "stride": page.stride}, page.pixels
        else:
            raise PdfError(f"Unknown sandbox request {op!r}.")

    def text_batches(self, first: int, last: int, max_chars: int) -> Iterator[tuple[dict[str, Any], None]]:
        """The range's page texts, about TEXT_BATCH_CHARS a message; what was read goes out before an error."""
        batch: list[tuple[int, str]] = []
        chars = 0
        try:
            for number, text in extract_page_texts(self.document, first, last, max_chars):
                batch.append((number, text))
                chars += len(text)
                if chars >= TEXT_BATCH_CHARS:
                    yield {"pages": batch}, None
                    batch, chars = [], 0
        except PdfError:
            if batch:
                yield {"pages": batch}, None
            raise
        if batch:
            yield {"pages": batch}, None


def confine(worker_pid: int, memory_limit_mb: int) -> None:
    """Cap the helper's memory, leave no core dumps, ignore Ctrl-C and die with the worker process."""
    limit = memory_limit_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an aborting pdfium must not write a GB-sized core
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the worker decides
    libc = ctypes.CDLL(None, use_errno=True)
    # Not on Linux, the closed pipe still ends the helper, once pdfium returns.
    with contextlib.suppress(AttributeError):
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    with contextlib.suppress(AttributeError):  # not glibc: its own malloc policy
        libc.mallopt(M_TRIM_THRESHOLD, KEEP_FREED_BYTES)
        libc.mallopt(M_MMAP_THRESHOLD, MAP_ABOVE_BYTES)
    if os.getppid() != worker_pid:
        os._exit(0)  # the worker process died before the line above took effect
