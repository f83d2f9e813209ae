"""Time the PDF pipeline raw, in one process, and end to end on the platform.

Run from the repository root: ``.venv/bin/python -m bench.pipeline``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import ExitStack
from datetime import datetime

from app.analysis import split_sentences
from app.analysis.stats import sentence_stats
from app.pdf import chunk_page_ranges, extract_page_texts, open_pdf
from bench import procstats, services
from bench.api_client import ApiClient
from bench.report import print_report
from bench.textpdf import RESULTS_DIR, make_text_pdf
from config import Config

SMALL_DOCUMENT_PAGES = 10  # the memory baseline


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[300, 3000], help="document sizes")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker process counts")
    parser.add_argument("--poll-ms", type=int, default=50, help="how often the client polls the job")
    parser.add_argument("--raw-repeat", type=int, default=3, help="raw runs per size; the median counts")
    parser.add_argument("--repeat", type=int, default=3, help="platform runs per setting; the median counts")
    return parser.parse_args(argv)


def measure_raw(data: bytes, pages: int) -> dict:
    """Extract, split and analyse every page in this process, timing each stage."""
    extract = split = analyze = 0.0
    sentences = 0
    started = time.perf_counter()
    document = open_pdf(data)
    extract += time.perf_counter() - started
    pages_iter = extract_page_texts(document, 1, pages)
    while True:
        started = time.perf_counter()
        item = next(pages_iter, None)
        extracted = time.perf_counter()
        extract += extracted - started
        if item is None:
            break
        spans = split_sentences(item[1])
        split_done = time.perf_counter()
        for span in spans:
            sentence_stats(span.text)
        split += split_done - extracted
        analyze += time.perf_counter() - split_done
        sentences += len(spans)
    document.close()
    return {"extract_s": extract, "split_s": split, "analyze_s": analyze, "sentences": sentences}


def measure_raw_chunked(data: bytes, pages: int, chunk_pages: int) -> float:
    """Seconds to do the full raw work opening the PDF once per chunk, as each task does."""
    started = time.perf_counter()
    for first, last in chunk_page_ranges(pages, chunk_pages):
        document = open_pdf(data)
        for _, text in extract_page_texts(document, first, last):
            for span in split_sentences(text):
                sentence_stats(span.text)
        document.close()
    return time.perf_counter() - started


def raw_baseline(data: bytes, pages: int, repeat: int, chunk_pages: int) -> dict:
    """The median of `repeat` raw runs, in pages per second."""
    runs = [measure_raw(data, pages) for _ in range(repeat)]
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    chunked = statistics.median(measure_raw_chunked(data, pages, chunk_pages) for _ in range(repeat))
    no_analysis = median["extract_s"] + median["split_s"]
    full = no_analysis + median["analyze_s"]
    return median | {
        "pages_per_s_no_analysis": pages / no_analysis,
        "pages_per_s": pages / full,
        "chunked_s": chunked,
        "pages_per_s_chunked": pages / chunked,
    }


def _seconds_between(job: dict, start: str, end: str) -> float | None:
    if not job.get(start) or not job.get(end):
        return None
    return (datetime.fromisoformat(job[end]) - datetime.fromisoformat(job[start])).total_seconds()


def run_platform_job(
    env: dict[str, str], gunicorn: services.Service, base_url: str, data: bytes, pages: int,
    concurrency: int, args: argparse.Namespace,
) -> dict:  # fmt: skip
    """Process one upload on a fresh worker; return its timing, CPU use and peak memory."""
    log_path = RESULTS_DIR / "logs" / f"worker-{pages}p-c{concurrency}.log"
    worker = services.start_worker(env, concurrency, log_path)
    try:
        client = ApiClient(base_url)
        client.sign_up()
        busy_before = procstats.machine_busy_seconds()
        before = procstats.cpu_snapshot()
        timing = client.run_job(data, f"bench-{pages}.pdf", args.poll_ms / 1000, 120 + 2 * pages)
        used = procstats.cpu_used(before, procstats.cpu_snapshot())
        machine = procstats.machine_busy_seconds() - busy_before
        pool = procstats.child_pids(worker.pid)
        sandboxes = procstats.sandbox_pids(pool)
        roles = {
            "worker_pool": {*pool, *sandboxes},  # pdfium runs in the sandboxes, the rest in the pool
            "worker_main": {worker.pid},
            "gunicorn": {gunicorn.pid, *procstats.child_pids(gunicorn.pid)},
            "bench_client": {os.getpid()},
        }
        cpu = procstats.cpu_by_role(used, roles, services.BENCH_DATABASE, machine)
        memory = {
            "main_mb": procstats.peak_rss_mb(worker.pid),
            "pool_mb": [procstats.peak_rss_mb(pid) for pid in pool],
            "sandbox_mb": [procstats.peak_rss_mb(pid) for pid in sandboxes],
        }
    finally:
        worker.stop()
    job = timing.job
    return {
        "pages": pages,
        "workers": concurrency,
        "seconds": timing.total_seconds,
        "pages_per_s": pages / timing.total_seconds,
        "upload_s": timing.upload_seconds,
        "first_processing_s": timing.first_processing_seconds,
        "queue_wait_s": _seconds_between(job, "created_at", "started_at"),
        "server_processing_s": _seconds_between(job, "started_at", "finished_at"),
        "polls": timing.polls,
        "total_chunks": job["total_chunks"],
        "sentence_count": job.get("sentence_count"),
        "tasks": services.task_seconds(worker.log()),
        "cpu_s": cpu,
        "memory": memory,
    }


def ratios(size: dict, low: int, high: int) -> dict:
    """Throughput ratios between the most workers, the fewest and the raw baseline."""
    raw = size["raw"]["pages_per_s"]
    platform = size["platform"]
    return {
        f"{high}w/raw": platform[high]["pages_per_s"] / raw,
        f"{high}w/{low}w": platform[high]["pages_per_s"] / platform[low]["pages_per_s"],
        f"{low}w/raw": platform[low]["pages_per_s"] / raw,
    }


def run(args: argparse.Namespace, stack: ExitStack) -> dict:
    chunk_pages = Config().CHUNK_PAGES
    low, high = min(args.workers), max(args.workers)
    documents = {pages: make_text_pdf(pages) for pages in sorted({*args.pages, SMALL_DOCUMENT_PAGES})}
    results: dict = {"sizes": {}}
    for pages in sorted(args.pages):
        print(f"raw baseline, {pages} pages ...", flush=True)
        raw = raw_baseline(documents[pages], pages, args.raw_repeat, chunk_pages)
        results["sizes"][pages] = {"raw": raw, "platform": {}}

    env = services.platform_env(RESULTS_DIR / "instance") | services.SEED_ANALYSIS
    print("preparing the bench database and Redis ...", flush=True)
    stack.callback(services.drop_database)
    services.prepare_backends(env)
    port = services.free_port()
    gunicorn = services.start_gunicorn(env, port, RESULTS_DIR / "logs")
    stack.callback(gunicorn.stop)
    base_url = f"http://127.0.0.1:{port}"

    for pages in sorted(args.pages):
        size = results["sizes"][pages]
        for concurrency in sorted(set(args.workers)):
            print(f"platform, {pages} pages, {concurrency} worker process(es) ...", flush=True)
            runs = [
                run_platform_job(env, gunicorn, base_url, documents[pages], pages, concurrency, args)
                for _ in range(args.repeat)
            ]
            runs.sort(key=lambda run: run["pages_per_s"])
            size["platform"][concurrency] = runs[len(runs) // 2] | {
                "pages_per_s_runs": [round(run["pages_per_s"], 1) for run in runs]
            }
        size["ratios"] = ratios(size, low, high)

    print(f"platform, {SMALL_DOCUMENT_PAGES} pages, {high} worker process(es), for memory ...", flush=True)
    small = run_platform_job(env, gunicorn, base_url, documents[SMALL_DOCUMENT_PAGES], SMALL_DOCUMENT_PAGES,
                             high, args)  # fmt: skip
    large = results["sizes"][max(args.pages)]["platform"][high]
    results["memory"] = {
        "workers": high,
        "small": {"pages": SMALL_DOCUMENT_PAGES, **small["memory"]},
        "large": {"pages": max(args.pages), **large["memory"]},
        "pool_ratio": max(large["memory"]["pool_mb"]) / max(small["memory"]["pool_mb"]),
        "main_ratio": large["memory"]["main_mb"] / small["memory"]["main_mb"],
    }
    results["meta"] = {
        "chunk_pages": chunk_pages,
        "poll_ms": args.poll_ms,
        "raw_repeat": args.raw_repeat,
        "repeat": args.repeat,
        "workers": [low, high],
        "cpus": len(os.sched_getaffinity(0)),
        "finished_at": datetime.now().isoformat(timespec="seconds"),
    }
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return services.run_and_report(
        lambda stack: run(args, stack), RESULTS_DIR / "pipeline.json", print_report
    )


if __name__ == "__main__":
    sys.exit(main())
