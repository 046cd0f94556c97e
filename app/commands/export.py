"""``replydesk export``: the suppression list (for the sending platform), the leads (for a CRM),
the inbox or the team's history (who did what, when), as CSV or JSON lines.

Prospects write the text that lands in these files, and spreadsheets run a cell that starts with
``=``, ``+``, ``-`` or ``@`` as a formula: in CSV such a cell is written with a leading ``'``."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any, TextIO

from app.commands.common import open_config_and_store
from app.errors import UsageError
from app.mail.categories import category_name, parse_category
from app.mail.sanitize import one_line
from app.store import Store

LEAD_CATEGORIES = ("interested", "meeting")
REPLY_CHARS = 1000


def _category(text: str) -> str:
    try:
        return parse_category(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _since(text: str) -> float:
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date or time such as 2026-12-01 or 2026-12-01T09:00, got {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=("suppressions", "leads", "messages", "activity"), nargs="?",
                   default="suppressions",
                   help="suppressions (default): bounced and unsubscribed addresses; leads: one row per "
                        "prospect whose latest reply is interested or meeting (or --category); "
                        "messages: the inbox; activity: who labelled, assigned, snoozed, noted, "
                        "suppressed and replied, and when")
    p.add_argument("--since", type=_since, metavar="ISO",
                   help="activity: only from this time on (ISO 8601; UTC unless it names a zone)")
    p.add_argument("--user", metavar="USER", help="activity: only what this user did")
    p.add_argument("--category", action="append", type=_category, metavar="CATEGORY",
                   help="only these categories (repeat for several), by name ('do not contact') or id: "
                        "for leads and messages")
    p.add_argument("--account", metavar="ID", help="only this mailbox (id or email): for leads and messages")
    p.add_argument("--domains", action="store_true",
                   help="suppressions: one row per domain whose addresses bounced as host unknown "
                        "(the domain has no mail server), for a platform's domain blocklist")
    p.add_argument("--format", choices=("csv", "json"), default="csv", help="csv (default) or json lines")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")


def _iso(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat() if ts else ""


def _rows(store: Store, args: argparse.Namespace) -> tuple[list[str], list[dict[str, Any]]]:
    if args.what == "suppressions":
        return _suppressions(store.suppressions(), args.domains)
    if args.what == "activity":
        return ACTIVITY_COLUMNS, [{**asdict(r), "at": _iso(r.at), "counterpart": _reply_cell(r.counterpart),
                                   "subject": _reply_cell(r.subject), "detail": _reply_cell(r.detail)}
                                  for r in store.activity_rows(since=args.since, user=args.user)]
    if args.since is not None or args.user is not None:
        raise UsageError("--since and --user go with activity only")
    if args.domains:
        raise UsageError("--domains goes with suppressions only")
    account = _account_id(store, args.account)
    if args.what == "leads":
        leads = store.leads(args.category or LEAD_CATEGORIES, account)
        cols = ["email", "name", "category", "replied_at", "mailbox", "subject", "reply", "referral",
                "ooo_until", "answered", "note", "category_source", "message_id"]
        return cols, [{**r, "replied_at": _iso(r["replied_at"]), "reply": _reply_cell(r["reply"]),
                       "note": _reply_cell(r["note"]),
                       "answered": bool(r["answered"])} for r in leads]
    cols = ["id", "account", "from", "subject", "date", "kind", "category", "category_source", "seen"]
    rows = store.list_messages(account=account)
    if args.category:
        rows = [r for r in rows if r["category"] in args.category]
    return cols, [{**r, "date": _iso(r["sent_at"] or r["received_at"])} for r in rows]


ACTIVITY_COLUMNS = ["at", "user", "action", "conversation", "counterpart", "subject", "detail", "waited"]
"""``action``: label, assign, unassign, snooze, unsnooze, note, suppress or reply; ``detail``: the
label, the assignee, the snooze's end, the suppressed address, the reply's subject (a note's text is
never exported); ``waited``: a reply's seconds since the prospect's message it answers."""

SUPPRESSION_COLUMNS = ["address", "reason", "bounce_reason", "bounce_type", "count", "first_seen", "last_seen",
                       "mailbox", "detail", "created_at"]
"""``reason``: why the address is on the list (hard_bounce, soft_bounce_repeated, complaint,
unsubscribe, do_not_contact); ``bounce_reason``: the failure's reason (user_unknown,
host_unknown, mailbox_full …); ``bounce_type``: hard or soft."""


def _suppressions(rows: list[Any], by_domain: bool) -> tuple[list[str], list[dict[str, Any]]]:
    if not by_domain:
        return SUPPRESSION_COLUMNS, [{
            **r, "bounce_type": "" if r["hard"] is None else ("hard" if r["hard"] else "soft"),
            "first_seen": _iso(r["first_seen"]), "last_seen": _iso(r["last_seen"]),
            "created_at": _iso(r["created_at"]), "mailbox": r["mailbox"] or ""} for r in rows]
    domains: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["bounce_reason"] != "host_unknown":
            continue
        domain = r["address"].rpartition("@")[2]
        d = domains.setdefault(domain, {"domain": domain, "reason": "host_unknown", "addresses": 0, "count": 0,
                                        "first_seen": r["first_seen"], "last_seen": r["last_seen"],
                                        "mailboxes": set()})
        d["addresses"] += 1
        d["count"] += r["count"]
        d["first_seen"] = min(d["first_seen"] or r["first_seen"], r["first_seen"] or d["first_seen"])
        d["last_seen"] = max(d["last_seen"] or 0, r["last_seen"] or 0) or None
        if r["mailbox"]:
            d["mailboxes"].add(r["mailbox"])
    cols = ["domain", "reason", "addresses", "count", "first_seen", "last_seen", "mailboxes"]
    return cols, [{**d, "first_seen": _iso(d["first_seen"]), "last_seen": _iso(d["last_seen"]),
                   "mailboxes": " ".join(sorted(d["mailboxes"]))} for _, d in sorted(domains.items())]


def _account_id(store: Store, wanted: str | None) -> str | None:
    if wanted is None:
        return None
    for acct in store.accounts():
        if wanted in (acct["id"], acct["email"]):
            return acct["id"]
    raise UsageError(f"no mailbox {wanted!r} in the database")


def _reply_cell(text: str | None) -> str:
    """A reply's new text for one cell: sanitized, folded to one line, capped."""
    flat = one_line(text or "")
    return flat if len(flat) <= REPLY_CHARS else flat[:REPLY_CHARS - 1] + "…"


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _write(out: TextIO, fmt: str, cols: list[str], rows: list[dict[str, Any]]) -> None:
    """A category is written by its name ('do not contact') for people and spreadsheets; JSON
    keeps the identifier scripts match on, with the name beside it."""
    named = "category" in cols
    if fmt == "json":
        for r in rows:
            item = {c: r.get(c) for c in cols}
            if named:
                item["category_name"] = category_name(r.get("category"))
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
        return
    writer = csv.DictWriter(out, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: _cell(category_name(r.get(c)) if c == "category" else r.get(c)) for c in cols}
                     for r in rows)


def run(args: argparse.Namespace) -> int:
    _, store = open_config_and_store(args)
    cols, rows = _rows(store, args)
    if args.output:
        try:
            with open(args.output, "w", newline="", encoding="utf-8") as fh:
                _write(fh, args.format, cols, rows)
        except OSError as exc:
            raise UsageError(f"{args.output}: cannot write: {exc.strerror}") from None
        print(f"{len(rows)} {args.what} written to {args.output}", file=sys.stderr)
    else:
        _write(sys.stdout, args.format, cols, rows)
    return 0
