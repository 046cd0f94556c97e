"""``replydesk due``: what is snoozed or waits for an answer, and when each comes back."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone

from app.commands.common import open_config_and_store
from app.mail.sanitize import one_line
from app.store.followups import woke_text
from app.when import add_business_days, describe, local_now

STATES = {"snooze": "snoozed", "out_of_office": "out of office", "no_answer": "waiting"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat() if ts is not None else None


def run(args: argparse.Namespace) -> int:
    config, store = open_config_and_store(args)
    general = config.general
    tz = general.tz()
    now = local_now(time.time(), tz)
    out = sys.stdout
    rows = store.due()
    if not rows and not args.json:
        print("nothing snoozed or waiting for an answer", file=sys.stderr)
    for row in rows:
        wakes = row["snoozed_until"]
        if wakes is None and row["waiting_since"] is not None and general.follow_up_days:
            # answered a moment ago: the engine has not scheduled the reminder yet
            wakes = add_business_days(local_now(row["waiting_since"], tz), general.follow_up_days).timestamp()
        state = "waiting" if row["waiting_since"] is not None else STATES.get(row["snooze_reason"] or "", "snoozed")
        item = {
            "conversation": row["id"], "account": row["account"], "email": row["counterpart"],
            "name": row["counterpart_name"], "subject": row["subject"], "state": state,
            "wakes_at": _iso(wakes), "waiting_since": _iso(row["waiting_since"]),
            "comes_back_as": woke_text(row["snooze_reason"], general.follow_up_days) if wakes else None,
            "note": row["note"] or None,
        }
        if args.json:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
        else:
            when = describe(local_now(wakes, tz), now) if wakes is not None else "not scheduled"
            who = one_line(row["counterpart_name"] or row["counterpart"])[:28]
            out.write(f"{when:<22} {state:<14} {who:<28} {one_line(row['subject'])[:60]}\n")
    return 0
