"""Diagnose a deployment: ``python troubleshoot.py [--json] [--timeout SECONDS]``.

Reads the same environment as the API and the workers, runs every check in
app/diagnostics and prints one PASS/WARN/FAIL line each, with the fix for what
fails. Exits 1 if any check fails. See docs/troubleshooting.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from app.diagnostics import CheckResult, Status, run_checks


def print_report(results: list[CheckResult]) -> None:
    width = max(len(result.name) for result in results)
    for result in results:
        print(f"{result.status.value:4}  {result.name:<{width}}  {result.detail}")
        if result.fix and result.status in {Status.FAIL, Status.WARN}:
            print(f"{'':4}  {'':<{width}}  fix: {result.fix}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Diagnose a docjobs deployment from its environment.")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per check (default 5)")
    args = parser.parse_args(argv)

    results = run_checks(timeout=args.timeout)
    failing = any(result.status == Status.FAIL for result in results)
    if args.json:
        print(json.dumps({"ok": not failing, "checks": [dataclasses.asdict(r) for r in results]}, indent=2))
    else:
        print_report(results)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
