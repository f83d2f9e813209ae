"""Run issue 11's attacks against a platform started as it ships and print what each cost.

Each ``bench/hostile_<area>.py`` lists its attacks in ``ATTACKS``: functions that take a
``bench.hostile_target.Target`` and return figures (statuses, seconds, peak RSS, rows).
The platform's code comes from ``--source`` (default: this checkout), so the same attacks
give "before" figures on an older commit's worktree:

    git worktree add /tmp/docjobs-before ecd6a38
    .venv/bin/python -m bench.hostile --source /tmp/docjobs-before --label before
    .venv/bin/python -m bench.hostile --label after
    .venv/bin/python -m bench.hostile --compare before after

A fresh platform (Redis, database, API, one worker) serves each area, so one area's
damage does not bleed into the next one's figures.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench.hostile_target import started_target

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"


def attack_modules(only: list[str]) -> list:
    names = sorted(path.stem for path in BENCH_DIR.glob("hostile_*.py") if path.stem != "hostile_target")
    return [
        importlib.import_module(f"bench.{name}")
        for name in names
        if not only or name.removeprefix("hostile_") in only
    ]


def run_area(module, source: Path, workdir: Path, attacks: list[str]) -> dict[str, dict]:
    figures: dict[str, dict] = {}
    with started_target(source, workdir) as target:
        for attack in module.ATTACKS:
            name = attack.__name__.removeprefix("attack_")
            if attacks and name not in attacks:
                continue
            started = time.monotonic()
            try:
                result = attack(target)
            except Exception as error:  # noqa: BLE001 - one failed attack must not hide the others
                traceback.print_exc()
                result = {"bench_error": f"{type(error).__name__}: {error}"[:300]}
            result["bench_seconds"] = round(time.monotonic() - started, 1)
            figures[name] = result
            print(f"  {name}: {format_figures(result)}", flush=True)
    return figures


def format_figures(figures: dict) -> str:
    return ", ".join(f"{key}={value}" for key, value in figures.items())


def compare(before: dict, after: dict) -> None:
    for area in sorted(set(before) | set(after)):
        print(f"[{area}]")
        for name in sorted(set(before.get(area, {})) | set(after.get(area, {}))):
            print(f"  {name}")
            print(f"    before: {format_figures(before.get(area, {}).get(name, {}))}")
            print(f"    after:  {format_figures(after.get(area, {}).get(name, {}))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--source", type=Path, default=REPO_ROOT, help="checkout whose platform runs")
    parser.add_argument("--label", default="after", help="results go to bench/results/hostile-<label>.json")
    parser.add_argument("--area", action="append", default=[], help="only these areas (e.g. accounts)")
    parser.add_argument("--attack", action="append", default=[], help="only these attacks")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"), help="print two labels' figures")
    args = parser.parse_args(argv)
    if args.compare:
        before, after = (
            json.loads((RESULTS_DIR / f"hostile-{label}.json").read_text()) for label in args.compare
        )
        compare(before, after)
        return 0

    results_path = RESULTS_DIR / f"hostile-{args.label}.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    workroot = Path(tempfile.mkdtemp(prefix="docjobs-hostile-"))
    for module in attack_modules(args.area):
        area = module.__name__.rsplit("_", 1)[-1]
        print(f"[{area}] on {args.source.resolve()} (logs in {workroot / area})", flush=True)
        results[area] = results.get(area, {}) | run_area(
            module, args.source.resolve(), workroot / area, args.attack
        )
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(results, indent=2))
    print(f"Written to {results_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
