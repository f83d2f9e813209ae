"""Fault injection for the chaos tests: a PDF titled SEGV_ON_SPLIT kills the process that splits it.

Python imports this module at start-up only when a test puts this folder first on a
worker's PYTHONPATH; the code under test is not changed, and no setting of the
platform is. It stands for a PDF that crashes pdfium while its pages are counted.
"""

import os
import signal

from docjobs_faults import SEGV_ON_SPLIT

import app.jobs.processing

_count_pages = app.jobs.processing.count_pages


def count_pages(document, max_pages):  # noqa: ANN001, ANN201 - same signature as the real one
    if document.get_metadata_value("Title") == SEGV_ON_SPLIT:
        os.kill(os.getpid(), signal.SIGSEGV)
    return _count_pages(document, max_pages)


app.jobs.processing.count_pages = count_pages  # where the split looks it up
