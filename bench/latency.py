"""Time how long a 1-page upload takes to complete, against a bare Celery round trip on the same broker.

Run from the repository root: ``.venv/bin/python -m bench.latency``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import ExitStack
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import psycopg2

from bench import procstats, services
from bench.api_client import ApiClient
from bench.latency_noop import celery, noop
from bench.report import fmt, print_rows
from bench.textpdf import RESULTS_DIR, make_text_pdf

WARMUP_UPLOADS = 3
NOOP_WARMUP = 10
NOOP_TIMEOUT_SECONDS = 10
JOB_TIMEOUT_SECONDS = 60
TARGET_RATIO = 5.0  # (a) median over (c) median, at most
NOISE_SHARE = 0.1  # flag the run when other processes took this share of the machine's CPU
# Between the job's own timestamps and its one chunk's, in order; they add up to (a).
STAGES = (
    ("created -> job started", "upload's commits and publish, broker hop, process_job reads the PDF"),
    ("job started -> chunk started", "split commit, chunk publish, broker hop, begin_chunk"),
    ("chunk started -> chunk finished", "chunk's process reads the PDF again, extracts, splits, analyses"),
    ("chunk finished -> job finished", "sentence COPY, job counter update"),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--uploads", type=int, default=50, help="timed 1-page uploads, one at a time")
    parser.add_argument("--poll-ms", type=int, default=10, help="how often the client polls the job")
    parser.add_argument("--workers", type=int, default=2, help="the platform worker's concurrency")
    parser.add_argument("--noop", type=int, default=200, help="timed no-op task round trips")
    return parser.parse_args(argv)


def median_p95(samples: list[float]) -> dict[str, float]:
    """The median and 95th percentile of `samples`, in milliseconds."""
    p95 = statistics.quantiles(samples, n=20, method="inclusive")[18] if len(samples) > 1 else samples[0]
    return {"median_ms": statistics.median(samples) * 1000, "p95_ms": p95 * 1000}


def measure_noop(count: int, log_dir: Path) -> list[float]:
    """Seconds per `noop.delay().get()`, sequentially, on a throw-away worker for the no-op app."""
    worker = services.start_worker(
        dict(os.environ, PYTHONUNBUFFERED="1"), 1, log_dir / "worker-noop.log",
        celery_app="bench.latency_noop", node="bench-noop",
    )  # fmt: skip
    seconds = []
    try:
        for attempt in range(NOOP_WARMUP + count):
            started = time.perf_counter()
            result = noop.delay()
            result.get(timeout=NOOP_TIMEOUT_SECONDS)
            elapsed = time.perf_counter() - started
            result.forget()
            if attempt >= NOOP_WARMUP:
                seconds.append(elapsed)
    finally:
        worker.stop()
        celery.close()
    return seconds


def timed_uploads(client: ApiClient, documents: list[bytes], poll_seconds: float) -> list[dict]:
    """Upload each 1-page PDF, one job at a time, each polled to completion."""
    runs = []
    for data in documents:
        timing = client.run_job(data, "latency-1p.pdf", poll_seconds, JOB_TIMEOUT_SECONDS)
        job = timing.job
        created, finished = (datetime.fromisoformat(job[key]) for key in ("created_at", "finished_at"))
        runs.append({
            "job_id": job["job_id"],
            **{key: job[key] for key in ("created_at", "started_at", "finished_at")},
            "server_s": (finished - created).total_seconds(),
            "client_s": timing.total_seconds,
            "upload_s": timing.upload_seconds,
            "polls": timing.polls,
        })  # fmt: skip
    return runs


def stage_seconds(job_ids: list[str]) -> dict[str, list[float]]:
    """Split each job's created-to-finished time at its first chunk's start and finish."""
    connection = psycopg2.connect(services.bench_database_url(), connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT j.created_at, j.started_at, c.started_at, c.finished_at, j.finished_at"
                ' FROM jobs j JOIN chunks c ON c.job_id = j.id AND c."index" = 0 WHERE j.id = ANY(%s)',
                (job_ids,),
            )
            rows = cursor.fetchall()
    finally:
        connection.close()
    stages: dict[str, list[float]] = {name: [] for name, _ in STAGES}
    for moments in rows:
        for (name, _), (start, end) in zip(STAGES, pairwise(moments), strict=True):
            stages[name].append((end - start).total_seconds())
    return stages


def measure_platform(args: argparse.Namespace, stack: ExitStack) -> dict:
    """Start the API and a worker, warm up, then time the uploads and attribute the machine's CPU."""
    log_dir = RESULTS_DIR / "logs"
    env = services.platform_env(RESULTS_DIR / "instance") | services.SEED_ANALYSIS
    port = services.free_port()
    gunicorn = services.start_gunicorn(env, port, log_dir)
    stack.callback(gunicorn.stop)
    worker = services.start_worker(env, args.workers, log_dir / f"worker-latency-c{args.workers}.log")
    stack.callback(worker.stop)
    poll_seconds = args.poll_ms / 1000

    # A different file each time: the platform answers a repeated file with the earlier job.
    documents = [make_text_pdf(1, seed=seed) for seed in range(WARMUP_UPLOADS + args.uploads)]
    client = ApiClient(f"http://127.0.0.1:{port}")
    client.sign_up()
    print(f"platform: {WARMUP_UPLOADS} warm-up uploads, then {args.uploads} timed ...", flush=True)
    timed_uploads(client, documents[:WARMUP_UPLOADS], poll_seconds)
    warm_log = len(worker.log())
    busy_before = procstats.machine_busy_seconds()
    before = procstats.cpu_snapshot()
    runs = timed_uploads(client, documents[WARMUP_UPLOADS:], poll_seconds)
    used = procstats.cpu_used(before, procstats.cpu_snapshot())
    machine = procstats.machine_busy_seconds() - busy_before
    pool = procstats.child_pids(worker.pid)
    roles = {
        "worker_pool": {*pool, *procstats.sandbox_pids(pool)},  # pdfium runs in the pool's sandboxes
        "worker_main": {worker.pid},
        "gunicorn": {gunicorn.pid, *procstats.child_pids(gunicorn.pid)},
        "bench_client": {os.getpid()},
    }
    return {
        "runs": runs,
        "stages_s": stage_seconds([run["job_id"] for run in runs]),
        "tasks": services.task_seconds(worker.log()[warm_log:]),
        "cpu_s": procstats.cpu_by_role(used, roles, services.BENCH_DATABASE, machine),
    }


def summarise(platform: dict, noop_seconds: list[float]) -> dict:
    """Median and p95 of (a), (b), (c), the ratios to (c) and the verdict on the target."""
    runs = platform["runs"]
    figures = {
        "server": median_p95([run["server_s"] for run in runs]),
        "client": median_p95([run["client_s"] for run in runs]),
        "noop": median_p95(noop_seconds),
        "upload_request": median_p95([run["upload_s"] for run in runs]),
    }
    noop = figures["noop"]
    ratios = {
        f"{name}/noop": {stat: figures[name][stat] / noop[stat] for stat in noop}
        for name in ("server", "client")
    }
    met = ratios["server/noop"]["median_ms"] <= TARGET_RATIO
    return {"figures": figures, "ratios": ratios, "target": {"max_ratio": TARGET_RATIO, "met": met}}


def run(args: argparse.Namespace, stack: ExitStack) -> dict:
    env = services.platform_env(RESULTS_DIR / "instance") | services.SEED_ANALYSIS
    print("preparing the bench database and Redis ...", flush=True)
    stack.callback(services.drop_database)
    services.prepare_backends(env)
    print(f"no-op task: {NOOP_WARMUP} warm-up round trips, then {args.noop} timed ...", flush=True)
    noop_seconds = measure_noop(args.noop, RESULTS_DIR / "logs")
    platform = measure_platform(args, stack)
    return summarise(platform, noop_seconds) | {
        "platform": platform,
        "noop_ms": [round(s * 1000, 3) for s in noop_seconds],
        "meta": {
            "uploads": args.uploads,
            "warmup_uploads": WARMUP_UPLOADS,
            "poll_ms": args.poll_ms,
            "workers": args.workers,
            "noop": args.noop,
            "cpus": len(os.sched_getaffinity(0)),
            "finished_at": datetime.now().isoformat(timespec="seconds"),
        },
    }


def print_report(results: dict) -> None:
    """Print (a), (b), (c) with their ratios and the target, then where (a) goes."""
    meta, figures, ratios = results["meta"], results["figures"], results["ratios"]
    print(f"\n== Latency of a 1-page upload: {meta['uploads']} uploads one at a time, poll every"
          f" {meta['poll_ms']} ms, worker -c {meta['workers']}, {meta['cpus']} CPUs ==")  # fmt: skip
    verdict = "ok" if results["target"]["met"] else "MISSED"
    rows = []
    for label, name, target in (
        ("(a) server: created_at -> finished_at", "server", f"<= {TARGET_RATIO:.1f} {verdict}"),
        ("(b) client: upload sent -> completed poll", "client", ""),
        ("(c) no-op Celery task round trip", "noop", ""),
    ):
        ratio = ratios.get(f"{name}/noop", {})
        rows.append([label, fmt(figures[name]["median_ms"], 1), fmt(figures[name]["p95_ms"], 1),
                     fmt(ratio.get("median_ms"), 1), fmt(ratio.get("p95_ms"), 1), target])  # fmt: skip
    print_rows(["", "median ms", "p95 ms", "median /(c)", "p95 /(c)", "target (median)"], rows)

    platform = results["platform"]
    print("\nWhere (a) goes, from the job's and its chunk's timestamps (ms)")
    rows = []
    for name, what in STAGES:
        if samples := platform["stages_s"][name]:
            stage = median_p95(samples)
            rows.append([name, fmt(stage["median_ms"], 1), fmt(stage["p95_ms"], 1), what])
    print_rows(["stage", "median", "p95", "what runs in it"], rows)
    tasks = ", ".join(
        f"{name} {fmt(entry['seconds'] / entry['count'] * 1000, 1)}"
        for name, entry in sorted(platform["tasks"].items())
    )
    print(f"Mean task run times from the worker log (ms): {tasks}")
    upload = figures["upload_request"]
    print(f"Upload request (POST until the 202 arrives): median {fmt(upload['median_ms'], 1)} ms,"
          f" p95 {fmt(upload['p95_ms'], 1)} ms")  # fmt: skip
    cpu = platform["cpu_s"]
    if cpu["other_processes"] > NOISE_SHARE * cpu["machine"]:
        print(f"Warning: other processes took {fmt(cpu['other_processes'])} of {fmt(cpu['machine'])} CPU"
              f" seconds during the timed uploads ({cpu['unrelated_top']}); the latencies are inflated.")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return services.run_and_report(lambda stack: run(args, stack), RESULTS_DIR / "latency.json", print_report)


if __name__ == "__main__":
    sys.exit(main())
