"""Reading a first sync's FETCH answers: the CPU the engine's IMAP protocol (aioimaplib with
``app.imap.protocol``'s fixes) spends on each message of a UID FETCH answer, from the bytes of a
read to the response's lines, then ``parse_fetch`` (the items and the body of each).

    python bench/bench_imap_read.py [--messages 2000] [--read 16384] [--rounds 7] [--base REF]

The answer is written as Dovecot writes it (UID FLAGS INTERNALDATE RFC822.SIZE and the body as a
literal) around prospects' short replies (tests.conftest.build_message), and handed to the
protocol in reads of ``--read`` bytes (an SSL read gives at most 16 KiB). No server: what is
measured is this process's reading alone, the part of a first sync's event loop that grows with
the mail. ``--base REF``: the same beside the tree of commit REF (a temporary git worktree), the
rounds of the two alternating in processes of their own. Prints the best round's CPU (thread
time) per message for the protocol and for ``parse_fetch``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
from checkouts import checkouts, code_first  # noqa: E402

code_first()

import aioimaplib  # noqa: E402
from replies import BODIES  # noqa: E402

from app.imap.protocol import FetchCommand, ImapProtocol  # noqa: E402
from app.imap.responses import parse_fetch  # noqa: E402
from tests.conftest import build_message  # noqa: E402


def answer(n: int) -> bytes:
    rnd = random.Random(7)
    out = []
    for i in range(1, n + 1):
        raw = build_message("me@sender.example", subject=f"Re: outreach {i}", body=rnd.choice(BODIES),
                            from_addr=f"Prospect {i} <p{i}@prospect{i % 97}.example>").as_bytes()
        out.append(b'* %d FETCH (UID %d FLAGS (\\Seen) INTERNALDATE "05-Dec-2026 10:44:30 +0000" RFC822.SIZE %d '
                   b"BODY[]<0> {%d}\r\n" % (i, i, len(raw), len(raw)) + raw + b")\r\n")
    return b"".join(out) + b"A1 OK Fetch completed.\r\n"


async def one_round(data: bytes, read: int, n: int) -> tuple[float, float]:
    """Thread CPU seconds of the protocol's reading of ``data`` and of ``parse_fetch``."""
    loop = asyncio.get_running_loop()
    proto = ImapProtocol(loop, loop.create_future())  # the connection's protocol, on no socket
    proto.state = aioimaplib.SELECTED
    command = FetchCommand("A1", "1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])", prefix="UID", loop=loop)
    proto.pending_async_commands["FETCH"] = command
    started = time.thread_time()
    for at in range(0, len(data), read):
        proto.data_received(data[at:at + read])
    reading = time.thread_time() - started
    await asyncio.wait_for(command.wait(), 10)
    started = time.thread_time()
    fetched = parse_fetch(command.response.lines)
    parsing = time.thread_time() - started
    if len(fetched) != n or any(f.body is None for f in fetched):
        raise SystemExit(f"read {len(fetched)} of {n} messages")
    return reading, parsing


def child(messages: int, read: int) -> None:
    data = answer(messages)
    rounds = [asyncio.run(one_round(data, read, messages)) for _ in range(3)]
    print(json.dumps({"read": min(r for r, _ in rounds), "parse": min(p for _, p in rounds)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--read", type=int, default=16384, help="bytes a read (default 16384)")
    ap.add_argument("--rounds", type=int, default=7, help="processes per tree, best of (default 7)")
    ap.add_argument("--base", help="a commit to measure beside this tree, e.g. main")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.messages, args.read)
        return
    with checkouts(args.base, "this tree") as trees:
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                out = subprocess.run([sys.executable, str(HERE), "--child", str(tree), "--messages",
                                      str(args.messages), "--read", str(args.read)],
                                     check=True, capture_output=True, text=True).stdout
                runs[name].append(json.loads(out.splitlines()[-1]))
    n = args.messages
    for name, rounds in runs.items():
        read = sorted(r["read"] for r in rounds)
        parse = sorted(r["parse"] for r in rounds)
        print(f"{name:16} {n} messages in reads of {args.read} bytes: the protocol "
              f"{read[0] / n * 1e6:5.1f} µs a message (rounds up to {read[-1] / n * 1e6:.1f}), "
              f"parse_fetch {parse[0] / n * 1e6:5.1f} µs (up to {parse[-1] / n * 1e6:.1f})")


if __name__ == "__main__":
    main()
