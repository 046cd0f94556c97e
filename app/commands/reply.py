"""``replydesk reply MESSAGE_ID (--body TEXT | --body-file F | --template NAME)``: answer a
message from the mailbox that received it.

The reply goes into the outbox first. With an engine running on the database it sends it (and
files the Sent copy, sets ``\\Answered``); this command waits for the outcome. With none, the
command does all of it itself. It exits 0 only once the server accepted the reply.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import sys
import time
from pathlib import Path

from app.commands.common import open_config_and_store
from app.config import Account, Config
from app.engine_lock import engine_lock_holder
from app.errors import ReplydeskError, UsageError
from app.imap.sent_lookup import finish_reply_on_server, message_in_sent
from app.mail import Address
from app.mail.compose import stored_original
from app.mail.sanitize import one_line
from app.mail.templates import fill_template, template_values
from app.replying import reply_to
from app.smtp.outbox import OutboxDrainer
from app.store import Store, is_postgres
from app.store.changes import watch
from app.store.leases import lease_owner
from app.store.lifecycle import OUTBOX_HELD, IllegalTransition, OutboxState
from app.store.rows import MessageRow, OutboxItem
from app.store.thread import StoreThread

FINAL = (OutboxState.SENT, OutboxState.FAILED, OutboxState.UNCERTAIN)
"""Where ``replydesk reply`` stops waiting: the server answered, or the user must decide."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("message", nargs="?", metavar="MESSAGE_ID",
                   help="the Message-ID header (angle brackets optional) or the id `list --json` prints")
    body = p.add_mutually_exclusive_group()
    body.add_argument("--body", metavar="TEXT", help="the reply text (the quote and signature are added)")
    body.add_argument("--body-file", metavar="F", help="read the reply text from F ('-' for stdin)")
    body.add_argument("--template", metavar="NAME",
                      help="a saved reply from the config's [templates], placeholders filled in")
    p.add_argument("--force", action="store_true",
                   help="reply even though the recipient is on the suppression list")
    p.add_argument("--resend", type=int, metavar="OUTBOX_ID",
                   help="send again a reply that failed or whose delivery is uncertain "
                        "(check first that the recipient does not have it)")
    p.add_argument("--delivered", type=int, metavar="OUTBOX_ID",
                   help="the recipient has a reply whose delivery was uncertain: record it as sent "
                        "(Sent copy, \\Answered) without sending it again")
    p.add_argument("--timeout", type=float, default=300, metavar="SECONDS",
                   help="how long to keep trying before leaving the reply queued (default 300)")


# -- composing -----------------------------------------------------------------------------

def queue_reply_to(config: Config, store: Store, row: MessageRow, body: str, *,
                   force: bool = False) -> int:
    """Compose the reply to a stored message from the account that received it, and put it in
    the outbox. Refuses a recipient on the suppression list unless ``force``."""
    if row["direction"] != "in":
        raise ReplydeskError(f"message {row['id']} is one this mailbox sent",
                             "reply to the prospect's message (see replydesk list --json)")
    reply = reply_to(config, row)
    suppressed = [r for r in reply.recipients if store.is_suppressed(r)]
    if suppressed and not force:
        raise ReplydeskError(f"{suppressed[0]} is on the suppression list", "use --force to reply anyway")
    # the whole text, as the compose screen keeps it: the screen reopens a reply that failed whole
    return reply.save(store, reply.text(body), send=True)


def template_reply(config: Config, row: MessageRow, name: str) -> str:
    """The saved reply ``name`` with the prospect's and the sending mailbox's details filled in."""
    if name not in config.templates:
        known = ", ".join(sorted(config.templates)) or "none yet"
        raise UsageError(f"no template {name!r} in the config (templates: {known})")
    account = config.account(row["account"])
    values = template_values(stored_original(row), Address(account.name, account.email), row.get("referral"))
    return fill_template(config.templates[name], values)


def _read_body(args: argparse.Namespace, config: Config, row: MessageRow) -> str:
    if args.body is not None:
        return args.body
    if args.template is not None:
        return template_reply(config, row, args.template)
    if args.body_file is None:
        raise UsageError("give the reply text with --body TEXT, --body-file F or --template NAME")
    try:
        if args.body_file == "-":
            return sys.stdin.read()
        return Path(args.body_file).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{args.body_file}: cannot read the reply text: {exc}") from None


# -- sending -------------------------------------------------------------------------------

def _engine_running(store: Store, db_path: Path | str, account: str) -> bool:
    """An engine sends this mailbox's replies: on SQLite the one engine (its lock), on a
    PostgreSQL store the engine holding the mailbox's lease."""
    if is_postgres(db_path):
        return account in store.lease_holders()
    return engine_lock_holder(db_path) is not None


async def _wait_for_engine(store: Store, db_path: Path | str, item_id: int, timeout: float) -> OutboxItem:
    """Until the engine (in ``replydesk sync``) has sent the item, given up on it, or ``timeout``:
    woken by the store's change signal, not a timer of our own."""
    deadline = time.monotonic() + timeout
    told = None
    with watch(db_path) as changes:
        while True:
            seen = changes.count
            item = store.outbox_item(item_id)
            assert item is not None
            left = deadline - time.monotonic()
            if item["state"] in FINAL or left <= 0:
                return item
            if item["last_error"] and item["last_error"] != told:
                told = item["last_error"]
                print(f"replydesk: not sent yet, retrying: {one_line(told)}", file=sys.stderr)
            await changes.wait(seen, left)


async def _keep_lease(db: StoreThread, owner: str, account: str, ttl: float) -> None:
    """Renew the mailbox's lease while this process sends from it. Lost (this process stalled
    past it and an engine took the mailbox), the drainer's fenced writes leave the reply to it."""
    while True:
        await asyncio.sleep(ttl / 3)
        with contextlib.suppress(sqlite3.Error):
            await db.call(Store.borrow_lease, owner, account, ttl)


async def send_here(config: Config, store: Store, db_path: Path | str, item_id: int, timeout: float,
                    owner: str | None = None) -> OutboxItem:
    """Without an engine: send the item (retrying 4xx and network errors until ``timeout``),
    then file the Sent copy and set ``\\Answered`` ourselves. On a store engines share
    (PostgreSQL), ``owner`` holds the item's mailbox by lease (``Store.borrow_lease``), so no
    engine takes the mailbox and its outbox while this process sends from it; given back after."""
    queued = store.outbox_item(item_id) if owner is not None else None
    only = {queued["account"]} if queued is not None else None
    drainer = OutboxDrainer(config, db_path, lookup_sent=message_in_sent,
                            accounts=None if only is None else (lambda: only), owner=owner)
    keeper = None
    if owner is not None and queued is not None:
        keeper = asyncio.create_task(_keep_lease(drainer.db, owner, queued["account"],
                                                 config.general.lease_seconds))
    deadline = time.monotonic() + timeout
    try:
        await drainer.recover()
        while True:
            item = await drainer.send_now(item_id)
            assert item is not None
            if item["state"] != "queued":
                break
            wait = (item["next_attempt_at"] or 0) - time.time()
            if time.monotonic() + wait >= deadline:
                break
            print(f"replydesk: not sent yet, retrying in {wait:.0f} s: {one_line(item['last_error'] or '')}",
                  file=sys.stderr)
            await asyncio.sleep(max(wait, 0))
        if item["state"] == "sent":
            account = config.account(item["account"])
            for problem in await finish_reply_on_server(account, drainer.db, item_id):
                # the reply is out; what is left stays a pending operation for the engine
                print(f"replydesk: sent, but {one_line(problem)} (replydesk sync finishes it)", file=sys.stderr)
        return item
    finally:
        if keeper is not None and owner is not None and queued is not None:
            keeper.cancel()
            with contextlib.suppress(sqlite3.Error):  # unreachable: it expires by itself
                await drainer.db.call(Store.release_leases, owner, [queued["account"]])
        await drainer.close()


def _report(item: OutboxItem) -> int:
    """The outcome as one line; the server's words are sanitized for the terminal."""
    state, item_id = item["state"], item["id"]
    item = {**item, "last_error": one_line(item["last_error"] or "")}
    if state == "sent":
        print(f"sent {item['message_id']} to {', '.join(item['recipients'])} from {item['account']}")
        return 0
    if state == "failed":
        raise ReplydeskError(f"not sent: {item['last_error']}",
                             f"the text is kept in the outbox as {item_id}; fix the cause, then "
                             f"replydesk reply --resend {item_id}")
    if state == "uncertain":
        raise ReplydeskError(f"delivery of outbox item {item_id} is uncertain: {item['last_error']}",
                             f"if the recipient does not have it: replydesk reply --resend {item_id}; "
                             f"if they do: replydesk reply --delivered {item_id}")
    raise ReplydeskError(f"not sent yet: {item['last_error'] or 'the server did not answer in time'}",
                         f"outbox item {item_id} stays queued and is sent by the engine (replydesk sync)")


async def _finish_on_server(config: Config, account: Account, item_id: int) -> list[str]:
    db = StoreThread(config.database)
    try:
        return await finish_reply_on_server(account, db, item_id)
    finally:
        await db.close()


def _delivered(config: Config, store: Store, item_id: int) -> int:
    item = store.outbox_item(item_id)
    if item is None or item["state"] != "uncertain":
        raise UsageError(f"outbox item {item_id} is not a reply whose delivery is uncertain")
    account = config.account(item["account"])
    try:
        store.record_delivered(item_id, append_to_sent=not account.smtp_saves_sent)
    except IllegalTransition as exc:  # moved on in another terminal meanwhile
        raise UsageError(str(exc)) from None
    if not _engine_running(store, config.database, account.id):
        for problem in asyncio.run(_finish_on_server(config, account, item_id)):
            print(f"replydesk: recorded, but {one_line(problem)} (replydesk sync finishes it)", file=sys.stderr)
    print(f"recorded {item['message_id']} as delivered")
    return 0


def run(args: argparse.Namespace) -> int:
    config, store = open_config_and_store(args)
    try:
        if args.delivered is not None:
            return _delivered(config, store, args.delivered)
        if args.resend is not None:
            if args.message or args.body is not None or args.body_file is not None or args.template:
                raise UsageError("--resend takes an outbox id only, no message or text")
            item = store.outbox_item(args.resend)
            if item is None or item["state"] not in OUTBOX_HELD:
                raise UsageError(f"outbox item {args.resend} is not a failed or uncertain reply")
            try:
                store.resend(args.resend)
            except IllegalTransition as exc:  # moved on in another terminal meanwhile
                raise UsageError(str(exc)) from None
            item_id = args.resend
        else:
            if not args.message:
                raise UsageError("which message? give its MESSAGE_ID (see replydesk list --json)")
            row = store.find_message(args.message)
            if row is None:
                raise ReplydeskError(f"no message {args.message!r} in the database",
                                     "see replydesk list --json for ids")
            body = _read_body(args, config, row)
            if not body.strip():
                raise UsageError("the reply text is empty")
            item_id = queue_reply_to(config, store, row, body, force=args.force)
        queued = store.outbox_item(item_id)
        owner = None
        if queued is None:
            here = False  # gone meanwhile: the wait reports its state
        elif is_postgres(config.database):
            # a store engines share: send here only while holding the mailbox's lease, which
            # fails where an engine holds it (it sends the reply) and keeps one from taking it
            owner = lease_owner("reply")
            here = store.borrow_lease(owner, queued["account"], config.general.lease_seconds)
        else:
            here = engine_lock_holder(config.database) is None
        if here:
            item = asyncio.run(send_here(config, store, config.database, item_id, args.timeout, owner))
        else:
            item = asyncio.run(_wait_for_engine(store, config.database, item_id, args.timeout))
        return _report(item)
    finally:
        store.close()
