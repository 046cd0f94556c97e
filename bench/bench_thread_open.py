"""How long a thread takes to open with the newest reply's header and body on screen.

    python bench/bench_thread_open.py [--threads 30] [--turns 12] [--rounds 3] [--base REV]

Fills a fresh store with threads of ``turns`` rounds (our mail and theirs, 30 lines each with a
quoted history), drives the app headless with Pilot and opens every thread in turn. Two figures
per open:

- *on screen*: from the ``enter`` key until the first frame whose layout has the newest reply's
  header whole and at least a line of its body inside the thread's viewport (read from the
  screen's layout-refresh signal, which fires after each frame is composed). This is what the
  user waits for.
- *CPU*: the process's CPU time over the same span, steadier than the wall clock when the
  machine is loaded (the wall clock then also counts the time other processes had the CPU).
- *settled*: until Pilot's ``pause`` returns, i.e. the app has gone idle (later frames: the
  footer, the status bar). Pilot detects idleness in 20 ms sleeps, so this includes at least
  60 ms of its own waiting.

Each open is checked once: the newest reply's text is on screen when the app settles. Prints
p50, p95 and the worst, for a one-round thread (the floor: the screen, its footer and bars) and
for ``turns`` rounds. ``--base REV`` measures that commit too, in the same run (exported with
``git archive`` into a temporary directory), alternating base and current round by round so the
machine's load falls on both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fill(path: Path, threads: int, turns: int) -> None:
    from app.store import Store
    from tests.ui_seed import NOW, inbound, message, sent

    store = Store(path)
    store.ensure_account("ana", "ana@acme.io", "Ana Reyes")
    body = "\n".join(f"line {n} of what was said, with some words to wrap" for n in range(30))
    uid = 0
    for t in range(threads):
        first = f"<cold{t}@acme.io>"
        out, inn = [], []
        for n in range(turns):
            at = NOW - (t * 100 + (turns - n) * 2) * 60
            uid += 1
            out.append(sent(uid, message(first if n == 0 else f"<o{t}-{n}@acme.io>", f"Idea {t}", "ana@acme.io",
                                         to=f"p{t}@x.example", new_text=body,
                                         in_reply_to=None if n == 0 else first, at=at)))
            inn.append(inbound(uid, message(f"<r{t}-{n}@x.example>", f"Re: Idea {t}", f"p{t}@x.example",
                                            name=f"Prospect {t}", new_text=f"Newest words {t}-{n}\n" + body,
                                            quoted="> " + body.replace("\n", "\n> "), in_reply_to=first,
                                            at=at + 60), "reply", "interested"))
        store.add_messages("ana", out)
        store.add_messages("ana", inn)
    store.close()


def newest_in_sight(screen) -> bool:
    """The newest reply (the thread's last inbound message here) has its header whole and a line
    of its body inside the thread's viewport, as laid out for the frame just composed."""
    blocks = list(screen.query(".message.inbound"))
    threads = list(screen.query("#thread"))
    if not blocks or not threads:
        return False
    viewport = threads[0].region
    header = blocks[-1].query(".msg-header")
    body = blocks[-1].query(".msg-new")
    if not header or not body:
        return False
    return (viewport.contains_region(header.first().region)
            and viewport.intersection(body.first().region).height > 0)


async def drive(path: Path, threads: int, turns: int) -> dict[str, list[float]]:
    from app.ui import ReplydeskApp
    from app.ui.conversation import ConversationScreen
    from tests.ui_seed import NOW, screen_text

    on_screen: list[float] = []
    cpu: list[float] = []
    settled: list[float] = []
    shown: list[tuple[float, float]] = []
    app = ReplydeskApp(path, None, clock=lambda: NOW, tz=timezone.utc)

    def frame(screen) -> None:
        if not shown and isinstance(screen, ConversationScreen) and newest_in_sight(screen):
            shown.append((time.perf_counter(), time.process_time()))

    def screen_changed(screen) -> None:
        screen.screen_layout_refresh_signal.subscribe(app, frame, immediate=True)

    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen_change_signal.subscribe(app, screen_changed, immediate=True)
        for t in range(threads):
            shown.clear()
            started, started_cpu = time.perf_counter(), time.process_time()
            await pilot.press("enter")
            await pilot.pause()
            settled.append(time.perf_counter() - started)
            assert isinstance(app.screen, ConversationScreen)
            text = screen_text(app)
            assert f"Newest words {t}-{turns - 1}" in text, text
            assert shown, "the newest reply was never laid out in sight"
            on_screen.append(shown[0][0] - started)
            cpu.append(shown[0][1] - started_cpu)
            await pilot.press("escape", "j")
            await pilot.pause()
    return {"on_screen": on_screen, "cpu": cpu, "settled": settled}


def child(threads: int, turns: int) -> None:
    """One measurement in this process, with the app of the checkout on sys.path; JSON out."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        fill(path, threads, turns)
        got = asyncio.run(drive(path, threads, turns))
    print(json.dumps(got))


def run(code: Path, threads: int, turns: int) -> dict[str, list[float]]:
    env = {**os.environ, "TEXTUAL_ANIMATIONS": "none", "PYTHONPATH": str(code)}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--threads", str(threads),
                          "--turns", str(turns)], cwd=code, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def figures(timings: list[float]) -> str:
    timings = sorted(timings)
    p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
    return (f"p50 {statistics.median(timings) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms, "
            f"worst {timings[-1] * 1000:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=30)
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3, help="runs of every thread per checkout")
    parser.add_argument("--base", help="a commit to measure beside this checkout, e.g. main")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.threads, args.turns)
        return
    with tempfile.TemporaryDirectory() as folder:
        checkouts = {"this checkout": ROOT}
        if args.base:
            base = Path(folder) / "base"
            base.mkdir()
            archive = subprocess.run(["git", "archive", args.base], cwd=ROOT, check=True, capture_output=True)
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
            checkouts = {f"base {args.base}": base, **checkouts}
        results: dict[tuple[str, int], dict[str, list[float]]] = {}
        for _ in range(args.rounds):
            for turns in (1, args.turns):
                for name, code in checkouts.items():
                    got = run(code, args.threads, turns)
                    into = results.setdefault((name, turns), {key: [] for key in got})
                    for key, values in got.items():
                        into[key] += values
    for (name, turns), got in results.items():
        print(f"{name:>16}, {turns * 2:>2} messages a thread, {len(got['on_screen'])} opens:")
        print(f"    enter to header and body on screen  {figures(got['on_screen'])}")
        print(f"      the same, CPU time                {figures(got['cpu'])}")
        print(f"    enter to settled (Pilot's pause)    {figures(got['settled'])}")


if __name__ == "__main__":
    main()
