"""This process's parse processes as the system lists them (Linux /proc): the workers, started by
this process or forked by its fork server, and the fork servers. For tests and bench/."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _parse_processes() -> dict[int, tuple[int, list[bytes], Path]]:
    """Every parse process on the machine: pid -> (its parent, its arguments, its folder)."""
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"app.imap.parsestart" in (cmdline := (proc / "cmdline").read_bytes()):
                found[int(proc.name)] = (parent(proc), cmdline.split(b"\0"), proc)
        except OSError:
            continue
    return found


def parent(proc: Path) -> int:
    return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])


def children(pid: int) -> list[Path]:
    """The /proc folders of the processes whose parent is ``pid`` now (those ending meanwhile
    left out)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and parent(proc) == pid:
                found.append(proc)
        except (OSError, ValueError):
            continue
    return found


def cpu_seconds(proc: Path) -> float:
    fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ours() -> tuple[list[int], list[Path]]:
    """This process's fork servers (pids) and the /proc folders of its workers, from one look."""
    found = _parse_processes()
    me = os.getpid()
    servers = [pid for pid, (ppid, args, _) in found.items() if ppid == me and b"fork" in args]
    workers = [proc for pid, (ppid, _, proc) in found.items()
               if pid not in servers and (ppid == me or ppid in servers) and _reads_a_pipe(proc)]
    return servers, workers


def _reads_a_pipe(proc: Path) -> bool:
    """Whether the process reads a pipe: a worker does (its frames); a fork server's child that
    keeps its compiled expressions for the next start (app.imap.parsework._keep_patterns) does not.
    A process that has ended meanwhile is no worker."""
    try:
        return os.readlink(proc / "fd" / "0").startswith("pipe:")
    except OSError:
        return False


def fork_servers() -> list[int]:
    """This process's parse fork servers (a pool's)."""
    return _ours()[0]


def worker_processes() -> list[Path]:
    """The /proc folders of this process's parse workers: started by it, or forked by its fork
    server (a forked worker keeps the server's arguments)."""
    return _ours()[1]


def every_process() -> list[Path]:
    """The /proc folders of this process's parse workers and fork servers (not a server's child
    that keeps what it compiled: it lives a fraction of a second, once)."""
    servers, workers = _ours()
    return [*workers, *(Path(f"/proc/{pid}") for pid in servers)]


def total_cpu(procs: list[Path]) -> float:
    """CPU seconds of these processes, those that have ended meanwhile left out."""
    total = 0.0
    for proc in procs:
        try:
            total += cpu_seconds(proc)
        except OSError:
            continue
    return total


def kept_expressions(cache: Path, timeout: float = 30.0) -> bool:
    """Whether, within ``timeout`` seconds, a fork server has kept the reader's compiled
    expressions in the cache folder ``cache`` (``XDG_CACHE_HOME``: a child of the server writes
    them once it is ready, app.imap.parsework._keep_patterns). For bench/."""
    deadline = time.monotonic() + timeout
    while not list(cache.glob("replydesk/patterns-*.bin")):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
