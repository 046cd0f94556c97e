"""How fast replydesk's commands answer, as a user runs them: real processes, medians of several runs,
beside the same commands of a base commit measured in the same run.

    python bench/bench_start.py [--size 100000] [--runs 9] [--base a1d443d] [--no-tui]

Checks the base commit out into a temporary git worktree, fills a store of ``--size`` messages
for each checkout with its own code (the generator of bench_ui.py: 50 mailboxes, replies, bounces,
auto-replies and sent mail, full-text index), writes one config with the 50 mailboxes, then times,
from process start to exit: ``--help``, ``list --limit 50``, ``export`` (suppressions), ``export
leads`` and ``accounts list``, alternating base and current run by run so the machine's load falls
on both alike. Each checkout has its own cache dir and gets one unmeasured run first (a user's
second command). With the TUI (needs pexpect, from the test extras): ``replydesk sync`` is started
on the store and the time from starting ``replydesk`` in a terminal to the first frame showing
rows is measured the same way. Python's own start (``python3 -c pass``) is printed as the floor.
With ``--demo``: scripts/demo's install step on a checkout installed already, and ``replydesk demo``
from start to its first frame with rows (medians of 3). Bytecode is written as on a user's machine (PYTHONDONTWRITEBYTECODE is cleared for the commands).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = [
    ["--help"],
    ["list", "--limit", "50"],
    ["export"],
    ["export", "leads"],
    ["accounts", "list"],
]

FILL = """
import sys
from pathlib import Path
sys.path.insert(0, ".")
from bench.bench_ui import fill
fill(Path(sys.argv[1]), int(sys.argv[2]))
"""


def config_text(db: Path, accounts: int = 50) -> str:
    lines = ["[general]", f'database = "{db}"']
    for a in range(accounts):
        # nothing listens on port 1: a running engine keeps retrying, as with mailboxes offline
        lines += ["", "[[accounts]]", f'id = "box{a:02d}"', f'email = "box{a:02d}@sender.example"',
                  'provider = "generic"', 'password_env = "REPLYDESK_BENCH_PASSWORD"',
                  "[accounts.imap]", 'host = "127.0.0.1"', "port = 1", 'security = "tls"',
                  "[accounts.smtp]", 'host = "127.0.0.1"', "port = 1", 'security = "starttls"']
    return "\n".join(lines) + "\n"


class Checkout:
    def __init__(self, name: str, root: Path, work: Path) -> None:
        self.name, self.root = name, root
        self.dir = work / name
        self.dir.mkdir()
        self.db = self.dir / "bench.db"
        self.config = self.dir / "config.toml"
        self.env = {**os.environ, "PYTHONPATH": str(root), "XDG_CACHE_HOME": str(self.dir / "cache"),
                    "REPLYDESK_BENCH_PASSWORD": "x", "TEXTUAL_ANIMATIONS": "none"}
        self.env.pop("REPLYDESK_CONFIG", None)
        # as on a user's machine: the first run leaves bytecode, later runs load it (this
        # environment may set PYTHONDONTWRITEBYTECODE, which makes every start compile all of app/)
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)

    def prepare(self, size: int) -> None:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", FILL, str(self.db), str(size)], cwd=self.root, check=True,
                       env=self.env)
        self.config.write_text(config_text(self.db))
        print(f"  {self.name}: store of {size:,} messages filled in {time.perf_counter() - t:.0f} s", flush=True)

    def argv(self, args: list[str]) -> list[str]:
        return [sys.executable, "-m", "app", "--config", str(self.config), *args]

    def run(self, args: list[str]) -> float:
        t = time.perf_counter()
        proc = subprocess.run(self.argv(args), cwd=self.root, env=self.env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - t
        if proc.returncode != 0:
            raise SystemExit(f"{self.name}: replydesk {' '.join(args)} failed: {proc.stderr.strip()}")
        return elapsed

    def start_engine(self) -> subprocess.Popen[bytes]:
        engine = subprocess.Popen(self.argv(["sync"]), cwd=self.root, env=self.env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lock = self.db.with_name(self.db.name + ".lock")
        deadline = time.monotonic() + 60
        while not lock.exists() and time.monotonic() < deadline and engine.poll() is None:
            time.sleep(0.05)
        time.sleep(1)  # past its start: the UI attaches to a running engine
        if engine.poll() is not None:
            raise SystemExit(f"{self.name}: replydesk sync exited with {engine.returncode}")
        return engine

    def demo_first_rows(self) -> float:
        """``replydesk demo`` from process start to its first frame with a seeded reply."""
        import pexpect
        t = time.perf_counter()
        child = pexpect.spawn(sys.executable, ["-m", "app", "demo"], cwd=str(self.root), env=self.env,
                              dimensions=(40, 160), timeout=120)
        try:
            child.expect("Dana Whitfield")
            return time.perf_counter() - t
        finally:
            child.terminate(force=True)

    def tui_first_rows(self) -> float:
        import pexpect
        t = time.perf_counter()
        child = pexpect.spawn(sys.executable, self.argv([])[1:], cwd=str(self.root), env=self.env,
                              dimensions=(40, 160), timeout=60)
        try:
            child.expect("for company")
            return time.perf_counter() - t
        finally:
            child.terminate(force=True)


def install_step(checkouts: list[Checkout], work: Path, runs: int) -> dict[str, list[float]]:
    """What scripts/demo does before the demo on a checkout installed already. The base runs
    `pip install -e .` every time: timed in a virtual environment on the system's packages (the
    dependencies are there, as on a second start), so the machine's own install is left alone.
    This checkout asks scripts/install_state.py, which finds the install current."""
    out: dict[str, list[float]] = {}
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    for c in checkouts:
        if (c.root / "scripts/install_state.py").exists():
            subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                            "-e", str(c.root)], check=True, capture_output=True)
            subprocess.run([str(venv / "bin/python"), "scripts/install_state.py", "record", "demo"], cwd=c.root,
                           check=True)
            argv = [str(venv / "bin/python"), "scripts/install_state.py", "check", "demo"]
            n = runs
        else:
            argv = [str(venv / "bin/python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-e", "."]
            subprocess.run(argv, cwd=c.root, check=True, capture_output=True)  # the first install
            n = 2
        for _ in range(n):
            t = time.perf_counter()
            subprocess.run(argv, cwd=c.root, check=True, capture_output=True)
            out.setdefault(c.name, []).append(time.perf_counter() - t)
    return out


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.0f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--base", default="a1d443d", help="the commit to compare with (default: a1d443d)")
    ap.add_argument("--no-base", action="store_true", help="measure this checkout only")
    ap.add_argument("--no-tui", action="store_true", help="skip the TUI's first frame")
    ap.add_argument("--demo", action="store_true",
                    help="also scripts/demo's install step and `replydesk demo` to its first rows (slow)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="replydesk-bench-start-"))
    base_tree = work / "base-tree"
    checkouts = []
    try:
        if not args.no_base:
            subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base_tree), args.base], cwd=ROOT,
                           check=True)
            checkouts.append(Checkout(f"base {args.base}", base_tree, work))
        checkouts.append(Checkout("this checkout", ROOT, work))
        print(f"preparing {len(checkouts)} store(s) in {work}", flush=True)
        for c in checkouts:
            c.prepare(args.size)

        floor = []
        for _ in range(args.runs):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            floor.append(time.perf_counter() - t)

        times: dict[tuple[str, str], list[float]] = {}
        for cmd in COMMANDS:
            for c in checkouts:
                c.run(cmd)  # a user's second command: caches warm, pages in the OS cache
            for _ in range(args.runs):
                for c in checkouts:
                    times.setdefault((c.name, " ".join(cmd)), []).append(c.run(cmd))

        if not args.no_tui:
            engines = [c.start_engine() for c in checkouts]
            try:
                for c in checkouts:
                    c.tui_first_rows()
                for _ in range(max(3, args.runs // 2)):
                    for c in checkouts:
                        times.setdefault((c.name, "(the TUI) first frame with rows, engine running"),
                                         []).append(c.tui_first_rows())
            finally:
                for e in engines:
                    e.terminate()
                    e.wait(30)

        if args.demo:
            for c in checkouts:
                c.demo_first_rows()
            for _ in range(3):
                for c in checkouts:
                    times.setdefault((c.name, "demo: `replydesk demo` to its first rows"), []).append(
                        c.demo_first_rows())
            for name, values in install_step(checkouts, work, args.runs).items():
                times[(name, "demo: scripts/demo's install step, installed already")] = values

        names = [c.name for c in checkouts]
        width = max(len(label) for _, label in times) + 2
        print(f"\nprocess start to exit, median of {args.runs} runs, {args.size:,} messages, 50 mailboxes")
        print(f"{'replydesk ...':<{width}}" + "".join(f"{n:>22}" for n in names))
        print(f"{'(python3 -c pass: the floor)':<{width}}" + f"{ms(floor):>22}" * len(names))
        for label in dict.fromkeys(label for _, label in times):
            print(f"{label:<{width}}" + "".join(f"{ms(times[(n, label)]):>22}" for n in names))
    finally:
        if base_tree.exists():
            subprocess.run(["git", "worktree", "remove", "--force", str(base_tree)], cwd=ROOT)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
