"""Print the pipeline benchmark's results as compact tables, with the issue's targets."""

from __future__ import annotations

# (pages, ratio key template, minimum): the throughput targets the issue sets.
TARGETS = (
    (3000, "{high}w/raw", 1.0),
    (3000, "{high}w/{low}w", 1.5),
    (300, "{high}w/raw", 0.5),
)
MEMORY_TARGET = 1.5  # large document's peak RSS over the small one's, at most
NOISE_SHARE = 0.1  # a run is flagged when unrelated processes took this share of the machine's CPU


def _target(pages: int, key: str, low: int, high: int) -> str:
    for target_pages, template, minimum in TARGETS:
        if target_pages == pages and template.format(low=low, high=high) == key:
            return f">= {minimum:.1f}"
    return ""


def _verdict(value: float, target: str) -> str:
    if not target:
        return ""
    return "ok" if value >= float(target.split()[1]) else "MISSED"


def print_rows(headers: list[str], rows: list[list]) -> None:
    """Print a table with right-aligned columns."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    for row in (headers, *rows):
        print("  ".join(str(cell).rjust(width) for cell, width in zip(row, widths, strict=True)))


def fmt(value: float | None, digits: int = 2) -> str:
    """A number with `digits` decimals, or "-" when there is none."""
    return "-" if value is None else f"{value:.{digits}f}"


def print_throughput(results: dict) -> None:
    low, high = results["meta"]["workers"]
    counts = sorted({low, high})
    print("\nThroughput, pages/s (raw: one process, no database; platform: upload to completed poll)")
    headers = ["pages", "raw extract+split", "raw +analysis", "raw chunked"]
    headers += [f"{c} worker(s)" for c in counts]
    rows = []
    for pages, size in sorted(results["sizes"].items()):
        raw = size["raw"]
        platform = [fmt(size["platform"][c]["pages_per_s"], 1) for c in counts]
        rows.append([pages, fmt(raw["pages_per_s_no_analysis"], 1), fmt(raw["pages_per_s"], 1),
                     fmt(raw["pages_per_s_chunked"], 1), *platform])  # fmt: skip
    print_rows(headers, rows)

    print("\nRatios (raw = extract+split+analysis, the same work the platform does)")
    rows = []
    for pages, size in sorted(results["sizes"].items()):
        for key, value in size["ratios"].items():
            target = _target(pages, key, low, high)
            rows.append([pages, key, fmt(value), target or "-", _verdict(value, target)])
    print_rows(["pages", "ratio", "value", "target", ""], rows)


def print_runs(results: dict) -> None:
    print("\nWhere the time goes, per platform run (seconds; CPU summed over processes)")
    headers = ["pages", "w", "wall", "upload", "queued", "server", "chunks", "chunk task sum",
               "cpu pool", "cpu main", "cpu gunicorn", "cpu pg bench", "cpu pg server", "cpu redis",
               "cpu client", "cpu unrelated", "cpu machine"]  # fmt: skip
    rows = []
    for pages, size in sorted(results["sizes"].items()):
        for workers, run in sorted(size["platform"].items()):
            chunk = run["tasks"].get("docjobs.process_chunk", {})
            cpu = run["cpu_s"]
            rows.append([
                pages, workers, fmt(run["seconds"]), fmt(run["upload_s"]), fmt(run["queue_wait_s"]),
                fmt(run["server_processing_s"]), run["total_chunks"], fmt(chunk.get("seconds")),
                fmt(cpu.get("worker_pool")), fmt(cpu.get("worker_main")), fmt(cpu.get("gunicorn")),
                fmt(cpu.get("postgres_bench")), fmt(cpu.get("postgres_server")), fmt(cpu.get("redis")),
                fmt(cpu["bench_client"]),
                fmt(cpu["unrelated"]), fmt(cpu["machine"]),
            ])  # fmt: skip
    print_rows(headers, rows)
    noisy = [
        f"{pages} pages/{workers}w: {fmt(run['cpu_s']['unrelated'])} s ({run['cpu_s']['unrelated_top']})"
        for pages, size in sorted(results["sizes"].items())
        for workers, run in sorted(size["platform"].items())
        if run["cpu_s"]["unrelated"] > NOISE_SHARE * run["cpu_s"]["machine"]
    ]
    if noisy:
        print("Warning: other processes used the CPUs during these runs; their figures are low:")
        print("\n".join(f"  {line}" for line in noisy))


def print_memory(results: dict) -> None:
    memory = results["memory"]
    print(f"\nWorker peak RSS (VmHWM, MiB), fresh -c {memory['workers']} worker per document")
    rows = []
    for label in ("small", "large"):
        entry = memory[label]
        pool = ", ".join(fmt(mb, 1) for mb in entry["pool_mb"])
        sandboxes = ", ".join(fmt(mb, 1) for mb in entry.get("sandbox_mb", [])) or "-"
        rows.append(
            [entry["pages"], fmt(entry["main_mb"], 1), pool, fmt(max(entry["pool_mb"]), 1), sandboxes]
        )
    print_rows(["pages", "main", "pool children", "max child", "PDF sandboxes"], rows)
    ratio = memory["pool_ratio"]
    verdict = "ok" if ratio <= MEMORY_TARGET else "MISSED"
    print(f"max child ratio {fmt(ratio)} (target <= {MEMORY_TARGET}) {verdict};"
          f" main ratio {fmt(memory['main_ratio'])}")  # fmt: skip


def print_report(results: dict) -> None:
    """Print throughput, ratios against targets, the time breakdown and worker memory."""
    meta = results["meta"]
    print(f"\n== PDF pipeline benchmark: CHUNK_PAGES={meta['chunk_pages']}, poll every {meta['poll_ms']} ms,"
          f" {meta['cpus']} CPUs ==")  # fmt: skip
    print_throughput(results)
    print_runs(results)
    print_memory(results)
