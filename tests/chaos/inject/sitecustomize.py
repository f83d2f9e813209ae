"""Fault injection for the chaos tests: a PDF titled SEGV_ON_SPLIT kills the process that splits it.

Python imports this module at start-up only when a test puts this folder first on a
worker's PYTHONPATH; the code under test is not changed, and no setting of the
platform is. It stands for a worker process that dies while a PDF is split (the
kernel's OOM killer, a crash outside the PDF sandbox): the process, not the sandbox's
helper, dies. The helper starts with `python -I` and never runs this file.
"""

import os
import signal

from docjobs_faults import SEGV_ON_SPLIT

import app.jobs.open_documents

_load_document = app.jobs.open_documents.load_document


def load_document(job_id):  # noqa: ANN001, ANN201 - same signature as the real one
    data = _load_document(job_id)
    if SEGV_ON_SPLIT.encode() in data:  # fpdf writes the title as it is
        os.kill(os.getpid(), signal.SIGSEGV)
    return data


app.jobs.open_documents.load_document = load_document  # where document_for looks it up
