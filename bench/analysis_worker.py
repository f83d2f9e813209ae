"""A throw-away Celery app whose task runs the ``embeddings`` analyzer on a list of sentences.

Worker: ``celery -A bench.analysis_worker worker``. It goes through the platform's own code
path (``analyze_chunk_sentences``) in prefork children, like a chunk task, but takes the
sentences from the message, so the timing holds no PDF reading and no database writes. Each
child loads the model when it starts, so the throughput leaves the one-off load out, as the
sentence-transformers reference does; the load time is reported on its own.
"""

from __future__ import annotations

import time
from pathlib import Path

from celery import Celery
from celery.signals import worker_process_init

from app.analysis import SentenceInput, analyze_chunk_sentences, embeddings
from bench.services import BENCH_QUEUE, BENCH_REDIS_URL

ANALYSIS_QUEUE = f"{BENCH_QUEUE}-analysis"
EMBED_TASK = "bench.embed_chunk"

celery = Celery("bench_analysis", broker=BENCH_REDIS_URL, backend=BENCH_REDIS_URL)
celery.conf.update(
    task_default_queue=ANALYSIS_QUEUE,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    result_expires=600,
)
_load_seconds: float | None = None


@worker_process_init.connect
def load_model(**_: object) -> None:
    global _load_seconds
    started = time.perf_counter()
    embeddings.encoder()
    _load_seconds = time.perf_counter() - started


def _memory_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0


@celery.task(name=EMBED_TASK)
def embed_chunk(texts: list[str], batch_size: int) -> dict:
    """Run the embeddings analyzer on one chunk's sentences; return its time and this process's memory."""
    embeddings.BATCH_SIZE = batch_size
    started = time.perf_counter()
    analysed = analyze_chunk_sentences(["embeddings"], [SentenceInput(text, 1) for text in texts])
    seconds = time.perf_counter() - started
    if analysed.failures:
        raise RuntimeError(f"The embeddings analyzer failed: {analysed.failures}")
    return {
        "seconds": seconds,
        "load_seconds": _load_seconds,
        "rss_mb": _memory_mb("VmRSS:"),
        "peak_rss_mb": _memory_mb("VmHWM:"),
    }
