"""CPU time and peak memory of processes, read from /proc (Linux only)."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ProcessCpu(NamedTuple):
    parent: int
    command: str
    seconds: float


def _stat_fields(pid: int) -> list[str]:
    # The command name may hold spaces and parentheses: parse after the last ')'.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def child_pids(parent: int) -> list[int]:
    """The live direct children of a process."""
    return sorted(pid for pid, process in cpu_snapshot().items() if process.parent == parent)


def sandbox_pids(pool: list[int]) -> list[int]:
    """The PDF sandbox helpers of a worker's pool processes (app/pdf/sandbox.py): their children."""
    return sorted(pid for pid, process in cpu_snapshot().items() if process.parent in set(pool))


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM line.")


def cpu_snapshot() -> dict[int, ProcessCpu]:
    """Every live process's parent, command line and user plus system CPU seconds so far."""
    snapshot = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            fields = _stat_fields(pid)
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # it exited meanwhile
        seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        snapshot[pid] = ProcessCpu(int(fields[1]), command.strip(), seconds)
    return snapshot


def cpu_used(before: dict[int, ProcessCpu], after: dict[int, ProcessCpu]) -> dict[int, ProcessCpu]:
    """CPU each process used between two snapshots; processes that exited meanwhile are lost."""
    used = {}
    for pid, process in after.items():
        earlier = before.get(pid)
        start = earlier.seconds if earlier and earlier.command == process.command else 0.0
        used[pid] = process._replace(seconds=process.seconds - start)
    return used


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle since boot, summed over cores."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def cpu_by_role(
    used: dict[int, ProcessCpu], roles: dict[str, set[int]], database: str, machine: float
) -> dict[str, float]:
    """Sum CPU by role: the given process groups, the database's backends, the rest of PostgreSQL, Redis.

    What the machine spent beyond those is "unrelated": other users' processes, the
    kernel, processes that exited meanwhile; the top three are named.
    """
    totals: dict[str, float] = defaultdict(float)
    others: dict[str, float] = defaultdict(float)
    for pid, process in used.items():
        role = next((name for name, pids in roles.items() if pid in pids), None)
        if role is None:
            role = _service_role(process.command, database)
        if role is None:
            others[process.command[:60] or f"pid {pid}"] += process.seconds
        else:
            totals[role] += process.seconds
    totals["unrelated"] = machine - sum(totals.values())
    totals["other_processes"] = sum(others.values())  # the part of "unrelated" that named processes took
    totals["machine"] = machine
    top = sorted(others.items(), key=lambda item: -item[1])[:3]
    return dict(totals) | {"unrelated_top": {command: round(s, 2) for command, s in top if s > 0}}


def _service_role(command: str, database: str) -> str | None:
    if command.startswith("postgres"):
        # A backend's title reads "postgres: 15/main: user database host state".
        return "postgres_bench" if f" {database} " in command else "postgres_server"
    if command.startswith("redis-server"):
        return "redis"
    return None
