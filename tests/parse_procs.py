"""This process's parse processes as the system lists them (Linux /proc): the workers, started by
this process or forked by its fork server, and the fork servers. For tests and bench/."""

from __future__ import annotations

import os
from pathlib import Path


def _parse_processes() -> dict[int, tuple[int, list[bytes], Path]]:
    """Every parse process on the machine: pid -> (its parent, its arguments, its folder)."""
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"app.imap.parsework" in (cmdline := (proc / "cmdline").read_bytes()):
                found[int(proc.name)] = (parent(proc), cmdline.split(b"\0"), proc)
        except OSError:
            continue
    return found


def parent(proc: Path) -> int:
    return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])


def cpu_seconds(proc: Path) -> float:
    fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fork_servers() -> list[int]:
    """This process's parse fork servers (a pool's)."""
    return [pid for pid, (ppid, args, _) in _parse_processes().items() if ppid == os.getpid() and b"fork" in args]


def worker_processes() -> list[Path]:
    """The /proc folders of this process's parse workers: started by it, or forked by its fork
    server (a forked worker keeps the server's arguments)."""
    servers = set(fork_servers())
    return [proc for pid, (ppid, _, proc) in _parse_processes().items()
            if pid not in servers and (ppid == os.getpid() or ppid in servers)]


def total_cpu(procs: list[Path]) -> float:
    """CPU seconds of these processes, those that have ended meanwhile left out."""
    total = 0.0
    for proc in procs:
        try:
            total += cpu_seconds(proc)
        except OSError:
            continue
    return total
