"""Throughput and latency of polling a completed job, against a bare one-SELECT endpoint of the same app.

Run from the repository root: ``.venv/bin/python -m bench.poll``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import threading
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from bench import procstats, services
from bench.api_client import ApiClient
from bench.report import fmt, print_rows
from bench.textpdf import RESULTS_DIR, make_text_pdf

JOB_TIMEOUT_SECONDS = 120
POLL_DATABASE = "docjobs_bench_poll"
POLL_REDIS_URL = os.environ.get("BENCH_POLL_REDIS_URL", "redis://127.0.0.1:6379/12")
WARMUP_SECONDS = 2.0
NOISE_SHARE = 0.1
# Each poll path's requests per second over the bare endpoint's, at least.
TARGETS = {"full": 0.6, "not_modified": 0.9}
LABELS = {
    "bare": "bare: 1 PK SELECT, small JSON",
    "full": "GET /jobs/<id> (200, full detail)",
    "not_modified": "GET /jobs/<id> + If-None-Match (304)",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="length of one timed round per endpoint")
    parser.add_argument("--rounds", type=int, default=12, help="rounds; the endpoints take turns in each")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections, one thread each")
    parser.add_argument("--pages", type=int, default=10, help="pages of the completed job's document")
    return parser.parse_args(argv)


def hammer(
    port: int, path: str, headers: dict[str, str], expect: int, seconds: float, connections: int
) -> dict:
    """GET `path` over `connections` keep-alive connections for `seconds`; latencies and counts."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    failures = [0] * connections
    deadline = time.perf_counter() + seconds

    def run(slot: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = latencies[slot]
        while (started := time.perf_counter()) < deadline:
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                failures[slot] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            if response.status != expect:
                failures[slot] += 1
                continue
            mine.append(time.perf_counter() - started)
        connection.close()

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(connections)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "seconds": time.perf_counter() - began,
        "latencies": [sample for samples in latencies for sample in samples],
        "failures": sum(failures),
    }


def completed_job(client: ApiClient, pages: int) -> dict:
    """Upload a text PDF and wait for its job to complete; return the job's detail."""
    timing = client.run_job(make_text_pdf(pages, seed=4242), "poll-bench.pdf", 0.2, JOB_TIMEOUT_SECONDS)
    return timing.job


def scenarios(client: ApiClient, job_id: str) -> tuple[dict[str, tuple[str, dict[str, str], int]], int]:
    """Each measured request (path, headers, the status it must answer) and the full body's size."""
    auth = {"Authorization": f"Bearer {client.token}"}
    connection = http.client.HTTPConnection(client.host, client.port, timeout=30)
    connection.request("GET", f"/api/v1/jobs/{job_id}", headers=auth)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    etag = response.getheader("ETag")
    if response.status != 200 or not etag:
        raise RuntimeError(f"GET /jobs/{job_id} answered {response.status} with ETag {etag!r}.")
    plan = {
        "bare": (f"/api/v1/bench/jobs/{job_id}", auth, 200),
        "full": (f"/api/v1/jobs/{job_id}", auth, 200),
        "not_modified": (f"/api/v1/jobs/{job_id}", auth | {"If-None-Match": etag}, 304),
    }
    return plan, len(body)


def measure(args: argparse.Namespace, port: int, plan: dict, roles: dict[str, set[int]]) -> dict:
    """Warm every endpoint up, then run the rounds, the endpoints taking turns (rotated each round)."""
    for path, headers, expect in plan.values():
        hammer(port, path, headers, expect, WARMUP_SECONDS, args.connections)
    runs: dict[str, list[dict]] = {name: [] for name in plan}
    names = list(plan)
    busy_before = procstats.machine_busy_seconds()
    before = procstats.cpu_snapshot()
    for round_index in range(args.rounds):
        order = names[round_index % len(names) :] + names[: round_index % len(names)]
        for name in order:
            path, headers, expect = plan[name]
            print(f"  round {round_index + 1}/{args.rounds}: {name} ...", flush=True)
            cpu_before = server_cpu_seconds(roles["gunicorn"])
            run = hammer(port, path, headers, expect, args.seconds, args.connections)
            run["server_cpu_s"] = server_cpu_seconds(roles["gunicorn"]) - cpu_before
            runs[name].append(run)
    used = procstats.cpu_used(before, procstats.cpu_snapshot())
    machine = procstats.machine_busy_seconds() - busy_before
    return {
        "figures": {name: figures(samples) for name, samples in runs.items()},
        "cpu_s": procstats.cpu_by_role(used, roles, services.BENCH_DATABASE, machine),
    }


def server_cpu_seconds(gunicorn: set[int]) -> float:
    """CPU seconds so far of the gunicorn processes and the bench database's PostgreSQL backends."""
    backend = f" {services.BENCH_DATABASE} "
    return sum(
        process.seconds
        for pid, process in procstats.cpu_snapshot().items()
        if pid in gunicorn or (process.command.startswith("postgres") and backend in process.command)
    )


def figures(runs: list[dict]) -> dict:
    """Requests per second over all rounds, latency percentiles over all samples, per-round rates."""
    latencies = sorted(sample for run in runs for sample in run["latencies"])
    seconds = sum(run["seconds"] for run in runs)
    percentiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "requests": len(latencies),
        "failures": sum(run["failures"] for run in runs),
        "rps": len(latencies) / seconds,
        "round_rps": [len(run["latencies"]) / run["seconds"] for run in runs],
        # What a request costs the server (gunicorn + its PostgreSQL backends): far less
        # sensitive to other processes on the machine than requests per second.
        "server_cpu_ms": sum(run["server_cpu_s"] for run in runs) * 1000 / max(1, len(latencies)),
        "p50_ms": percentiles[49] * 1000,
        "p99_ms": percentiles[98] * 1000,
    }


def run(args: argparse.Namespace, stack: ExitStack) -> dict:
    # A database and Redis database of its own, so it can run beside the other benches.
    services.BENCH_DATABASE = POLL_DATABASE
    services.BENCH_REDIS_URL = POLL_REDIS_URL
    log_dir = RESULTS_DIR / "logs"
    env = services.platform_env(RESULTS_DIR / "instance") | {"BENCH_ENDPOINTS": "1"}
    print("preparing the bench database and Redis ...", flush=True)
    stack.callback(services.drop_database)
    services.prepare_backends(env)
    port = services.free_port()
    gunicorn = services.start_gunicorn(env, port, log_dir)
    stack.callback(gunicorn.stop)
    client = ApiClient(f"http://127.0.0.1:{port}")
    client.sign_up()
    print(f"processing a {args.pages}-page document ...", flush=True)
    worker = services.start_worker(env, 1, log_dir / "worker-poll.log")
    try:
        job = completed_job(client, args.pages)
    finally:
        worker.stop()  # idle workers would only add noise
    plan, full_bytes = scenarios(client, job["job_id"])
    roles = {"gunicorn": {gunicorn.pid, *procstats.child_pids(gunicorn.pid)}, "bench_client": {os.getpid()}}
    print(f"{args.rounds} rounds of {args.seconds:.0f} s per endpoint, {args.connections} connections ...")
    measured = measure(args, port, plan, roles)
    # The endpoints take turns round by round, so a ratio per round cancels most of the
    # drift other processes on the machine cause; the verdict uses their median.
    rounds = {name: figure["round_rps"] for name, figure in measured["figures"].items()}
    ratios = {
        name: statistics.median(mine / bare for mine, bare in zip(rounds[name], rounds["bare"], strict=True))
        for name in TARGETS
    }
    bare_cpu = measured["figures"]["bare"]["server_cpu_ms"]
    cpu_ratios = {name: bare_cpu / measured["figures"][name]["server_cpu_ms"] for name in TARGETS}
    return measured | {
        "ratios": ratios,
        "cpu_ratios": cpu_ratios,
        "targets": {name: {"min": TARGETS[name], "met": ratios[name] >= TARGETS[name]} for name in TARGETS},
        "job": {
            "pages": job["page_count"],
            "chunks": job["total_chunks"],
            "sentences": job["sentence_count"],
            "body_bytes": full_bytes,
        },
        "meta": {
            "seconds": args.seconds,
            "rounds": args.rounds,
            "connections": args.connections,
            "gunicorn": gunicorn_settings(gunicorn.log_path),
            "cpus": len(os.sched_getaffinity(0)),
            "finished_at": datetime.now().isoformat(timespec="seconds"),
        },
    }


def gunicorn_settings(log_path: Path) -> str:
    """The worker class and process count gunicorn logged at start."""
    lines = log_path.read_text(errors="replace").splitlines()
    worker_class = next((line.split("Using worker: ")[1] for line in lines if "Using worker: " in line), "?")
    processes = sum("Booting worker with pid" in line for line in lines)
    return f"{processes} processes, worker class {worker_class}"


def print_report(results: dict) -> None:
    meta, job = results["meta"], results["job"]
    print(
        f"\n== Polling a completed job ({job['pages']} pages, {job['chunks']} chunks, {job['sentences']} sentences,"
        f" {job['body_bytes']} bytes of JSON): {meta['rounds']} x {meta['seconds']:g} s per endpoint,"
        f" {meta['connections']} keep-alive connections; gunicorn {meta['gunicorn']}; {meta['cpus']} CPUs =="
    )
    rows = []
    for name, label in LABELS.items():
        figure = results["figures"][name]
        ratio = results["ratios"].get(name)
        target = results["targets"].get(name)
        verdict = f">= {target['min']:.1f} {'ok' if target['met'] else 'MISSED'}" if target else ""
        cpu_ratio = results["cpu_ratios"].get(name)
        rows.append([label, fmt(figure["rps"], 0), fmt(figure["p50_ms"]), fmt(figure["p99_ms"]),
                     fmt(ratio) if ratio else "1.00", verdict, fmt(figure["server_cpu_ms"]),
                     fmt(cpu_ratio) if cpu_ratio else "1.00", figure["failures"]])  # fmt: skip
    print_rows(["endpoint", "req/s", "p50 ms", "p99 ms", "req/s / bare (median of rounds)", "target",
                "server CPU ms/req", "bare CPU / this", "errors"], rows)  # fmt: skip
    for name in LABELS:
        rates = " ".join(fmt(rate, 0) for rate in results["figures"][name]["round_rps"])
        print(f"  {name} req/s per round: {rates}")
    cpu = results["cpu_s"]
    print(
        f"CPU seconds while timed: gunicorn {fmt(cpu.get('gunicorn'))}, PostgreSQL (bench db)"
        f" {fmt(cpu.get('postgres_bench'))}, load generator {fmt(cpu.get('bench_client'))},"
        f" other processes {fmt(cpu.get('other_processes'))} of {fmt(cpu.get('machine'))}"
    )
    if cpu.get("other_processes", 0) > NOISE_SHARE * cpu.get("machine", 1):
        print(
            f"Warning: other processes took a noticeable share ({cpu.get('unrelated_top')}); figures are noisy."
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return services.run_and_report(lambda stack: run(args, stack), RESULTS_DIR / "poll.json", print_report)


if __name__ == "__main__":
    sys.exit(main())
