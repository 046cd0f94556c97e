"""``replydesk sequencers``: the sending platforms and webhooks decisions flow to.

    replydesk sequencers            each target, what waits, what was given up and why
    replydesk sequencers test       check each platform's key and its status mapping
    replydesk sequencers retry      give the deliveries given up another go
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from app.commands.common import open_config_and_store
from app.config import Config
from app.errors import ReplydeskError, UsageError
from app.mail.sanitize import one_line
from app.sequencers.dispatch import RetryLater, SequencerTarget, judge, sequencer_target, webhook_target
from app.sequencers.http import Request, Response, Unreachable, send
from app.sequencers.platforms import Refused


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", choices=("status", "test", "retry"), default="status",
                   help="status (default), test (each platform's key and mapping), retry (deliveries given up)")
    p.add_argument("--json", action="store_true", help="status as JSON lines")


def run(args: argparse.Namespace) -> int:
    config, store = open_config_and_store(args)
    if not config.sequencers and not config.webhooks:
        print("no sequencers or webhooks configured: add [[sequencers]] or [[webhooks]] to the config "
              "(see config.example.toml)", file=sys.stderr)
        return 1 if args.action == "test" else 0
    if args.action == "test":
        return asyncio.run(_test(config))
    if args.action == "retry":
        count = store.retry_dead()
        print(f"{count} deliveries will be tried again by the engine")
        return 0
    health = store.delivery_health()
    targets = [sequencer_target(s) for s in config.sequencers] + [webhook_target(w) for w in config.webhooks]
    worst = 0
    for target in targets:
        h = health.get(target)
        pending, dead, done = (h.pending, h.dead, h.done) if h else (0, 0, 0)
        error = one_line(h.last_error or "") if h else ""
        if args.json:
            import json
            print(json.dumps({"target": target, "pending": pending, "dead": dead, "done": done,
                              "last_error": error or None}))
        else:
            state = "given up: " + str(dead) if dead else ("waiting: " + str(pending) if pending else "ok")
            print(f"{target:<40} {state:<16} {done} delivered" + (f"  last error: {error}" if error else ""))
        worst = max(worst, 1 if dead else 0)
    return worst


async def _test(config: Config) -> int:
    failed = 0
    for seq in config.sequencers:
        target = SequencerTarget(seq)
        name = target.key
        try:
            key = await asyncio.to_thread(target.secret)
            platform = target.platform(key)

            async def send_one(request: Request, target: SequencerTarget = target) -> Response:
                response = await asyncio.to_thread(send, request, target.ca_file)
                return judge(response, 0.0)
            result = await platform.check(send_one)
        except (ReplydeskError, Refused, RetryLater, Unreachable) as exc:
            failed += 1
            print(f"✖ {name}: {one_line(str(exc))}")
            continue
        mapping = ", ".join(f"{cat}={'reset' if v is None else v}" for cat, v in sorted(platform.mapping.items()))
        print(f"✔ {name}: {result}; labels sent as {mapping}")
    for hook in config.webhooks:
        print(f"· webhook:{hook.key}: {hook.url} ({', '.join(hook.events)}; format {hook.format})")
    if failed:
        raise UsageError(f"{failed} sequencer(s) failed the test")
    return 0
